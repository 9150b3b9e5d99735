"""Erasure across the four services over the real bus (issue 19, docs/privacy.md, ADR 0018).

A trainee is enrolled with a name and a certificate, trained (a day whose record and dissent
describe them), graded and paid; another trainee beside them is left alone. After the
administrator's ``POST /people/{id}/erasure``:

- no table of any service's database nor of the key database, no event payload, no message the
  bus carried, no log line and no export holds the name, the certificate or the texts, in clear
  or as UTF-8 bytes;
- the grade, the pay rate and the audit answer as before, and every store's hash chain verifies;
- each projection rebuilt from history equals the live one (the marker where the person was).
"""

from __future__ import annotations

import asyncio
import io
import zipfile

import aio_pika
import pytest

from services.assessment.app import PROJECTIONS as ASSESSMENT_PROJECTIONS
from services.compensation.app import PROJECTIONS as COMPENSATION_PROJECTIONS
from services.enrollment.app import PROJECTIONS as ENROLLMENT_PROJECTIONS
from services.training.app import PROJECTIONS as TRAINING_PROJECTIONS
from shared import db
from shared.auth import Role
from shared.eventstore import PostgresEventStore
from shared.keystore import KEYSTORE
from shared.personal import ERASED
from shared.projections import verify
from tests.e2e.helpers import (
    HQ_TRAINEE,
    enrol,
    known_to_assessment,
    log_day,
    open_session,
    pay_rate,
    pinned_clock,
    place,
    run_payroll,
    sit,
)
from tests.personal_data import found
from tests.support import mandatory_stages, ok, plan_stage, until

GONE, STAYS = "t-gone", "t-stays"
NAME, CERTIFICATE = "欧阳隐私甲", "焊工证书-PRIV-7731"
PERFORMANCE, DISSENT = "Slow-but-careful-7731", "Only-half-a-day-7731"
SECRETS = (NAME, CERTIFICATE, PERFORMANCE, DISSENT)
PROJECTIONS = {
    "enrollment": ENROLLMENT_PROJECTIONS,
    "training": TRAINING_PROJECTIONS,
    "assessment": ASSESSMENT_PROJECTIONS,
    "compensation": COMPENSATION_PROJECTIONS,
}
STAGES = [*mandatory_stages(), plan_stage(5, "product", "technical", "tr-tech", "X1")]


CLOCK = pinned_clock()  # 2026-03-01: enrolled and placed, then on to the days of training


@pytest.fixture
async def services(start):
    CLOCK.set("2026-03-01")
    return await start("compensation", "assessment", "training", "enrollment", clock=CLOCK)


def leaks(text: str) -> list[str]:
    """The secrets in ``text``, as they are or as the hex of their UTF-8 bytes (a bytea)."""
    return [s for s in SECRETS if s in text or s.encode().hex() in text]


async def everywhere(settings) -> dict[str, list[str]]:
    """Each database's secrets -> the tables holding them (tests/personal_data.found)."""
    held: dict[str, list[str]] = {}
    for name in (*PROJECTIONS, KEYSTORE):
        database = settings.database_name(name)
        conn = await db.connect(db.dsn_for_database(settings.pg_dsn, database))
        try:
            for secret, tables in (await found(conn, SECRETS)).items():
                held[f"{database}: {secret}"] = tables
        finally:
            await conn.close()
    return held


def workbook_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))


async def exports(services) -> str:
    """The spreadsheets people take away that name the trainee, as text."""
    training, pay = services["training"], services["compensation"]
    vp = training.as_("vp", Role.EXEC_VP)
    plan = await training.client.get(f"/plans/{GONE}/export.xlsx", headers=vp)
    assert plan.status_code == 200, plan.text
    payroll = pay.as_("pay-1", Role.PAYROLL)
    book = await pay.client.get("/payroll/2026-03/export.xlsx", headers=payroll)
    csv = await pay.client.get("/payroll/2026-03/export.csv", headers=payroll)
    assert book.status_code == 200 and csv.status_code == 200, (book.text, csv.text)
    return workbook_text(plan.content) + workbook_text(book.content) + csv.text


async def answers(services) -> dict[str, object]:
    """What the grade, the pay and the audit say of the erased trainee."""
    assessment = services["assessment"]
    auditor = assessment.as_("aud", Role.AUDITOR)
    grade = await ok(assessment.client.get(f"/trainees/{GONE}/grade", headers=auditor))
    audit = await ok(assessment.client.get(f"/trainees/{GONE}/audit", headers=auditor))
    rate = await pay_rate(services["compensation"], GONE)
    return {
        "grade": grade,
        "consistent": audit["consistent"],
        "derivations": audit["derivations"],
        "rate": rate,
    }


