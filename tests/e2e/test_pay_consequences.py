"""What assessment and training decisions cost or pay, over the real bus: the apps run side by side
in one namespace (one exchange, a database each) with one pinned clock that the tests move on.

- A disputed grade corrected by a review re-grades the trainee (R-23); the month's payroll run
  again issues a corrected payslip beside the first, with the difference (R-32).
- A session in which 4 of a trainer's 10 trainees fail fines the trainer 150 (R-24, example E) in
  the month it closed (R-33); the trainer became known to assessment from the plans training
  published. A failed branch-commissioned trainee whose branch has it continue training costs the
  branch 200 per distinct training day on or after that disposition (R-18, R-19).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime

import pytest

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from shared.auth import Role
from tests.integration.assessment.helpers import delete_topology
from tests.support import (
    RunningService,
    consuming,
    long_secret,
    mandatory_stages,
    ok,
    plan_stage,
    register_branches,
    running,
    standard_branches,
)

DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")
PRACTICAL = ("96", "95", "97", "98", "94")  # mean 96 (example A)
FACTORIES = {
    "compensation": compensation_app,
    "assessment": assessment_app,
    "training": training_app,
    "enrollment": enrollment_app,
}
CONSUMERS = ("compensation", "assessment", "training")
MONTH = "2026-03"


class Clock:
    """The pinned ``now`` of every app (``app.state.clock``), moved on by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: str) -> None:
        self.now = datetime.combine(date.fromisoformat(day), self.now.timetz())


async def until(check, seconds=30):
    async with asyncio.timeout(seconds):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


@pytest.fixture
async def start(settings):
    """``await start(name, ...)`` runs those apps, consumers first, on one clock."""
    # Small pools and one partition per consumer: four apps share 2 cores and 100 connections.
    settings = long_secret(settings).model_copy(update={"pool_size": 3, "consumer_partitions": 1})
    clock = Clock()
    async with AsyncExitStack() as stack:

        async def starter(*names: str) -> tuple[dict[str, RunningService], Clock]:
            consumers = [n for n in names if n in CONSUMERS]
            stack.push_async_callback(delete_topology, settings, consumers)
            started = {}
            for name in sorted(names, key=lambda n: n not in CONSUMERS):
                app = FACTORIES[name](settings)
                app.state.clock = clock
                started[name] = await stack.enter_async_context(running(app, settings, name))
                if name in CONSUMERS:
                    await consuming(settings, name)
            return started, clock

        yield starter


async def enrol(enrollment, trainee_id, category, branch_id, series=()) -> None:
    body = {
        "trainee_id": trainee_id,
        "name": "王强",
        "category": category,
        "branch_id": branch_id,
        "education": "high_school",
        "experience_years": 4,
        "certificates": [],
        "product_series": list(series),
        "enrolled_on": "2026-02-27",
    }
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await register_branches(enrollment, standard_branches(branch_id))  # once; then 409
    await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)


async def sit(assessment, session_id, trainee_id, written) -> dict:
    """The six scores of one sitting (R-15, R-16); answers the decision the last one made."""
    client = assessment.client
    hr = assessment.as_("ex-hr", Role.EXAMINER, department="hr")
    body = {"trainee_id": trainee_id, "score": written}
    await ok(client.post(f"/sessions/{session_id}/written", json=body, headers=hr), 201)
    for department, score in zip(DEPARTMENTS, PRACTICAL, strict=True):
        examiner = assessment.as_(f"ex-{department}", Role.EXAMINER, department=department)
        body = {"trainee_id": trainee_id, "department": department, "score": score}
        path = f"/sessions/{session_id}/practical"
        sitting = await ok(client.post(path, json=body, headers=examiner), 201)
    return sitting["decision"]


async def open_session(assessment, session_id, series, held_on) -> None:
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    body = {"session_id": session_id, "product_series": series, "held_on": held_on}
    await ok(assessment.client.post("/sessions", json=body, headers=manager), 201)


async def run_payroll(pay, month=MONTH) -> dict:
    payroll = pay.as_("pay-1", Role.PAYROLL)
    return await ok(pay.client.post(f"/payroll/{month}/run", headers=payroll))


# --- a corrected grade --------------------------------------------------------------------------


