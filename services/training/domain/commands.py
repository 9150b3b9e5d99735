"""Commands of the training service: imperative, carrying ``today`` and the acting token subject.

``actor_id`` is the token's ``sub``: a trainer's id, or the trainee's own id (= ``trainee_id``).
Role checks (who may draft, approve, record demerits) belong to the HTTP layer; the deciders check
what only the aggregate knows: whose stage it is and whose plan it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..policy.plan_content import PlanContentPolicy, PlanLevel
from .events import StageSpec
from .remedial import LatestDisposition


@dataclass(frozen=True)
class DraftPlan:
    trainee_id: str
    stages: tuple[StageSpec, ...]
    actor_id: str
    today: dt.date
    # Resolved by the handler (handlers.with_upstream): the plan-content policy in force (R-7a
    # codes) and the trainee's latest disposition (R-18a).
    content: PlanContentPolicy | None = None
    disposition: LatestDisposition | None = None


@dataclass(frozen=True)
class ApprovePlan:
    trainee_id: str
    actor_id: str
    today: dt.date
    # Resolved by the handler (handlers.with_upstream): the plan-content policy in force and the
    # trainee's plan level from its placement, None while the placement has not arrived.
    content: PlanContentPolicy | None = None
    plan_level: PlanLevel | None = None


@dataclass(frozen=True)
class LogTrainingDay:
    trainee_id: str
    stage_no: int
    date: dt.date
    content: str
    method: str
    hours: Decimal
    performance: str
    effect: str
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class ConfirmTrainingDay:
    trainee_id: str
    stage_no: int
    date: dt.date
    agree: bool
    comment: str | None
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class SignOffStage:
    trainee_id: str
    stage_no: int
    assessment: str
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class CountersignStage:
    trainee_id: str
    stage_no: int
    agree: bool
    comment: str | None
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class ReturnStage:
    trainee_id: str
    from_stage: int
    to_stage: int
    reason: str
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class RecordDemerit:
    trainer_id: str
    reason: str
    trainee_id: str | None
    actor_id: str
    today: dt.date


PlanCommand = (
    DraftPlan
    | ApprovePlan
    | LogTrainingDay
    | ConfirmTrainingDay
    | SignOffStage
    | CountersignStage
    | ReturnStage
)
