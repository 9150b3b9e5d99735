"""Request bodies of the training routes and the answers they give (docs/http.md, "training").

Every body refuses unknown fields and bounds every value, so a bad request is a 422 naming the
field before any command is built. What only the plan knows (stage order, dates in the future,
empty text after trimming) is checked by the decider, which names the field the same way.
"""

from __future__ import annotations

import datetime as dt  # a field is called ``date``: the module keeps the type's name free
from decimal import Decimal
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from shared.requests import NotBlank, RequestBody, decimal_schema

from .domain.events import StageSpec
from .domain.vocabulary import Department, PlanStatus, StageStatus, Topic
from .followup_rows import ConcernRow, SendBackRow

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]
TraineeIdPath = Annotated[str, Path(pattern=ID_PATTERN)]
TrainerIdPath = Annotated[str, Path(pattern=ID_PATTERN)]
StageNoPath = Annotated[int, Path(ge=1, le=999)]
StageNo = Annotated[int, Field(ge=1, le=999)]
Text = Annotated[str, Field(min_length=1, max_length=2000), NotBlank]  # trimmed, then required
Note = Annotated[str, Field(max_length=2000)]
# Above 0, at most 24, two decimals: "24", "7.5", "0.25"
_HOURS = r"^(24(\.00?)?|(0?[1-9]|1[0-9]|2[0-3])(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


class StageBody(Body):
    """One row of the plan table 培训计划表 (R-8)."""

    no: StageNo
    content: Annotated[str, Field(min_length=1, max_length=500), NotBlank]
    department: Department
    trainer_id: Id
    product_series: Annotated[str, Field(max_length=100)] | None = None
    topic: Topic
    covers: list[Annotated[str, Field(max_length=100)]] = Field(
        default=[],
        max_length=50,
        description="R-7a: the content items of the plan level this stage teaches (codes)",
    )
    planned_start: dt.date
    planned_end: dt.date

    def spec(self) -> StageSpec:
        return StageSpec(**self.model_dump())


class PlanBody(Body):
    stages: list[StageBody] = Field(min_length=1, max_length=100)


class ApproveBody(Body):
    pass


class DayBody(Body):
    """A daily record (R-10): what was taught, how, for how long, and how the trainee did."""

    date: dt.date
    content: Text
    method: Note
    hours: Annotated[
        Decimal,
        Field(gt=0, le=24, decimal_places=2),
        decimal_schema(_HOURS, 2, exclusiveMinimum=0, maximum=24),
    ]
    performance: Note
    effect: Note


class AgreementBody(Body):
    """The trainee's confirmation of a day or countersign of a stage; ``agree=false`` dissents."""

    agree: bool
    comment: Note | None = None


class SignOffBody(Body):
    assessment: Text  # 培训人评估


class ReturnBody(Body):
    to_stage: StageNo
    reason: Text


class DemeritBody(Body):
    reason: Text
    trainee_id: Id | None = None


# --- answers --------------------------------------------------------------------------------
# Hours go out as exact decimal strings; ``version`` is the stream version (the ETag).


class DayRow(BaseModel):
    """A daily record and the trainee's confirmation (``agree`` null: not confirmed yet)."""

    date: dt.date
    hours: str
    content: str
    method: str
    performance: str
    effect: str
    trainer_id: str
    confirmed: bool
    agree: bool | None
    comment: str | None


class StageRow(BaseModel):
    no: int
    content: str
    department: Department
    trainer_id: str
    product_series: str | None
    topic: Topic
    covers: list[str] = Field(description="R-7a content codes the stage teaches")
    planned_start: dt.date
    planned_end: dt.date
    status: StageStatus
    disputed: bool
    trainer_assessment: str | None
    countersigned: bool
    trainee_comment: str | None
    days: list[DayRow]
    send_backs: list[SendBackRow] = Field(description="R-12/R-12a, oldest first")


class PlanHead(BaseModel):
    trainee_id: str
    status: PlanStatus
    version: int
    revision: int
    approved_revision: int | None
    remedial: bool = Field(
        default=False, description="R-18a: the latest revision is a remedial one"
    )


class PlanTable(PlanHead):
    """The plan table 培训计划表 (``domain/plan_table.py``); ``revision`` counts the drafts."""

    stages: list[StageRow]
    mastered_series: list[str]
    concerns: list[ConcernRow] = Field(description="R-12b: cannot keep up, and the handling")


class NamedStageRow(StageRow):
    trainer_name: str = Field(description="the trainer's name; its id until its registration")


