"""Issue 19 in compensation: once a person's key is destroyed and enrollment's
PersonalDataErased is consumed, no table of the service's database holds their name, their
certificates or a text about them (the employee names table, the branch feed), the exports show
"[erased]" beside their ids, while the pay rate, the payroll and the branch fees are unchanged
("decisions, numbers and ids stay in clear, so grading, pay and audits never need a key"), the
store verifies and a rebuild of every projection equals the live one."""

from __future__ import annotations

import csv
import io
import uuid
from contextlib import AsyncExitStack

from services.compensation.app import PROJECTIONS
from services.compensation.consumers import HANDLER
from services.compensation.feed import BRANCH_FEED
from shared.inbox import handle_once, revealing
from shared.personal import ERASED, is_token
from shared.projections import verify
from tests.integration.compensation import feed_events
from tests.integration.compensation.upstream import (
    MONTH,
    day_logged,
    disposed,
    enrolled,
    graded,
    management,
    payroll,
    penalty,
    run,
)
from tests.organisation import staff_registered, teach_branches
from tests.personal_data import (
    enrolled_v2,
    erasure,
    found,
    producer_personal,
    projection_differences,
    sealed,
)
from tests.support import until

EMPLOYEE, COMMISSIONED = "张伟", "赵敏"
CERTIFICATES = ["叉车证"]
REASON = "赵敏 keeps missing the X2 practice"
CONCERN = "赵敏跟不上产品系列 X 的进度"
HANDLING = "给赵敏加训两天"
PERSONAL = [EMPLOYEE, COMMISSIONED, *CERTIFICATES, REASON, CONCERN, HANDLING]


async def deliver(svc, upstream, *envelopes):
    """Each event sealed as its producer stores it, through the consumer's handler (revealing,
    as the running consumer does) and the inbox."""
    personal = svc.app.state.personal
    for envelope in envelopes:
        envelope = await sealed(upstream, envelope)
        assert await handle_once(svc.pool, revealing(HANDLER, personal), envelope)


async def a_paid_month(svc, upstream):
    """t-a graded and paid (its payslip names it); t-f commissioned by bo-east, sent back to
    training with a reason, its training day charged to the branch, a trainer's concern noted
    and handled (the branch's feed shows the texts)."""
    await teach_branches(svc.pool, HANDLER, "hq", "bo-east")
    disposition = disposed("t-f", "continue_training", "2026-04-10")
    disposition = disposition._replace(data={**disposition.data, "reason": REASON})
    when = feed_events.at(12)
    concern = feed_events.concern("t-f", when, "bo-east")
    handled = feed_events.handled("t-f", when, "bo-east")
    await deliver(
        svc,
        upstream,
        enrolled_v2(enrolled("t-a", name=EMPLOYEE, certificates=CERTIFICATES)),
        graded("t-a", "engineer", "intermediate"),
        enrolled_v2(enrolled("t-f", "branch_commissioned", "bo-east", name=COMMISSIONED)),
        disposition,
        day_logged("t-f", "2026-04-11"),
        concern._replace(data={**concern.data, "text": CONCERN}),
        handled._replace(data={**handled.data, "handling": HANDLING}),
    )
    ran = await run(svc)
    assert ran.status_code == 200, ran.text


async def feed(svc):
    answer = await svc.client.get("/branches/bo-east/feedback", headers=management(svc))
    assert answer.status_code == 200, answer.text
    return {item["kind"]: item for item in answer.json()["items"]}


def texts(items):
    return (
        items["disposition"]["reason"],
        items["concern"]["text"],
        items["concern_handled"]["handling"],
        items["disposition"]["trainee_name"],
    )


async def numbers(svc):
    """The pay rate, the month's payslips and fees, without the names beside the ids."""
    rate = await svc.client.get("/employees/t-a/pay-rate", headers=payroll(svc))
    month = await svc.client.get(f"/payroll/{MONTH}", headers=payroll(svc))
    fees = await svc.client.get(f"/branch-fees/{MONTH}", headers=payroll(svc))
    assert {rate.status_code, month.status_code, fees.status_code} == {200}
    payslips = [
        {k: v for k, v in p.items() if k != "employee_name"} for p in month.json()["payslips"]
    ]
    rows = [{k: v for k, v in r.items() if k != "trainee_name"} for r in fees.json()["rows"]]
    return rate.json(), payslips, rows


async def exported(svc):
    """(employee id, name, total) of the payroll csv; (trainee id, name, amount) of the fees."""
    pay = await svc.client.get(f"/payroll/{MONTH}/export.csv", headers=payroll(svc))
    fees = await svc.client.get(
        f"/branch-fees/{MONTH}/export.csv", params={"header": "key"}, headers=payroll(svc)
    )
    assert pay.status_code == 200 and fees.status_code == 200

    def rows(answer):
        return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))

    return (
        [(r["员工编号"], r["姓名"], r["合计"]) for r in rows(pay)],
        [(r["trainee_id"], r["trainee_name"], r["amount"]) for r in rows(fees)],
    )


