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

import pytest

from shared.auth import Role
from tests.e2e.helpers import (
    HQ_TRAINEE,
    approved_plans,
    enrol,
    known_to_assessment,
    log_day,
    open_session,
    pay_rate,
    pinned_clock,
    run_payroll,
    sit,
)
from tests.support import enrolment, mandatory_stages, ok, plan_stage, until

MONTH = "2026-03"


@pytest.fixture
def clock():
    return pinned_clock()


def issued(payslips=0, corrections=0, branch_fees=0, trainer_fines=0) -> dict[str, int]:
    """What a payroll run says it issued."""
    return {
        "payslips": payslips,
        "corrections": corrections,
        "branch_fees": branch_fees,
        "trainer_fines": trainer_fines,
    }


# --- a corrected grade --------------------------------------------------------------------------


async def test_a_corrected_grade_issues_a_corrected_payslip_beside_the_first(start, clock):
    apps = await start("compensation", "assessment", "enrollment", clock=clock)
    enrollment, assessment, pay = (apps[n] for n in ("enrollment", "assessment", "compensation"))
    await enrol(enrollment, "t-hq", **HQ_TRAINEE, enrolled_on="2026-02-27")
    await known_to_assessment(assessment, "t-hq")

    await open_session(assessment, "s-hq", "X1", "2026-03-01")
    decision = await sit(assessment, "s-hq", "t-hq", "95")  # example A: 95.5
    assert (decision["position"], decision["level"]) == ("engineer", "intermediate")

    payroll = pay.as_("pay-1", Role.PAYROLL)

    async def rate_level(level):
        rate = await pay_rate(pay, "t-hq")
        return rate is not None and rate["level"] == level

    await until(lambda: rate_level("intermediate"))
    clock.set("2026-03-15")  # an early run of March: the whole month at the rate of the 1st
    first = await run_payroll(pay, MONTH)
    assert first["issued"] == issued(payslips=1)
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
    second = await run_payroll(pay, MONTH)
    assert second["issued"] == issued(corrections=1)
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
    again = await run_payroll(pay, MONTH)  # the same inputs: nothing new
    assert again["issued"] == issued()


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


async def test_a_session_with_40_percent_failures_and_a_dealer_kept_in_training(start, clock):
    apps = await start("compensation", "assessment", "training", "enrollment", clock=clock)
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    clock.set("2026-03-02")
    for trainee_id in TRAINEES:
        await enrol(enrollment, trainee_id, True, enrolled_on="2026-02-27", product_series=[])
    # Each trainee is tr-x's on series X.
    await approved_plans(training, assessment, TRAINEES, FULL_PLAN, TRAINER, SERIES)

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
    run = await run_payroll(pay, MONTH)
    assert run["issued"] == issued(
        branch_fees=1, trainer_fines=1
    )  # R-31: no pay for dealers' staff

    clerk = pay.as_("clerk", Role.BRANCH_CLERK, branch_id="dl-north")
    fees = await ok(pay.client.get(f"/branch-fees/{MONTH}", headers=clerk))
    shown = ("branch_id", "trainee_id", "trainee_name", "days", "dates", "amount")
    assert [{key: row[key] for key in shown} for row in fees["rows"]] == [
        {
            "branch_id": "dl-north",
            "trainee_id": DEALER,
            "trainee_name": enrolment(DEALER)["name"],  # beside the id, from its enrolment
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