async def test_a_corrected_grade_issues_a_corrected_payslip_beside_the_first(start):
    apps, clock = await start("compensation", "assessment", "enrollment")
    enrollment, assessment, pay = (apps[n] for n in ("enrollment", "assessment", "compensation"))
    await enrol(enrollment, "t-hq", "hq_full_time", "hq", ["X1", "X2", "X3"])
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT 1 FROM trainee_facts WHERE trainee_id = 't-hq' AND branch_id IS NOT NULL"
        )
    )

    await open_session(assessment, "s-hq", "X1", "2026-03-01")
    decision = await sit(assessment, "s-hq", "t-hq", "95")  # example A: 95.5
    assert (decision["position"], decision["level"]) == ("engineer", "intermediate")

    payroll = pay.as_("pay-1", Role.PAYROLL)

    async def rate_level(level):
        answer = await pay.client.get("/employees/t-hq/pay-rate", headers=payroll)
        return answer.status_code == 200 and answer.json()["level"] == level

    await until(lambda: rate_level("intermediate"))
    clock.set("2026-03-15")  # an early run of March: the whole month at the rate of the 1st
    first = await run_payroll(pay)
    assert first["issued"] == {
        "payslips": 1,
        "corrections": 0,
        "branch_fees": 0,
        "trainer_fines": 0,
    }
    (slip,) = first["payslips"]
    assert (slip["total"], slip["supersedes"]) == ("3200.00", None)  # 2240 + 960

    clock.set("2026-03-20")
    trainee = assessment.as_("t-hq", Role.TRAINEE)
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    dispute = await ok(
        assessment.client.post(
            "/trainees/t-hq/disputes", json={"reason": "written mis-marked"}, headers=trainee
        ),
        201,
    )
    resolved = await ok(
        assessment.client.post(
            f"/disputes/{dispute['dispute_id']}/resolve",
            json={"outcome": "corrected", "written": "99"},
            headers=manager,
        )
    )
    assert (resolved["grade"]["level"], resolved["grade"]["grade_score"]) == ("senior", "97.5")
    await until(lambda: rate_level("senior"))  # the correction's PayRateSet, from the 1st

    clock.set("2026-04-01")
    second = await run_payroll(pay)
    assert second["issued"] == {
        "payslips": 0,
        "corrections": 1,
        "branch_fees": 0,
        "trainer_fines": 0,
    }
    (correction,) = second["payslips"]
    # the correction replaces the disputed grade from the grade's own first day, so
    # the whole of March is paid at senior (3500) in a payslip beside the old one.
    assert correction["total"] == "3500.00"
    assert (correction["supersedes"], correction["difference"]) == (slip["payslip_id"], "300.00")

    month = await ok(pay.client.get(f"/payroll/{MONTH}", headers=payroll))
    assert [(p["payslip_id"], p["superseded"]) for p in month["history"]] == [
        (slip["payslip_id"], True),
        (correction["payslip_id"], False),
    ]
    (latest,) = month["payslips"]
    assert [(line["name"], line["amount"], line["rule"]) for line in latest["lines"]] == [
        ("position", "2450.00", "R-26"),  # 70 % of 3500
        ("performance", "1050.00", "R-27"),  # 30 % of 3500, rating 100 %
        ("travel_allowance", "0.00", "R-26"),  # no travel days recorded
    ]
    again = await run_payroll(pay)  # the same inputs: nothing new
    assert again["issued"] == {
        "payslips": 0,
        "corrections": 0,
        "branch_fees": 0,
        "trainer_fines": 0,
    }


# --- a session with 40 % failures, and a failed dealer trainee kept in training -----------------

TRAINER, SERIES, SESSION = "tr-x", "X", "s-x"
TRAINEES = [f"t-{i:02d}" for i in range(10)]
FAILING = TRAINEES[:4]  # 4 of tr-x's 10 trainees on X -> 40 %
DEALER = TRAINEES[0]  # branch-commissioned at dl-north, like all ten


PRODUCT_STAGE = plan_stage(5, "product", "technical", TRAINER, SERIES)
FULL_PLAN = [
    *mandatory_stages(),
    PRODUCT_STAGE,
]


async def draft(training, trainee_id, stages) -> None:
    """PUT /plans answers 404 until the enrolment has come over the bus; then it drafts."""
    manager = training.as_("mgr", Role.AFTER_SALES_MANAGER)

    async def attempt():
        answer = await training.client.put(
            f"/plans/{trainee_id}", json={"stages": stages}, headers=manager
        )
        assert answer.status_code in (200, 404), answer.text
        return answer.status_code == 200

    await until(attempt)