@pytest.mark.timeout(240)
async def test_after_erasure_nothing_holds_the_person_and_every_answer_stands(
    services, settings, capfd
):
    enrollment, training, assessment, pay = (
        services[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    async with await aio_pika.connect(settings.amqp_url) as bus:
        channel = await bus.channel()
        exchange = await channel.get_exchange(settings.exchange_name())
        heard = await channel.declare_queue(exclusive=True)
        await heard.bind(exchange, "#")  # every event any service publishes

        trainee = {**HQ_TRAINEE, "name": NAME, "certificates": [CERTIFICATE]}
        await enrol(enrollment, GONE, **trainee)
        await enrol(enrollment, STAYS, **HQ_TRAINEE)
        await place(enrollment, GONE)
        manager = training.as_("mgr", Role.AFTER_SALES_MANAGER)

        async def drafted() -> bool:
            answer = await training.client.put(
                f"/plans/{GONE}", json={"stages": STAGES}, headers=manager
            )
            return answer.status_code == 200

        await until(drafted)
        vp = training.as_("vp", Role.EXEC_VP)

        async def approved() -> bool:
            answer = await training.client.post(f"/plans/{GONE}/approve", json={}, headers=vp)
            return answer.status_code == 200

        await until(approved)
        CLOCK.set("2026-03-05")
        day = {
            "date": "2026-03-02",
            "content": "fault finding",
            "method": "hands-on",
            "hours": "8",
            "performance": PERFORMANCE,
            "effect": "improving",
        }
        tech = training.as_("tr-tech", Role.TRAINER)
        await ok(training.client.post(f"/plans/{GONE}/stages/5/days", json=day, headers=tech), 201)
        confirm = {"agree": False, "comment": DISSENT}
        me = training.as_(GONE, Role.TRAINEE)
        path = f"/plans/{GONE}/stages/5/days/2026-03-02/confirm"
        await ok(training.client.post(path, json=confirm, headers=me))
        await log_day(training, GONE, 1, "tr-hr", "2026-03-03")

        await known_to_assessment(assessment, GONE)
        await open_session(assessment, "s-priv", "X1", "2026-03-20")
        assert (await sit(assessment, "s-priv", GONE, "95"))["type"] == "GradeAssigned"
        await until(lambda: pay_rate(pay, GONE))
        await run_payroll(pay, "2026-03")

        # Before: the person is there to be found, so the scans below can fail.
        clerk = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
        shown = await ok(enrollment.client.get(f"/trainees/{GONE}", headers=clerk))
        assert shown["name"] == NAME and shown["certificates"] == [CERTIFICATE]
        assert NAME in await exports(services)
        assert await everywhere(settings), "the read models hold the name while the person lives"
        before = await answers(services)

        admin = enrollment.as_("admin-1", Role.ADMIN)
        erased = await enrollment.client.post(
            f"/people/{GONE}/erasure",
            json={"reason": "the trainee asked (PIPL Art. 47)"},
            headers=admin,
        )
        assert erased.status_code == 202, erased.text
        for service in services.values():
            await until(
                lambda s=service: s.pool.fetchval(
                    "SELECT 1 FROM proj_erasure.erased_people WHERE person_id = $1", GONE
                ),
                seconds=30,
            )
        await asyncio.sleep(0.5)  # the last projections' batches after the erasure

        assert await everywhere(settings) == {}
        shown = await ok(enrollment.client.get(f"/trainees/{GONE}", headers=clerk))
        assert shown["name"] == ERASED
        other = await ok(enrollment.client.get(f"/trainees/{STAYS}", headers=clerk))
        assert other["name"] == HQ_TRAINEE["name"]  # only the erased person is
        taken = await exports(services)
        assert leaks(taken) == [] and ERASED in taken
        assert await answers(services) == before

        for name, service in services.items():
            assert await PostgresEventStore(service.pool, name).verify() == [], name
            personal = service.app.state.personal
            for projection in PROJECTIONS[name]:
                differences = await verify(service.pool, name, projection, personal)
                assert differences == [], (name, projection.name, differences)

        messages = []
        while (message := await heard.get(fail=False)) is not None:
            messages.append(message.body.decode())
            await message.ack()
    assert any(GONE in body for body in messages), "the bus carried the trainee's events"
    assert [leaks(body) for body in messages if leaks(body)] == []
    out, err = capfd.readouterr()
    assert leaks(out + err) == []