class ShownDisposition(BaseModel):
    outcome: str
    decided_on: dt.date


class NamedPlanTable(PlanHead):
    """The plan table as it is read, with the names people read beside the ids."""

    trainee_name: str = Field(description="the trainee's name (from its enrolment)")
    stages: list[NamedStageRow]
    mastered_series: list[str]
    concerns: list[ConcernRow] = Field(description="R-12b: cannot keep up, and the handling")
    plan_level: str | None = Field(description="R-6: from the placement; null until it arrives")
    content_policy: str = Field(description="the plan-content policy version in force (R-7a)")
    content_items: list[str] | None = Field(description="R-7a: the items of the plan level")
    content_missing: list[str] | None = Field(
        description="R-7: items of the level no stage covers yet; null while no plan level"
    )
    topics_missing: list[str] = Field(description="R-8a: mandatory topics no stage covers yet")
    disposition: ShownDisposition | None = Field(
        description="R-18: the trainee's latest disposition, as training learnt it"
    )
    remedial_due: bool = Field(
        description="R-18a: the completed plan awaits a remedial revision (continue_training)"
    )


class PlanListItem(BaseModel):
    """A plan as the queues list it (``GET /plans``); ``version`` is the ETag to approve with."""

    trainee_id: str
    trainee_name: str = Field(description="the trainee's name; its id until its enrolment")
    branch_id: str | None = Field(description="the trainee's branch; null until its enrolment")
    category: str | None = Field(description="the trainee's category; null until its enrolment")
    trainee_status: str | None = Field(
        description="enrolled, placed or withdrawn; null until the enrolment has arrived"
    )
    status: PlanStatus = Field(description="draft: awaiting approval (R-9)")
    revision: int
    approved_revision: int | None
    version: int
    drafted_by: str = Field(description="who drafted the latest revision")
    drafted_at: dt.datetime = Field(description="when the latest revision was drafted")


class PlanList(BaseModel):
    items: list[PlanListItem]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class DemeritAnswer(BaseModel):
    trainer_id: str
    demerits: int = Field(description="the trainer's demerits so far (R-13)")
    version: int


class TrainerStage(BaseModel):
    """One stage a trainer trains, in a plan in force, as its trainer's work list shows it."""

    trainee_id: str
    trainee_name: str = Field(description="the trainee's name; its id until its enrolment arrives")
    plan_status: PlanStatus
    plan_version: int = Field(description="the plan's version (its ETag): If-Match of a write")
    no: int
    content: str
    department: Department
    product_series: str | None
    topic: Topic
    covers: list[str] = Field(description="R-7a content codes the stage teaches")
    planned_start: dt.date
    planned_end: dt.date
    status: StageStatus
    days_logged: int
    hours_logged: str = Field(description="the hours of the days logged, an exact decimal")
    last_day: dt.date | None = Field(description="the latest day logged; null: none yet")
    days_unconfirmed: int = Field(description="days the trainee has not confirmed yet")
    days_dissented: int = Field(description="days the trainee disagreed with (R-10)")
    signed_by_trainer: bool = Field(description="the trainer has signed with its assessment")
    trainer_assessment: str | None
    countersigned: bool = Field(description="the trainee has countersigned: the stage is closed")
    disputed: bool = Field(description="countersigned in disagreement (R-11)")
    send_backs: list[SendBackRow] = Field(description="R-12/R-12a, oldest first")


class TrainerStagesPage(BaseModel):
    """``GET /trainers/{trainer_id}/stages``: a page of plans, each with the trainer's stages."""

    trainer_id: str
    items: list[TrainerStage]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class BranchProgress(BaseModel):
    """Trainees by plan status, and what went wrong, in one branch (R-10 to R-13)."""

    branch_id: str
    branch_name_zh: str = Field(description="the branch's Chinese name; its id until known")
    branch_name_en: str = Field(description="the branch's English name; its id until known")
    trainees: int
    without_plan: int
    draft: int
    approved: int
    completed: int
    withdrawn: int
    overdue_stages: int
    disputes: int
    send_backs: int


class TrainerTally(BaseModel):
    trainer_id: str
    trainer_name: str = Field(description="the trainer's name; its id until its registration")
    disputed_stages: int
    dissenting_days: int
    send_backs_received: int
    demerits: int


class ProgressBoard(BaseModel):
    as_of: dt.date
    branch_id: str | None = Field(description="the branch shown; null: every branch")
    rows: list[BranchProgress]
    trainers: list[TrainerTally]
