"""What the branch is told about its trainees, and what their training costs it, over the real bus
(R-2, R-12b, R-18, R-19, R-24, R-33): two branch-commissioned trainees of dl-north are enrolled,
planned and examined through the services; one passes (a grade), one fails and its branch keeps
it in training (a failure, a disposition); its trainer notes that it cannot keep up and the
manager handles the note (R-12b). The branch's feed shows all of it, newest first,
to its own clerk and to no other branch's; the month's fee and fine are assessed before the
payroll run and issued after it.
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.helpers import (
    approved_plans,
    enrol,
    log_day,
    open_session,
    pinned_clock,
    run_payroll,
    sit,
)
from tests.support import mandatory_stages, ok, plan_stage, until

MONTH = "2026-03"
TRAINER, SERIES, SESSION = "tr-x", "X", "s-x"
PASSING, FAILING = "t-pass", "t-fail"
PLAN = [*mandatory_stages(), plan_stage(5, "product", "technical", TRAINER, SERIES)]


@pytest.fixture
def clock():
    return pinned_clock()


async def feed(pay, branch="dl-north", headers=None):
    headers = headers or pay.as_("clerk-n", Role.BRANCH_CLERK, branch_id="dl-north")
    return await pay.client.get(f"/branches/{branch}/feedback", headers=headers)


async def test_the_branch_hears_every_result_and_pays_for_the_training_it_insists_on(start, clock):
    apps = await start("compensation", "assessment", "training", "enrollment", clock=clock)
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    clock.set("2026-03-02")
    # Example A's facts: 4 years in, three series mastered at enrolment.
    mastered = {"experience_years": 4, "product_series": ["X1", "X2", "X3"]}
    await enrol(enrollment, PASSING, True, name="周明", enrolled_on="2026-02-27", **mastered)
    await enrol(enrollment, FAILING, True, name="吴芳", enrolled_on="2026-02-27", product_series=[])
    await approved_plans(training, assessment, [PASSING, FAILING], PLAN, TRAINER, SERIES)

    # R-12b: the trainer notes that FAILING cannot keep up; the manager verifies and handles it.
    clock.set("2026-03-10")
    concerns = f"/plans/{FAILING}/concerns"
    trainer = training.as_(TRAINER, Role.TRAINER)
    body = {"stage_no": 5, "text": "跟不上进度"}
    noted = await ok(training.client.post(concerns, json=body, headers=trainer), 201)
    clock.set("2026-03-11")
    handling = {"verified": True, "handling": "加训两天"}
    path = f"{concerns}/{noted['concern_id']}/handling"
    mgr = training.as_("mgr", Role.AFTER_SALES_MANAGER)
    await ok(training.client.post(path, json=handling, headers=mgr))

    clock.set("2026-03-20")
    await open_session(assessment, SESSION, SERIES, "2026-03-20")
    assert (await sit(assessment, SESSION, PASSING, "95"))["type"] == "GradeAssigned"
    assert (await sit(assessment, SESSION, FAILING, "79"))["type"] == "AssessmentFailed"
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    closed = await ok(assessment.client.post(f"/sessions/{SESSION}/close", headers=manager))
    assert [p["fine"] for p in closed["penalties"]] == ["200.00"]  # 1 of 2 failed, 50 %
    body = {"outcome": "continue_training", "reason": "the branch insists on more training"}
    path = f"/trainees/{FAILING}/disposition"
    await ok(assessment.client.post(path, headers=manager, json=body))
    clock.set("2026-03-24")
    await log_day(training, FAILING, 5, TRAINER, "2026-03-23")  # 200 to the branch

    async def whole_feed():
        items = (await ok(feed(pay)))["items"]
        return items if len(items) == 5 and all(i["category"] for i in items) else None

    items = await until(whole_feed)
    assert [(i["kind"], i["trainee_id"]) for i in items] == [
        ("disposition", FAILING),
        ("failure", FAILING),
        ("grade", PASSING),
        ("concern_handled", FAILING),
        ("concern", FAILING),
    ]
    disposition, failure, grade, handling, concern = items
    assert (grade["trainee_name"], grade["position"], grade["level"]) == (
        "周明",
        "engineer",
        "intermediate",
    )
    assert (failure["trainee_name"], failure["failed_exams"]) == ("吴芳", ["written"])
    assert (disposition["outcome"], disposition["reason"]) == (body["outcome"], body["reason"])
    assert (concern["text"], handling["verified"], handling["handling"]) == (
        "跟不上进度",
        True,
        "加训两天",
    )
    other = pay.as_("clerk-s", Role.BRANCH_CLERK, branch_id="dl-south")
    assert (await feed(pay, headers=other)).status_code == 403

    await until(
        lambda: pay.pool.fetchval(
            "SELECT count(*) = 1 FROM training_days WHERE trainee_id = $1", FAILING
        )
    )
    payroll = pay.as_("pay-1", Role.PAYROLL)

    async def charges():
        fees = await ok(pay.client.get(f"/branch-fees/{MONTH}", headers=payroll))
        fines = await ok(pay.client.get(f"/trainer-fines/{MONTH}", headers=payroll))
        return [(r["amount"], r["status"]) for r in fees["rows"] + fines["rows"]]

    assessed = [("200.00", "assessed"), ("200.00", "assessed")]  # the fee, the fine
    assert await charges() == assessed
    clock.set("2026-05-01")
    await run_payroll(pay, "2026-04")  # a later month's run does not issue March's
    assert await charges() == assessed
    run = await run_payroll(pay, MONTH)
    assert (run["issued"]["branch_fees"], run["issued"]["trainer_fines"]) == (1, 1)
    assert await charges() == [("200.00", "issued"), ("200.00", "issued")]
