"""Events of the training service (published as ``training.<EventType>``).

Stream ``plan-<trainee_id>`` holds a trainee's plan (R-8 to R-12, R-14); stream
``trainer-<trainer_id>`` holds a trainer's demerits (R-13).

Personal fields (docs/privacy.md): the free texts written about or by the trainee (the day's
performance and effect, the trainee's comments and dissent, the trainer's assessment, a
send-back's reason), sealed with the trainee's key; a demerit's reason, with the trainer's.
Decisions, ids, dates, hours, stage numbers and the plan's content stay in clear.
"""

from __future__ import annotations

import datetime as dt  # a field is called ``date``: the module keeps the type's name free
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from shared.events import Event, EventRegistry
from shared.personal import PERSONAL, personal
from shared.policy_events import PolicyPublished

from .vocabulary import Department, Topic

registry = EventRegistry()
# A version of a policy this service applies, stream ``policy-<name>`` (shared.policy_store).
registry.register(PolicyPublished)


class StageSpec(BaseModel):
    """One row of the plan table 培训计划表 as drafted (R-8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    no: int
    content: str
    department: Department
    trainer_id: str
    product_series: str | None = None
    topic: Topic
    # R-7a: the content items of the plan level this stage teaches (codes of the policy
    # plan-content). A tuple so a spec stays hashable; on the wire it is a JSON list.
    covers: tuple[str, ...] = ()
    planned_start: dt.date
    planned_end: dt.date


@registry.register
class PlanDrafted(Event):
    """R-8: a (re)drafted plan; each revision replaces the previous one and needs approval (R-9)."""

    event_type = "PlanDrafted"
    trainee_id: str
    revision: int
    stages: list[StageSpec]
    drafted_by: str
    # R-18a: a remedial revision after ``continue_training``: the completed stages kept as they
    # were signed, new stages after them (domain/remedial.py).
    remedial: bool = False


@registry.register
class PlanApproved(Event):
    """R-9: the executive vice-president approved this revision; training may be logged."""

    event_type = "PlanApproved"
    trainee_id: str
    revision: int
    approved_by: str
    # R-7/R-7a: the level whose content the approval checked and the policy version it applied
    # (None on approvals recorded before R-7a).
    plan_level: str | None = None
    policy_version: str | None = None


@registry.register
class TrainingDayLogged(Event):
    """R-10: the stage's trainer logs a training day."""

    event_type = "TrainingDayLogged"
    data_subject = "trainee_id"
    trainee_id: str
    stage_no: int
    date: dt.date
    content: str
    method: str
    hours: Decimal
    performance: Annotated[str, PERSONAL]
    effect: Annotated[str, PERSONAL]
    trainer_id: str


@registry.register
class TrainingDayConfirmed(Event):
    """R-10: the trainee confirms a day; ``agree=False`` keeps the dissent (against the trainer)."""

    event_type = "TrainingDayConfirmed"
    data_subject = "trainee_id"
    trainee_id: str
    stage_no: int
    date: dt.date
    agree: bool
    comment: Annotated[str | None, PERSONAL]


@registry.register
class StageAssessed(Event):
    """R-11: the trainer's signature with the assessment 培训人评估; awaits the countersign."""

    event_type = "StageAssessed"
    data_subject = "trainee_id"
    trainee_id: str
    stage_no: int
    trainer_id: str
    assessment: Annotated[str, PERSONAL]


@registry.register
class StageSignedOff(Event):
    """R-11: the trainee countersigned; ``disputed``: it disagreed (counts against the trainer)."""

    event_type = "StageSignedOff"
    data_subject = "trainee_id"
    trainee_id: str
    stage_no: int
    trainer_id: str
    product_series: str | None
    assessment: Annotated[str, PERSONAL]
    disputed: bool
    comment: Annotated[str | None, PERSONAL]


@registry.register
class StageReturned(Event):
    """R-12: a later stage's trainer sent the trainee back; ``to_stage`` reopens."""

    event_type = "StageReturned"
    data_subject = "trainee_id"
    trainee_id: str
    from_stage: int
    to_stage: int
    reason: Annotated[str, PERSONAL]
    returned_by: str


@registry.register
class TrainingCompleted(Event):
    """R-11/R-14: every stage of the approved plan is signed off."""

    event_type = "TrainingCompleted"
    trainee_id: str
    completed_on: dt.date


@registry.register
class TrainerDemeritRecorded(Event):
    """R-13: a verified perfunctory trainer gets a demerit 记过."""

    event_type = "TrainerDemeritRecorded"
    trainer_id: str
    reason: Annotated[str, personal(subject="trainer_id")]  # about the trainer
    trainee_id: str | None
    recorded_by: str
    recorded_on: dt.date
