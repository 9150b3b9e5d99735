"""Given/When helpers for the training deciders: a standard plan, event and command builders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from services.training.domain.commands import (
    ApprovePlan,
    ConfirmTrainingDay,
    CountersignStage,
    DraftPlan,
    LogTrainingDay,
    ReturnStage,
    SignOffStage,
)
from services.training.domain.events import (
    PlanApproved,
    PlanDrafted,
    StageAssessed,
    StageReturned,
    StageSignedOff,
    StageSpec,
    TrainingCompleted,
    TrainingDayConfirmed,
    TrainingDayLogged,
)
from services.training.domain.plan import PLAN, TrainingPlan
from services.training.domain.remedial import LatestDisposition
from services.training.domain.vocabulary import Department, Topic
from services.training.policy.plan_content import PLAN_CONTENT, PlanContentPolicy, PlanLevel

TODAY = date(2026, 3, 16)
YESTERDAY = TODAY - timedelta(days=1)
TRAINEE = "t-1"
MANAGER = "mgr-1"
EXEC_VP = "vp-1"
# The plan-content policy the handler would resolve (R-7a, R-8a), and the level of the placement.
CONTENT: PlanContentPolicy = PLAN_CONTENT.in_force(TODAY)
LEVEL = PlanLevel.INTERMEDIATE


def items(level: PlanLevel) -> tuple[str, ...]:
    """R-7a: the content items of ``level`` (codes)."""
    return CONTENT.items(level)


def spec(no: int, topic: Topic, department: Department, trainer: str, series=None, **changes):
    fields = dict(
        no=no,
        content=f"stage {no}: {topic.value}",
        department=department,
        trainer_id=trainer,
        product_series=series,
        topic=topic,
        planned_start=date(2026, 3, 2),
        planned_end=date(2026, 3, 27),
    )
    fields.update(changes)
    return StageSpec(**fields)


# The standard plan: the four mandatory topics (R-8a), then three product stages; X1 is taught
# by two stages, X2 by one. Stage 5 covers every intermediate item (R-7a: the standard level),
# stage 6 the basic ones, stage 7 the advanced ones.
STAGES = (
    spec(1, Topic.COMPANY_PROCESSES, Department.HR, "tr-hr"),
    spec(2, Topic.DEPARTMENT_RESPONSIBILITIES, Department.HR, "tr-hr"),
    spec(3, Topic.TRAVEL_POLICY, Department.AFTER_SALES, "tr-as"),
    spec(4, Topic.APPRAISAL_RULES, Department.AFTER_SALES, "tr-as"),
    spec(5, Topic.PRODUCT, Department.TECHNICAL, "tr-tech", "X1", covers=items(LEVEL)),
    spec(6, Topic.PRODUCT, Department.PRODUCTION, "tr-prod", "X1", covers=items(PlanLevel.BASIC)),
    spec(7, Topic.PRODUCT, Department.TECHNICAL, "tr-tech", "X2", covers=items(PlanLevel.ADVANCED)),
)
ALL = tuple(s.no for s in STAGES)
# R-18a: the stage a remedial revision adds (more fault repair on X1 after a failed exam).
REMEDIAL = spec(8, Topic.PRODUCT, Department.TECHNICAL, "tr-tech", "X1", covers=("fault_repair",))


def trainer_of(no: int, stages=(*STAGES, REMEDIAL)) -> str:
    return next(s.trainer_id for s in stages if s.no == no)


def series_of(no: int) -> str | None:
    return next(s.product_series for s in (*STAGES, REMEDIAL) if s.no == no)


# --- Given: events -------------------------------------------------------------------------


def drafted(stages=STAGES, revision: int = 1, remedial: bool = False) -> PlanDrafted:
    return PlanDrafted(
        trainee_id=TRAINEE,
        revision=revision,
        stages=list(stages),
        drafted_by=MANAGER,
        remedial=remedial,
    )


def approved(revision: int = 1, actor: str = EXEC_VP, level=LEVEL) -> PlanApproved:
    return PlanApproved(
        trainee_id=TRAINEE,
        revision=revision,
        approved_by=actor,
        plan_level=level.value,
        policy_version=CONTENT.version,
    )


def in_force() -> list:
    """A drafted and approved standard plan."""
    return [drafted(), approved()]


def logged(no: int, on: date = YESTERDAY, hours: str = "8") -> TrainingDayLogged:
    return TrainingDayLogged(
        trainee_id=TRAINEE,
        stage_no=no,
        date=on,
        content="wiring diagrams",
        method="hands-on",
        hours=Decimal(hours),
        performance="attentive",
        effect="can read diagrams",
        trainer_id=trainer_of(no),
    )


def confirmed(no: int, on: date = YESTERDAY, agree: bool = True, comment=None):
    return TrainingDayConfirmed(
        trainee_id=TRAINEE, stage_no=no, date=on, agree=agree, comment=comment
    )


def assessed(no: int, assessment: str = "goal reached") -> StageAssessed:
    return StageAssessed(
        trainee_id=TRAINEE, stage_no=no, trainer_id=trainer_of(no), assessment=assessment
    )


def signed(no: int, disputed: bool = False, assessment: str = "goal reached") -> StageSignedOff:
    return StageSignedOff(
        trainee_id=TRAINEE,
        stage_no=no,
        trainer_id=trainer_of(no),
        product_series=series_of(no),
        assessment=assessment,
        disputed=disputed,
        comment=None,
    )


def signed_off(*nos: int) -> list:
    """Both signatures on each stage named."""
    return [event for no in nos for event in (assessed(no), signed(no))]


def returned(from_stage: int, to_stage: int, reason: str = "cannot read diagrams"):
    return StageReturned(
        trainee_id=TRAINEE,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        returned_by=trainer_of(from_stage),
    )


def completed() -> TrainingCompleted:
    return TrainingCompleted(trainee_id=TRAINEE, completed_on=TODAY)


def given(*events) -> TrainingPlan:
    flat = [e for item in events for e in (item if isinstance(item, list) else [item])]
    return PLAN.fold(flat)


def when(command, *events) -> list:
    """Then: the events the plan decides for ``command`` after ``events``."""
    return PLAN.decide(command, given(*events))


# --- When: commands ------------------------------------------------------------------------


def draft(stages=STAGES, actor: str = MANAGER, disposition=None) -> DraftPlan:
    """``disposition``: the trainee's latest (R-18a), e.g. ``disposed("continue_training")``."""
    return DraftPlan(
        trainee_id=TRAINEE,
        stages=tuple(stages),
        actor_id=actor,
        today=TODAY,
        content=CONTENT,
        disposition=disposition,
    )


