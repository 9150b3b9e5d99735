"""The upstream consumer: pay rates from grades exactly once, whatever the order of arrival."""

from __future__ import annotations

from tests.integration.compensation.upstream import (
    MONTH,
    amounts,
    count_events,
    deliver,
    disposed,
    enrolled,
    envelope,
    graded,
    payroll,
    payslips,
    run,
)


async def rate_of(svc, employee_id):
    answer = await svc.client.get(f"/employees/{employee_id}/pay-rate", headers=payroll(svc))
    return answer.json() if answer.status_code == 200 else answer.status_code


async def test_a_grade_that_overtakes_the_enrolment_is_applied_when_the_enrolment_arrives(svc):
    grade = graded("t-a", "engineer", "intermediate")
    assert await deliver(svc, grade) == [True]
    assert await rate_of(svc, "t-a") == 404  # category unknown: the grade waits
    assert await count_events(svc) == 0
    await deliver(svc, enrolled("t-a"))
    rate = await rate_of(svc, "t-a")
    assert (rate["monthly"], rate["grade_event_id"]) == ("3200.00", str(grade.event_id))


async def test_a_redelivered_grade_sets_the_rate_once(svc):
    grade = graded("t-a", "technician", "senior")
    assert await deliver(svc, enrolled("t-a"), grade, grade) == [True, True, False]
    assert await count_events(svc, "PayRateSet") == 1
    assert (await rate_of(svc, "t-a"))["monthly"] == "2900.00"


async def test_a_branch_commissioned_grade_sets_no_rate_r31(svc):
    await deliver(svc, enrolled("t-b", "branch_commissioned", "dl-north"))
    await deliver(svc, graded("t-b", "engineer", "junior"))
    assert await count_events(svc) == 0
    assert await rate_of(svc, "t-b") == 404
    assert (await run(svc)).json()["payslips"] == []


async def test_a_grade_without_position_or_a_reserve_disposition_is_the_reserve_rate_r30(svc):
    await deliver(svc, enrolled("t-a"), graded("t-a", None, None))  # eligible for nothing
    rate = await rate_of(svc, "t-a")
    assert (rate["position"], rate["level"], rate["monthly"], rate["lines"]) == (
        "reserve",
        None,
        None,
        [],
    )
    await deliver(svc, enrolled("t-w"), disposed("t-w", "workshop", "2026-04-02"))
    assert (await rate_of(svc, "t-w"))["position"] == "reserve"
    assert (await run(svc)).json()["payslips"] == []  # worker's treatment: nothing to pay


async def test_a_correction_into_a_failure_takes_the_grade_away_from_its_first_day_r23(svc):
    grade = graded("t-a", "engineer", "junior")
    await deliver(svc, enrolled("t-a"), grade)
    failed = {
        "trainee_id": "t-a",
        "session_id": "s-1",
        "failed_exams": ["written"],
        "written": "79",
        "practical": {},
        "practical_mean": "95",
        "policy_version": "g",
        "rule_trace": [],
        "review_flags": [],
        "assessed_at": "2026-04-16T08:00:00+00:00",
        "supersedes": str(grade.event_id),
        "dispute_id": "d-1",
    }
    await deliver(svc, envelope("assessment", "AssessmentFailed", failed, "assessment-s-1/t-a"))
    assert (await rate_of(svc, "t-a"))["position"] == "reserve"
    # The disputed grade was wrong from the start: no after-sales pay for any day of it.
    assert (await run(svc)).json()["payslips"] == []


async def test_other_upstream_events_land_in_the_inbox_without_effect(svc):
    scored = envelope("assessment", "ExamScored", {"trainee_id": "t-a", "score": "90"})
    withdrawn = envelope("enrollment", "TraineeWithdrawn", {"trainee_id": "t-a"})
    assert await deliver(svc, scored, withdrawn) == [True, True]
    assert await svc.pool.fetchval("SELECT count(*) FROM inbox") == 2
    assert await count_events(svc) == 0
    assert (await run(svc, month=MONTH)).status_code == 200


async def test_a_correction_arriving_before_the_grade_it_replaces_pays_as_in_order_r23_r32(svc):
    """A dead letter re-driven late, or a replay, delivers a correction before the grade it
    corrects: the month is paid exactly as when they arrive in order (R-23 with R-32)."""

    def grade_and_correction(trainee_id):
        original = graded(trainee_id, "engineer", "junior", "2026-03-05T10:00:00+00:00")
        correction = graded(
            trainee_id,
            "engineer",
            "senior",
            "2026-04-16T08:00:00+00:00",
            supersedes=str(original.event_id),
            dispute_id="d-" + trainee_id,
        )
        return original, correction

    in_order, reversed_ = grade_and_correction("t-in"), grade_and_correction("t-late")
    await deliver(svc, enrolled("t-in"), *in_order)
    await deliver(svc, enrolled("t-late"), *reversed(reversed_))
    assert (await run(svc)).status_code == 200

    slips = {p["employee_id"]: p for p in (await payslips(svc))["payslips"]}
    # The corrected grade from the disputed grade's first day: all of April at senior's 3500.
    senior = {"position": "2450.00", "performance": "1050.00", "travel_allowance": "0.00"}
    assert amounts(slips["t-in"]) == senior
    assert amounts(slips["t-late"]) == amounts(slips["t-in"])
    rate = await rate_of(svc, "t-late")
    assert (rate["grade_event_id"], rate["effective_from"]) == (
        str(reversed_[1].event_id),
        "2026-03-05",
    )
