"""R-7/R-8a as the plan table shows them (``GET /plans/{trainee_id}``): the trainee's plan level,
its content items and what approval would still find missing, with the plan-content policy in
force on the reading's day."""

from __future__ import annotations

from starlette.requests import Request

from shared.events import JsonDict
from shared.requests import request_now

from .domain.coverage import plan_coverage
from .domain.state import TrainingPlan
from .policy.plan_content import PlanLevel, content_in_force
from .upstream import KnownTrainee


def shown_coverage(request: Request, state: TrainingPlan, trainee: KnownTrainee | None) -> JsonDict:
    level = trainee.plan_level if trainee is not None else None
    policy = content_in_force(request_now(request).date())
    return plan_coverage(state, PlanLevel(level) if level else None, policy)