def disposed(outcome: str, on: date = TODAY) -> LatestDisposition:
    return LatestDisposition(outcome, on)


def approve(actor: str = EXEC_VP, level: PlanLevel | None = LEVEL) -> ApprovePlan:
    """``level``: the trainee's plan level from its placement (R-7), None while unknown."""
    return ApprovePlan(
        trainee_id=TRAINEE, actor_id=actor, today=TODAY, content=CONTENT, plan_level=level
    )


def log_day(no: int, on: date = YESTERDAY, hours: str = "8", actor=None, content="wiring diagrams"):
    return LogTrainingDay(
        trainee_id=TRAINEE,
        stage_no=no,
        date=on,
        content=content,
        method=" hands-on ",
        hours=Decimal(hours),
        performance="attentive",
        effect="can read diagrams",
        actor_id=actor or trainer_of(no),
        today=TODAY,
    )


def confirm(no: int, on: date = YESTERDAY, agree: bool = True, comment=None, actor=TRAINEE):
    return ConfirmTrainingDay(
        trainee_id=TRAINEE,
        stage_no=no,
        date=on,
        agree=agree,
        comment=comment,
        actor_id=actor,
        today=TODAY,
    )


def sign_off(no: int, assessment: str = "goal reached", actor=None) -> SignOffStage:
    return SignOffStage(
        trainee_id=TRAINEE,
        stage_no=no,
        assessment=assessment,
        actor_id=actor or trainer_of(no),
        today=TODAY,
    )


def countersign(no: int, agree: bool = True, comment=None, actor=TRAINEE) -> CountersignStage:
    return CountersignStage(
        trainee_id=TRAINEE, stage_no=no, agree=agree, comment=comment, actor_id=actor, today=TODAY
    )


def send_back(from_stage: int, to_stage: int, reason="cannot read diagrams", actor=None):
    return ReturnStage(
        trainee_id=TRAINEE,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        actor_id=actor or trainer_of(from_stage),
        today=TODAY,
    )
