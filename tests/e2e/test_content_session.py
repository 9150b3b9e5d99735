"""R-24 as now written, over the real bus: training approves plans whose stages list the R-7a
contents they cover; assessment learns them from its inbox, holds a session for one training
content, and on closing fines the trainer of the stages covering it, naming the content. The
failed stay on that trainer's list until each passes a later sitting: one fails again and stays,
the other passes and leaves.
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.helpers import (
    approve_once_placed,
    draft_once_known,
    enrol,
    known_to_assessment,
    sit,
)
from tests.support import ALL_CONTENT, mandatory_stages, ok, plan_stage, until

TRAINER = "tr-x"
FAILING, PASSING = ("t-c0", "t-c1"), ("t-c2", "t-c3")
TRAINEES = (*FAILING, *PASSING)
# Stage 5 teaches every R-7a content (R-7: whatever the trainee's level, its items are covered),
# so its trainer alone answers for a session on one of them.
CONTENT, ANSWERABLE = "fault_repair", TRAINER


def plan() -> list[dict[str, object]]:
    product = plan_stage(5, "product", "technical", TRAINER, "X1", covers=ALL_CONTENT)
    return [*mandatory_stages(covers=()), product]


@pytest.fixture
async def services(start):
    return await start("assessment", "training", "enrollment")


async def planned(enrollment, training, assessment) -> None:
    """The four enrolled, placed, their plans drafted and approved, and known to assessment."""
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    for trainee_id in TRAINEES:
        await enrol(enrollment, trainee_id, branch_id="bo-east", education="bachelor")
        path = f"/trainees/{trainee_id}/placement"
        await ok(enrollment.client.post(path, json={"written": 85}, headers=manager))
        await draft_once_known(training, trainee_id, plan())
        await approve_once_placed(training, trainee_id)
        await known_to_assessment(assessment, trainee_id)
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT count(DISTINCT trainee_id) = 4 FROM plan_stages_in_force"
            " WHERE covers ? $1 OR topic = $1",
            CONTENT,
        )
    )


async def open_for_content(assessment, session_id: str) -> None:
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    body = {"session_id": session_id, "content": CONTENT, "held_on": "2026-03-20"}
    opened = await ok(assessment.client.post("/sessions", json=body, headers=manager), 201)
    assert (opened["content"], opened["product_series"]) == (CONTENT, None)


async def owed(assessment, session_id: str) -> list[str] | None:
    management = assessment.as_("boss", Role.MANAGEMENT)
    board = await ok(
        assessment.client.get(f"/board/trainers?session_id={session_id}", headers=management)
    )
    return board["rows"][0]["retraining"] if board["rows"] else None


@pytest.mark.timeout(180)
async def test_a_fined_trainer_keeps_the_failed_of_a_content_session_until_they_pass(services):
    enrollment, training, assessment = (
        services[n] for n in ("enrollment", "training", "assessment")
    )
    await planned(enrollment, training, assessment)

    await open_for_content(assessment, "s-c")
    for trainee_id in TRAINEES:
        await sit(assessment, "s-c", trainee_id, "79" if trainee_id in FAILING else "95")
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    closed = await ok(assessment.client.post("/sessions/s-c/close", json={}, headers=manager))
    (penalty,) = closed["penalties"]  # the trainers of the other stages are not assessed
    assert (penalty["trainer_id"], penalty["content"], penalty["product_series"]) == (
        ANSWERABLE,
        CONTENT,
        None,
    )
    assert (penalty["failure_rate"], penalty["fine"]) == ("0.5", "200.00")
    assert f"content {CONTENT}" in penalty["rule_trace"][0]
    assert await until(lambda: owed(assessment, "s-c")) == list(FAILING)

    # A later sitting: t-c0 fails again and stays owed; t-c1 passes and leaves the list.
    await open_for_content(assessment, "s-c2")
    assert (await sit(assessment, "s-c2", FAILING[0], "70"))["type"] == "AssessmentFailed"
    assert (await sit(assessment, "s-c2", FAILING[1], "95"))["type"] == "GradeAssigned"
    await until(lambda: _is(owed(assessment, "s-c"), [FAILING[0]]))
    trainer = assessment.as_(ANSWERABLE, Role.TRAINER)
    listed = await ok(assessment.client.get(f"/trainers/{ANSWERABLE}/retraining", headers=trainer))
    assert [(i["trainee_id"], i["session_id"], i["content"]) for i in listed["items"]] == [
        (FAILING[0], "s-c", CONTENT)
    ]


async def _is(awaitable, expected) -> bool:
    return await awaitable == expected