async def test_erased_people_keep_their_pay_and_fees_and_no_table_holds_their_data(svc):
    async with AsyncExitStack() as stack:
        upstream = await producer_personal(svc.settings, stack)
        await a_paid_month(svc, upstream)

        items = await until(lambda: _settled(svc, lambda i: i["concern"]["text"] == CONCERN))
        assert texts(items) == (REASON, CONCERN, HANDLING, COMMISSIONED)
        pay, fees = await exported(svc)
        assert pay == [("t-a", EMPLOYEE, "3200.00")] and fees[0][:2] == ("t-f", COMMISSIONED)
        before = await numbers(svc)
        # The scan below can fail: before the erasure the names are held in clear.
        held = await found(svc.pool, [EMPLOYEE, COMMISSIONED, CONCERN])
        assert "public.known_employees" in held[EMPLOYEE]
        assert "proj_branch_feed.entries" in held[CONCERN]
        inbox = await svc.pool.fetchval(
            "SELECT envelope -> 'data' ->> 'name' FROM inbox WHERE type = 'TraineeEnrolled' LIMIT 1"
        )
        assert is_token(inbox)  # the inbox keeps them as they came: sealed

        personal = svc.app.state.personal
        for person, version in (("t-a", 1), ("t-f", 1)):
            assert await personal.erase(person, "the person asked")
            await deliver(svc, upstream, erasure(person, version))
        await until(
            lambda: svc.pool.fetchval("SELECT count(*) = 2 FROM proj_erasure.erased_people")
        )
        items = await until(lambda: _settled(svc, lambda i: i["concern"]["text"] == ERASED))

        assert await found(svc.pool, PERSONAL) == {}
        assert texts(items) == (ERASED, ERASED, ERASED, ERASED)
        assert await numbers(svc) == before
        pay, fees = await exported(svc)
        assert pay == [("t-a", ERASED, "3200.00")]
        assert [row[:2] for row in fees] == [("t-f", ERASED)]
        assert await svc.app.state.store.verify() == []
        differences = await projection_differences(svc.pool, "compensation", PROJECTIONS, personal)
        assert differences == {p.name: [] for p in PROJECTIONS}
        assert {"branch_feed", "erasure"} <= set(differences)


async def test_a_text_about_an_erased_trainee_arriving_late_in_clear_stays_erased_in_the_feed(svc):
    """A disposition from before assessment sealed its reasons, re-driven from the dead letters
    after the trainee's erasure, carries its reason in clear: the feed keeps it erased, and a
    rebuild (the same events in the same order) gives the same tables. So does an enrolment
    re-driven in clear: the name beside the id stays erased."""
    await teach_branches(svc.pool, HANDLER, "bo-east")
    personal = svc.app.state.personal
    async with AsyncExitStack() as stack:
        upstream = await producer_personal(svc.settings, stack)
        trainee = enrolled("t-f", "branch_commissioned", "bo-east", name=COMMISSIONED)
        await deliver(svc, upstream, enrolled_v2(trainee))
        assert await personal.erase("t-f", "the person asked")
        await deliver(svc, upstream, erasure("t-f"))
    late = feed_events.disposed("t-f", feed_events.at(20), "bo-east")
    late = late._replace(data={**late.data, "reason": REASON})
    again = trainee._replace(event_id=uuid.uuid4())  # its enrolment too, name in clear
    for envelope in (late, again):
        assert await handle_once(svc.pool, revealing(HANDLER, personal), envelope)
    assert (
        await svc.pool.fetchval("SELECT name FROM known_employees WHERE employee_id = 't-f'")
        == ERASED
    )

    items = await until(lambda: _settled(svc, lambda i: True, {"disposition"}))
    assert (items["disposition"]["reason"], items["disposition"]["trainee_name"]) == (
        ERASED,
        ERASED,
    )
    assert "proj_branch_feed.entries" not in (await found(svc.pool, [REASON])).get(REASON, [])
    assert await verify(svc.pool, "compensation", BRANCH_FEED, personal) == []


async def test_an_erased_trainer_keeps_its_fines_and_its_name_reads_as_erased(svc):
    """Staff are people too: a trainer erased keeps its fine (a number, by its id), and the
    fines export shows "[erased]" beside the id; no table holds its name."""
    trainer = "孙老师傅"
    personal = svc.app.state.personal
    async with AsyncExitStack() as stack:
        upstream = await producer_personal(svc.settings, stack)
        await deliver(svc, upstream, staff_registered("tr-1", trainer))
        await deliver(svc, upstream, penalty("tr-1", "150", "2026-04-28"))
        assert (await run(svc)).status_code == 200

        async def fines():
            answer = await svc.client.get(
                f"/trainer-fines/{MONTH}/export.csv", params={"header": "key"}, headers=payroll(svc)
            )
            assert answer.status_code == 200, answer.text
            rows = csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")))
            return [(r["trainer_id"], r["trainer_name"], r["amount"]) for r in rows]

        assert await fines() == [("tr-1", trainer, "150.00")]
        assert "public.staff" in (await found(svc.pool, [trainer]))[trainer]
        assert await personal.erase("tr-1", "left the company")
        await deliver(svc, upstream, erasure("tr-1"))
        assert await fines() == [("tr-1", ERASED, "150.00")]
        assert await found(svc.pool, [trainer]) == {}


async def _settled(svc, check, kinds=frozenset({"disposition", "concern", "concern_handled"})):
    items = await feed(svc)
    return items if kinds <= set(items) and check(items) else None
