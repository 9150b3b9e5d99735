"""What the plan table shows of the trainee's upstream facts (``GET /plans/{trainee_id}``): R-7/R-8a
(the plan level, its content items and what approval would still find missing, with the
plan-content policy in force on the reading's day) and R-18a (the latest disposition, and whether
the completed plan awaits its remedial revision)."""

from __future__ import annotations

from starlette.requests import Request

from shared.events import JsonDict
from shared.policy_store import shelf_of
from shared.requests import request_now

from .domain.coverage import plan_coverage
from .domain.remedial import LatestDisposition, remedial_due
from .domain.state import TrainingPlan
from .policy.plan_content import PlanLevel
from .upstream import KnownTrainee


async def shown_coverage(
    request: Request, state: TrainingPlan, trainee: KnownTrainee | None
) -> JsonDict:
    level = trainee.plan_level if trainee is not None else None
    policy = await shelf_of(request.app.state).in_force("plan_content", request_now(request).date())
    disposition = latest_disposition(trainee)
    return {
        **plan_coverage(state, PlanLevel(level) if level else None, policy),
        "disposition": None
        if disposition is None
        else {"outcome": disposition.outcome, "decided_on": disposition.decided_on.isoformat()},
        "remedial_due": remedial_due(state, disposition),
    }


def latest_disposition(known: KnownTrainee | None) -> LatestDisposition | None:
    """The trainee's latest disposition (R-18) as training learnt it, if any."""
    if known is None or known.disposition is None or known.disposition_on is None:
        return None
    return LatestDisposition(known.disposition, known.disposition_on)