async def log_day(training, trainee_id, stage_no, trainer, day) -> None:
    body = {
        "date": day,
        "content": "fault finding on X",
        "method": "hands-on",
        "hours": "8",
        "performance": "slow",
        "effect": "improving",
    }
    path = f"/plans/{trainee_id}/stages/{stage_no}/days"
    headers = training.as_(trainer, Role.TRAINER)
    await ok(training.client.post(path, json=body, headers=headers), 201)


async def test_a_session_with_40_percent_failures_and_a_dealer_kept_in_training(start):
    apps, clock = await start("compensation", "assessment", "training", "enrollment")
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    clock.set("2026-03-02")
    for trainee_id in TRAINEES:
        await enrol(enrollment, trainee_id, "branch_commissioned", "dl-north")
    # Each trainee is tr-x's on series X: assessment learns it from the approved plans training
    # publishes (R-9: a plan in draft names no one answerable under R-24).
    for trainee_id in TRAINEES:
        await draft(training, trainee_id, FULL_PLAN)
        await ok(
            training.client.post(
                f"/plans/{trainee_id}/approve", json={}, headers=training.as_("vp", Role.EXEC_VP)
            )
        )
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT count(DISTINCT s.trainee_id) = $3 FROM plan_stages_in_force s JOIN trainee_facts f"
            " USING (trainee_id) WHERE s.trainer_id = $1 AND s.product_series = $2"
            " AND f.branch_id IS NOT NULL",
            TRAINER,
            SERIES,
            len(TRAINEES),
        )
    )

    clock.set("2026-03-20")
    await open_session(assessment, SESSION, SERIES, "2026-03-20")
    for trainee_id in TRAINEES:
        written = "79" if trainee_id in FAILING else "95"  # below 80 fails
        decision = await sit(assessment, SESSION, trainee_id, written)
        expected = "AssessmentFailed" if trainee_id in FAILING else "GradeAssigned"
        assert decision["type"] == expected, (trainee_id, decision)
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    closed = await ok(assessment.client.post(f"/sessions/{SESSION}/close", headers=manager))
    (penalty,) = closed["penalties"]
    assert (penalty["trainer_id"], penalty["trainees"], penalty["failed"], penalty["fine"]) == (
        TRAINER,
        10,
        4,
        "150.00",
    )
    disposed = await ok(
        assessment.client.post(
            f"/trainees/{DEALER}/disposition",
            headers=manager,
            json={"outcome": "continue_training", "reason": "the branch insists on more training"},
        )
    )
    assert (disposed["outcome"], disposed["decided_on"]) == ("continue_training", "2026-03-20")

    clock.set("2026-03-24")
    await log_day(training, DEALER, 5, TRAINER, "2026-03-19")  # before the disposition: free
    await log_day(training, DEALER, 5, TRAINER, "2026-03-20")
    await log_day(training, DEALER, 5, TRAINER, "2026-03-23")
    await log_day(training, DEALER, 1, "tr-hr", "2026-03-23")  # the same date again: one fee day

    async def compensation_heard_all():
        return await pay.pool.fetchval(
            "SELECT (SELECT count(*) FROM training_days WHERE trainee_id = $1) = 3"
            " AND (SELECT count(*) FROM dispositions WHERE trainee_id = $1) = 1"
            " AND (SELECT count(*) FROM trainer_penalties WHERE session_id = $2) = 1",
            DEALER,
            SESSION,
        )

    await until(compensation_heard_all)
    clock.set("2026-04-01")
    run = await run_payroll(pay)
    assert run["issued"] == {
        "payslips": 0,
        "corrections": 0,
        "branch_fees": 1,
        "trainer_fines": 1,
    }  # R-31: no pay for dealers' staff

    clerk = pay.as_("clerk", Role.BRANCH_CLERK, branch_id="dl-north")
    fees = await ok(pay.client.get(f"/branch-fees/{MONTH}", headers=clerk))
    assert fees["rows"] == [
        {
            "branch_id": "dl-north",
            "trainee_id": DEALER,
            "days": 2,
            "dates": ["2026-03-20", "2026-03-23"],
            "amount": "400.00",
        }
    ]
    fines = await ok(pay.client.get(f"/trainer-fines/{MONTH}", headers=pay.as_("p", Role.PAYROLL)))
    (fine,) = fines["rows"]
    assert (fine["trainer_id"], fine["session_id"], fine["product_series"]) == (
        TRAINER,
        SESSION,
        SERIES,
    )
    assert (fine["failure_rate"], fine["amount"]) == ("0.4", "150.00")
