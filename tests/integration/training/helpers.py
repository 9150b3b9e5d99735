"""Helpers of the training HTTP tests: a trainee made known the way the bus would (through the
consumer handler and the inbox), a standard plan, principals, and waiting for the projection."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.training.consumers import handle_enrollment_event
from shared.auth import Role
from shared.inbox import handle_once
from tests.support import delivered, mandatory_stages, plan_stage

NOW = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
TRAINEE = "t-1"


def enrollment_envelope(event_type, data, version=1):
    stream = f"trainee-{data['trainee_id']}"
    return delivered(
        "enrollment", event_type, stream, data, version, at=NOW, branch_id=data.get("branch_id")
    )


def enrolled(trainee_id=TRAINEE, branch_id="dl-north", category="branch_commissioned", **extra):
    data = {
        "trainee_id": trainee_id,
        "name": "李娜",
        "category": category,
        "branch_id": branch_id,
        "education": "high_school",
        "experience_years": "2",
        "certificates": [],
        "product_series": ["X1"],
        "enrolled_on": "2026-03-01",
        **extra,
    }
    return enrollment_envelope("TraineeEnrolled", data)


async def deliver(svc, envelope) -> bool:
    """What the consumer does with a message from the bus: handler and inbox row, once."""
    return await handle_once(svc.pool, handle_enrollment_event, envelope)


async def enrol(svc, trainee_id=TRAINEE, plan_level="intermediate", **changes):
    """The trainee's enrolment and, unless ``plan_level`` is None, its placement (R-6): approval
    needs the plan level (R-7)."""
    await deliver(svc, enrolled(trainee_id, **changes))
    if plan_level is not None:
        await place(svc, trainee_id, plan_level)


def placed(trainee_id=TRAINEE, plan_level="intermediate", version=2):
    """The placement exam scored (R-6): the trainee's plan level, which approval needs (R-7)."""
    data = {
        "trainee_id": trainee_id,
        "written": "85",
        "practical": None,
        "average": "85",
        "position": "technician",
        "plan_level": plan_level,
        "policy_version": "p-1",
        "rule_trace": ["R-6"],
        "scored_on": "2026-03-05",
    }
    return enrollment_envelope("PlacementExamScored", data, version)


async def place(svc, trainee_id=TRAINEE, plan_level="intermediate"):
    await deliver(svc, placed(trainee_id, plan_level))


def stage(no, topic, department, trainer, series=None, start="2026-03-02", end="2026-03-27"):
    return plan_stage(no, topic, department, trainer, series, planned_start=start, planned_end=end)


def stages(**ends):
    """The four mandatory topics (R-8a) and one product stage; ``s1="2026-03-10"`` sets an end."""
    plan = [
        *mandatory_stages(planned_end="2026-03-27"),
        stage(5, "product", "technical", "tr-tech", "X1"),
    ]
    for key, end in ends.items():
        plan[int(key[1:]) - 1]["planned_end"] = end
    return plan


def manager(svc):
    return svc.as_("mgr", Role.AFTER_SALES_MANAGER)


def vp(svc):
    return svc.as_("vp", Role.EXEC_VP)


def trainer(svc, trainer_id):
    return svc.as_(trainer_id, Role.TRAINER)


def trainee(svc, trainee_id=TRAINEE):
    return svc.as_(trainee_id, Role.TRAINEE)


def clerk(svc, branch="dl-north"):
    return svc.as_("clerk-" + branch, Role.BRANCH_CLERK, branch_id=branch)


async def draft(svc, trainee_id=TRAINEE, plan=None, headers=None):
    return await svc.client.put(
        f"/plans/{trainee_id}",
        json={"stages": stages() if plan is None else plan},
        headers=headers or manager(svc),
    )


async def plan_in_force(svc, trainee_id=TRAINEE, plan=None):
    """An enrolled and placed trainee with a drafted and approved plan."""
    await enrol(svc, trainee_id)
    assert (await draft(svc, trainee_id, plan)).status_code == 200
    approved = await svc.client.post(f"/plans/{trainee_id}/approve", json={}, headers=vp(svc))
    assert approved.status_code == 200, approved.text


def day(date="2026-03-10", hours="7.5", **changes):
    body = {
        "date": date,
        "content": "wiring diagrams",
        "method": "hands-on",
        "hours": hours,
        "performance": "attentive",
        "effect": "reads diagrams",
    }
    body.update(changes)
    return body


async def post(svc, path, body, headers):
    return await svc.client.post(f"/plans/{TRAINEE}{path}", json=body, headers=headers)


async def event_count(svc) -> int:
    """The service's events besides its seeded policy streams (docs/policy.md)."""
    return await svc.pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_id NOT LIKE 'policy-%'"
    )


async def wait_projected(svc):
    """Until the progress projection has applied every stored event and inbox entry."""
    lag_sql = (
        "SELECT (SELECT coalesce(max(position), 0) FROM events)"
        " + (SELECT coalesce(max(seq), 0) FROM inbox)"
        " - (SELECT coalesce(sum(position), 0) FROM checkpoints"
        "    WHERE name LIKE 'projection:progress:%')"
    )
    async with asyncio.timeout(10):
        while await svc.pool.fetchval(lag_sql) != 0:
            await asyncio.sleep(0.05)
