"""The enrollment consumer: what training records of each trainee, exactly once, whatever the
order or the extra fields of the upstream events."""

from __future__ import annotations

from tests.integration.training.helpers import (
    TRAINEE,
    deliver,
    draft,
    enrolled,
    enrollment_envelope,
)


async def known(svc):
    row = await svc.pool.fetchrow(
        "SELECT trainee_id, name, category, branch_id, status, plan_level FROM known_trainees"
    )
    return None if row is None else dict(row)


def placed(version=2):
    data = {
        "trainee_id": TRAINEE,
        "written": "85",
        "practical": None,
        "average": "85",
        "position": "technician",
        "plan_level": "intermediate",
        "policy_version": "p-1",
        "rule_trace": ["R-6"],
        "scored_on": "2026-03-05",
    }
    return enrollment_envelope("PlacementExamScored", data, version)


def withdrawn(version=3):
    data = {"trainee_id": TRAINEE, "reason": "left", "withdrawn_on": "2026-03-09"}
    return enrollment_envelope("TraineeWithdrawn", data, version)


async def test_enrolment_placement_and_withdrawal_are_recorded_once_each(svc):
    enrolment = enrolled(hobby="chess")  # a field training does not know: ignored
    assert await deliver(svc, enrolment)
    assert not await deliver(svc, enrolment)  # redelivered: the inbox already holds it
    assert await known(svc) == {
        "trainee_id": TRAINEE,
        "name": "李娜",
        "category": "branch_commissioned",
        "branch_id": "dl-north",
        "status": "enrolled",
        "plan_level": None,
    }
    assert await deliver(svc, placed())
    assert ((await known(svc))["status"], (await known(svc))["plan_level"]) == (
        "placed",
        "intermediate",
    )
    assert await deliver(svc, withdrawn())
    assert (await known(svc))["status"] == "withdrawn"
    assert await svc.pool.fetchval("SELECT count(*) FROM inbox") == 3


async def test_a_late_enrolment_fills_the_profile_without_rolling_the_status_back(svc):
    """A dead-lettered TraineeEnrolled re-driven after the placement (ADR 0002)."""
    await deliver(svc, placed())
    assert await known(svc) is not None
    assert (await draft(svc)).status_code == 404  # not known until its enrolment: no branch yet
    await deliver(svc, enrolled())
    row = await known(svc)
    assert (row["branch_id"], row["status"], row["plan_level"]) == (
        "dl-north",
        "placed",
        "intermediate",
    )


async def test_events_training_does_not_use_are_kept_in_the_inbox_without_effect(svc):
    other = enrollment_envelope("TraineeRenamed", {"trainee_id": TRAINEE, "name": "x"})
    assert await deliver(svc, other)
    assert await known(svc) is None
    assert await svc.pool.fetchval("SELECT count(*) FROM inbox") == 1
