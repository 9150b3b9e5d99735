"""The plan level and the remedial revision over the real bus (apps side by side in one
namespace, one pinned clock):

- R-7: the approval waits for the placement enrollment publishes; a plan missing an item of the
  trainee's level is refused naming it, one covering them is approved.
- R-18a with R-19: a branch-commissioned trainee completes its plan, fails the exam and is kept in
  training (continue_training). Training learns the disposition from assessment; the manager
  drafts a remedial revision (the completed stages kept, one new stage), the executive
  vice-president approves it before the remedial day (R-9), and that day costs the branch 200;
  signing the new stage off completes the training again, and the trainee sits a later session.
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.helpers import (
    approve_once_placed,
    draft_once_known,
    enrol,
    known_to_assessment,
    log_day,
    open_session,
    pinned_clock,
    run_payroll,
    sit,
)
from tests.support import mandatory_stages, ok, plan_stage, until

pytestmark = pytest.mark.timeout(180)

TRAINEE, TRAINER, SERIES, SESSION = "t-rem", "tr-x", "X1", "s-rem"
INTERMEDIATE = [
    "circuit_principles",
    "mechanical_structure",
    "working_principle",
    "product_structure",
    "assembly",
    "maintenance",
    "program_install",
    "fault_analysis",
    "fault_repair",
]
DATES = {"planned_start": "2026-03-02", "planned_end": "2026-03-13"}


def plan(covers=INTERMEDIATE):
    product = plan_stage(5, "product", "technical", TRAINER, SERIES, covers=covers, **DATES)
    return [*mandatory_stages(covers=(), **DATES), product]


REMEDIAL_STAGE = plan_stage(
    6, "product", "technical", TRAINER, SERIES, "2026-03-23", "2026-03-31", ["fault_repair"]
)


async def complete(training, trainee_id, stages):
    """Every stage signed by its trainer and countersigned by the trainee (R-11)."""
    client = training.client
    for stage in stages:
        url = f"/plans/{trainee_id}/stages/{stage['no']}"
        trainer = training.as_(stage["trainer_id"], Role.TRAINER)
        body = {"assessment": "goal reached"}
        await ok(client.post(url + "/sign-off", json=body, headers=trainer))
        own = training.as_(trainee_id, Role.TRAINEE)
        table = await ok(client.post(url + "/countersign", json={"agree": True}, headers=own))
    return table


async def test_r7_r18a_r19_a_remedial_revision_approved_before_its_day_costs_the_branch(start):
    clock = pinned_clock()
    apps = await start("compensation", "assessment", "training", "enrollment", clock=clock)
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    clock.set("2026-03-02")
    await enrol(enrollment, TRAINEE, True, enrolled_on="2026-02-27", product_series=[])
    manager = training.as_("mgr", Role.AFTER_SALES_MANAGER)
    vp = training.as_("vp", Role.EXEC_VP)
    approve = f"/plans/{TRAINEE}/approve"

    # one intermediate item missing -> refused naming it (once the placement arrived)
    await draft_once_known(training, TRAINEE, plan(INTERMEDIATE[:-1]))

    async def refused_for_the_item():
        answer = await training.client.post(approve, json={}, headers=vp)
        assert answer.status_code == 409, answer.text
        return "placement" not in answer.text and answer.json()

    problem = await until(refused_for_the_item)
    assert problem["type"].endswith("/rules/R-7") and problem["detail"].endswith("fault_repair")
    await ok(training.client.put(f"/plans/{TRAINEE}", json={"stages": plan()}, headers=manager))
    await approve_once_placed(training, TRAINEE)
    clock.set("2026-03-13")
    assert (await complete(training, TRAINEE, plan()))["status"] == "completed"

    # The exam fails and the branch insists on more training (R-18: continue_training)
    await known_to_assessment(assessment, TRAINEE)
    clock.set("2026-03-20")
    await open_session(assessment, SESSION, SERIES, "2026-03-20")
    assert (await sit(assessment, SESSION, TRAINEE, "70"))["type"] == "AssessmentFailed"
    disposition = {"outcome": "continue_training", "reason": "the branch insists"}
    boss = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    path = f"/trainees/{TRAINEE}/disposition"
    await ok(assessment.client.post(path, json=disposition, headers=boss))

    # R-18a: the remedial revision is refused until training has learnt the disposition
    remedial = {"stages": [*plan(), REMEDIAL_STAGE]}

    async def drafted():
        answer = await training.client.put(f"/plans/{TRAINEE}", json=remedial, headers=manager)
        assert answer.status_code in (200, 409), answer.text
        return answer.json() if answer.status_code == 200 else None

    table = await until(drafted)
    assert (table["status"], table["remedial"], table["revision"]) == ("draft", True, 3)
    clock.set("2026-03-23")
    day = {"date": "2026-03-23", "content": "faults", "method": "bench", "hours": "8"}
    day |= {"performance": "slower", "effect": "improving"}
    url = f"/plans/{TRAINEE}/stages/6/days"
    early = await training.client.post(url, json=day, headers=training.as_(TRAINER, Role.TRAINER))
    assert early.status_code == 409 and early.json()["type"].endswith("/rules/R-9")
    approved = await ok(training.client.post(approve, json={}, headers=vp))
    assert approved["status"] == "approved"
    await log_day(training, TRAINEE, 6, TRAINER, "2026-03-23")

    # the remedial day costs the branch 200 in March
    async def compensation_heard():
        return await pay.pool.fetchval(
            "SELECT (SELECT count(*) FROM training_days WHERE trainee_id = $1) = 1"
            " AND (SELECT count(*) FROM dispositions WHERE trainee_id = $1) = 1",
            TRAINEE,
        )

    await until(compensation_heard)
    clock.set("2026-04-01")
    await run_payroll(pay, "2026-03")
    clerk = pay.as_("clerk", Role.BRANCH_CLERK, branch_id="dl-north")
    fees = await ok(pay.client.get("/branch-fees/2026-03", headers=clerk))
    assert [(r["trainee_id"], r["dates"], r["amount"]) for r in fees["rows"]] == [
        (TRAINEE, ["2026-03-23"], "200.00")
    ]

    # The remedial stage signed off: the training completes again, and the trainee sits a later
    # session (a fresh sitting, R-15/R-16) and passes.
    assert (await complete(training, TRAINEE, [REMEDIAL_STAGE]))["status"] == "completed"
    clock.set("2026-04-02")
    await open_session(assessment, "s-rem-2", SERIES, "2026-04-02")
    assert (await sit(assessment, "s-rem-2", TRAINEE, "85"))["type"] == "GradeAssigned"
