"""A branch registered through the API is one like any other, over the real bus (issue 16, done
when): the organisation's administrator registers a dealer that is not one of the standard five,
and its trainees flow through training, assessment and compensation, each service learning the
branch from enrollment's events alone (R-2). The boards name it in Chinese and in English. Once
the branch is closed, a new enrolment there is a 409 (R-2) while its trainees' history and the
boards stay as they were.

Two branch-commissioned trainees of the new dealer (R-1): one passes and is graded (R-20); one
fails, continues training at the branch's cost (R-18, R-19) and is charged to it (R-31, R-33).
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.helpers import (
    approve_once_placed,
    draft_once_known,
    known_to_assessment,
    log_day,
    open_session,
    pinned_clock,
    place,
    run_payroll,
    sit,
)
from tests.support import enrolment, mandatory_stages, ok, plan_stage, until

BRANCH = {
    "branch_id": "dl-chengdu",
    "kind": "dealer",
    "name_zh": "成都经销商",
    "name_en": "Chengdu dealer",
}
NAMED = {
    "branch_id": "dl-chengdu",
    "branch_name_zh": "成都经销商",
    "branch_name_en": "Chengdu dealer",
}
GRADED, FAILED = "t-cd-1", "t-cd-2"
SESSION, SERIES, TRAINER = "s-cd", "X1", "tr-x"
PLAN = [*mandatory_stages(), plan_stage(5, "product", "technical", TRAINER, SERIES)]
MONTH = "2026-03"

pytestmark = pytest.mark.timeout(180)


def named(row: dict) -> dict:
    return {key: row[key] for key in NAMED}


async def enrol_at_the_new_branch(enrollment, trainee_id: str, **changes: object) -> None:
    body = enrolment(trainee_id, branch_id=BRANCH["branch_id"], enrolled_on="2026-02-27", **changes)
    clerk = enrollment.as_("clerk-cd", Role.BRANCH_CLERK, branch_id=BRANCH["branch_id"])
    await ok(enrollment.client.post("/trainees", json=body, headers=clerk), 201)


async def board_rows(svc, path: str, role: str, predicate) -> list[dict]:
    """The rows of a board filtered by the new branch, once ``predicate`` holds for them (the
    filter is a 422 until the service has learnt the branch over the bus)."""
    headers = svc.as_("boss", role)

    async def rows():
        answer = await svc.client.get(f"{path}?branch_id={BRANCH['branch_id']}", headers=headers)
        if answer.status_code == 422:
            return None
        assert answer.status_code == 200, answer.text
        found = answer.json()["rows"]
        return found if predicate(found) else None

    return await until(rows)


async def test_a_trainee_of_a_newly_registered_branch_flows_through_every_service(start):
    clock = pinned_clock()
    apps = await start("compensation", "assessment", "training", "enrollment", clock=clock)
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    clock.set("2026-03-02")
    admin = enrollment.as_("admin-org", Role.ADMIN)
    await ok(enrollment.client.post("/branches", json=BRANCH, headers=admin), 201)
    await enrol_at_the_new_branch(enrollment, GRADED, product_series=["X1", "X2", "X3"])
    await enrol_at_the_new_branch(enrollment, FAILED)

    # Training: the plans drafted and approved once placed.
    for trainee_id in (GRADED, FAILED):
        await place(enrollment, trainee_id)
        await draft_once_known(training, trainee_id, PLAN)
        approved = await approve_once_placed(training, trainee_id)
        assert approved["status"] == "approved"
    [progress] = await board_rows(
        training, "/board/progress", Role.MANAGEMENT, lambda rows: rows and rows[0]["approved"] == 2
    )
    assert named(progress) == NAMED
    assert progress["trainees"] == 2

    # Assessment: both sit; one is graded (R-20, example A's scores), one fails.
    clock.set("2026-03-20")
    for trainee_id in (GRADED, FAILED):
        await known_to_assessment(assessment, trainee_id)
    await open_session(assessment, SESSION, SERIES, "2026-03-20")
    graded = await sit(assessment, SESSION, GRADED, "95")
    assert (graded["type"], graded["position"], graded["level"]) == (
        "GradeAssigned",
        "technician",  # 2 years of experience cap a 95.5 below engineer
        "senior",
    )
    assert (await sit(assessment, SESSION, FAILED, "79"))["type"] == "AssessmentFailed"
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    disposition = {"outcome": "continue_training", "reason": "the dealer insists"}
    await ok(
        assessment.client.post(f"/trainees/{FAILED}/disposition", json=disposition, headers=manager)
    )
    [cell] = await board_rows(assessment, "/board/grades", Role.MANAGEMENT, bool)
    assert named(cell) == NAMED
    assert (cell["position"], cell["level"], cell["trainee_ids"]) == (
        "technician",
        "senior",
        [GRADED],
    )

    # Compensation: no pay for a dealer's staff; a day of continued training costs the
    # dealer 200 in the month of that day.
    clock.set("2026-03-23")
    await log_day(training, FAILED, 5, TRAINER, "2026-03-23")
    await until(
        lambda: pay.pool.fetchval(
            "SELECT (SELECT count(*) FROM training_days WHERE trainee_id = $1) = 1"
            " AND (SELECT count(*) FROM dispositions WHERE trainee_id = $1) = 1",
            FAILED,
        )
    )
    clock.set("2026-04-01")
    run = await run_payroll(pay, MONTH)
    assert (run["issued"]["payslips"], run["issued"]["branch_fees"]) == (0, 1)
    fees = await branch_fees(pay)
    assert [(named(r), r["trainee_id"], r["days"], r["amount"]) for r in fees] == [
        (NAMED, FAILED, 1, "200.00")
    ]

    # Closed: no new enrolment there; the history and the boards stay.
    closure = {"closed_on": "2026-04-01", "reason": "dealer contract ended"}
    closed = await ok(
        enrollment.client.post(
            f"/branches/{BRANCH['branch_id']}/close", json=closure, headers=admin
        )
    )
    assert closed["status"] == "closed"
    late = enrolment("t-cd-3", branch_id=BRANCH["branch_id"])
    clerk = enrollment.as_("clerk-cd", Role.BRANCH_CLERK, branch_id=BRANCH["branch_id"])
    refused = await enrollment.client.post("/trainees", json=late, headers=clerk)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/rules/R-2")
    profile = await ok(enrollment.client.get(f"/trainees/{GRADED}", headers=clerk))
    assert profile["branch_id"] == BRANCH["branch_id"]

    await until(lambda: closure_arrived(apps))
    [progress] = await board_rows(training, "/board/progress", Role.MANAGEMENT, bool)
    assert (named(progress), progress["trainees"]) == (NAMED, 2)
    [cell] = await board_rows(assessment, "/board/grades", Role.MANAGEMENT, bool)
    assert (named(cell), cell["trainee_ids"]) == (NAMED, [GRADED])
    assert [named(r) for r in await branch_fees(pay)] == [NAMED]


async def branch_fees(pay) -> list[dict]:
    clerk = pay.as_("clerk-cd", Role.BRANCH_CLERK, branch_id=BRANCH["branch_id"])
    return (await ok(pay.client.get(f"/branch-fees/{MONTH}", headers=clerk)))["rows"]


async def closure_arrived(apps) -> bool:
    """Every consuming service has learnt that the branch closed."""
    for name in ("training", "assessment", "compensation"):
        status = await apps[name].pool.fetchval(
            "SELECT status FROM branches WHERE branch_id = $1", BRANCH["branch_id"]
        )
        if status != "closed":
            return False
    return True
