"""The TrainingPlan aggregate (stream ``plan-<trainee_id>``): R-8 to R-12, pure.

The state and ``evolve`` live in :mod:`.state`; this module decides (R-7 coverage in
:mod:`.coverage`, R-18a remedial revisions in :mod:`.remedial`). Checks run in this order:
the plan and stage exist (404), the actor is the stage's trainer or the trainee (403), the plan
is in force (R-9), training is not held behind a reopened stage (R-12), then the values (422) and
what was already done (409).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shared.decider import (
    Conflict,
    Decider,
    Forbidden,
    InvalidCommand,
    NotFound,
    RuleViolation,
    required_text,
)
from shared.events import Event

from ..policy.plan_content import PlanContentPolicy
from .commands import (
    ApprovePlan,
    ConfirmTrainingDay,
    CountersignStage,
    DraftPlan,
    LogTrainingDay,
    PlanCommand,
    ReturnStage,
    SignOffStage,
)
from .coverage import check_content, checked_covers
from .drafting import checked_stages, missing_topics
from .events import (
    PlanApproved,
    PlanDrafted,
    StageAssessed,
    StageReturned,
    StageSignedOff,
    TrainingCompleted,
    TrainingDayConfirmed,
    TrainingDayLogged,
)
from .remedial import is_remedial, may_redraft_completed
from .state import Day, Stage, TrainingPlan, evolve, initial
from .vocabulary import PlanStatus, StageStatus

__all__ = ["PLAN", "Day", "Stage", "TrainingPlan", "decide", "evolve", "initial", "stream_id"]

MAX_HOURS = Decimal(24)


def stream_id(trainee_id: str) -> str:
    return f"plan-{trainee_id}"


def decide(command: PlanCommand, state: TrainingPlan) -> list[Event]:
    match command:
        case DraftPlan():
            return _draft(command, state)
        case ApprovePlan():
            return _approve(command, state)
        case LogTrainingDay():
            return [_log_day(command, state)]
        case ConfirmTrainingDay():
            return [_confirm_day(command, state)]
        case SignOffStage():
            return [_sign_off(command, state)]
        case CountersignStage():
            return _countersign(command, state)
        case ReturnStage():
            return [_send_back(command, state)]
    raise TypeError(f"unknown command {command!r}")


PLAN = Decider(initial, evolve, decide)


def _draft(c: DraftPlan, state: TrainingPlan) -> list[Event]:
    may_redraft_completed(state, c.disposition)  # R-18a
    stages = checked_covers(checked_stages(c.stages), _policy(c.content))
    remedial = is_remedial(state, stages)
    reopened = state.status is PlanStatus.COMPLETED
    if state.status is not None and not reopened and stages == [s.spec for s in state.stages]:
        return []  # the same plan again (an idempotent PUT): no new revision, no new approval
    revision = state.revision + 1
    drafted = PlanDrafted(
        trainee_id=c.trainee_id,
        revision=revision,
        stages=stages,
        drafted_by=c.actor_id,
        remedial=remedial,
    )
    return [drafted]


def _approve(c: ApprovePlan, state: TrainingPlan) -> list[Event]:
    _existing(state)
    if state.approved_revision == state.revision:
        raise Conflict(f"revision {state.revision} of the plan is already approved")
    policy = _policy(c.content)
    specs = [s.spec for s in state.stages]
    missing = missing_topics(specs, policy.mandatory_topics)
    if missing:
        raise RuleViolation("R-8a", f"the plan does not cover: {', '.join(missing)}")
    check_content(specs, c.plan_level, policy)  # R-7, after R-8a
    approved = PlanApproved(
        trainee_id=c.trainee_id,
        revision=state.revision,
        approved_by=c.actor_id,
        plan_level=c.plan_level.value if c.plan_level else None,
        policy_version=policy.version,
    )
    events: list[Event] = [approved]
    if state.all_signed_off():  # a re-draft that only dropped the stages still open
        events.append(TrainingCompleted(trainee_id=c.trainee_id, completed_on=c.today))
    return events


def _policy(content: PlanContentPolicy | None) -> PlanContentPolicy:
    """The plan-content policy the command carries (handlers.with_upstream resolves it)."""
    if content is None:
        raise TypeError("the command carries no plan-content policy: resolve it in the handler")
    return content


def _log_day(c: LogTrainingDay, state: TrainingPlan) -> TrainingDayLogged:
    stage = _stage(state, c.stage_no)
    _trainer_of(stage, c.actor_id)
    _in_force(state)
    if state.status is PlanStatus.COMPLETED:  # any further day would be remedial
        detail = "the training is completed: a remedial revision must be approved first"
        raise RuleViolation("R-18a", detail)
    _not_held_back(state, stage)
    content = required_text("content", c.content, "R-10")
    _check_hours(c.hours)
    if c.date > c.today:
        raise InvalidCommand("date", f"{c.date} is in the future", "R-10")
    if stage.day(c.date) is not None:
        raise Conflict(f"stage {stage.no} already has a record for {c.date}")
    return TrainingDayLogged(
        trainee_id=c.trainee_id,
        stage_no=stage.no,
        date=c.date,
        content=content,
        method=c.method.strip(),
        hours=c.hours,
        performance=c.performance.strip(),
        effect=c.effect.strip(),
        trainer_id=c.actor_id,
    )


def _check_hours(hours: Decimal) -> None:
    if not hours.is_finite() or not Decimal(0) < hours <= MAX_HOURS:
        raise InvalidCommand("hours", f"{hours} is not more than 0 and at most 24", "R-10")


def _confirm_day(c: ConfirmTrainingDay, state: TrainingPlan) -> TrainingDayConfirmed:
    stage = _stage(state, c.stage_no)
    _the_trainee(state, c.actor_id)
    _in_force(state)
    day = _day(stage, c.date)
    if day.confirmation is not None:
        raise Conflict(f"the record of {c.date} in stage {stage.no} is already confirmed")
    return TrainingDayConfirmed(
        trainee_id=c.trainee_id,
        stage_no=stage.no,
        date=c.date,
        agree=c.agree,
        comment=_optional(c.comment),
    )


def _sign_off(c: SignOffStage, state: TrainingPlan) -> StageAssessed:
    stage = _stage(state, c.stage_no)
    _trainer_of(stage, c.actor_id)
    _in_force(state)
    _not_signed_off(stage)
    if stage.assessment is not None:
        raise Conflict(f"stage {stage.no} is already signed by its trainer; awaiting countersign")
    _not_held_back(state, stage)
    return StageAssessed(
        trainee_id=c.trainee_id,
        stage_no=stage.no,
        trainer_id=c.actor_id,
        assessment=required_text("assessment", c.assessment, "R-11"),
    )


def _countersign(c: CountersignStage, state: TrainingPlan) -> list[Event]:
    stage = _stage(state, c.stage_no)
    _the_trainee(state, c.actor_id)
    _in_force(state)
    _not_signed_off(stage)
    _not_held_back(state, stage)
    if stage.assessment is None:
        raise RuleViolation("R-11", f"the trainer has not signed stage {stage.no} yet")
    signed = StageSignedOff(
        trainee_id=c.trainee_id,
        stage_no=stage.no,
        trainer_id=stage.assessment.trainer_id,
        product_series=stage.spec.product_series,
        assessment=stage.assessment.assessment,
        disputed=not c.agree,
        comment=_optional(c.comment),
    )
    if not state.all_signed_off(but=stage.no):
        return [signed]
    return [signed, TrainingCompleted(trainee_id=c.trainee_id, completed_on=c.today)]


def _send_back(c: ReturnStage, state: TrainingPlan) -> StageReturned:
    if _existing(state).status is PlanStatus.COMPLETED:
        raise Conflict("the training is completed; no stage can be sent back")
    later = _stage(state, c.from_stage)
    _trainer_of(later, c.actor_id)
    _in_force(state)
    reason = required_text("reason", c.reason, "R-12")
    if c.to_stage >= c.from_stage:
        raise RuleViolation("R-12", f"stage {c.to_stage} is not earlier than stage {c.from_stage}")
    earlier = state.stage(c.to_stage)
    if earlier is None:
        raise InvalidCommand("to_stage", f"the plan has no stage {c.to_stage}", "R-12")
    if earlier.status is not StageStatus.SIGNED_OFF:
        raise RuleViolation("R-12", f"stage {earlier.no} is {earlier.status}, not signed off")
    return StageReturned(
        trainee_id=c.trainee_id,
        from_stage=later.no,
        to_stage=earlier.no,
        reason=reason,
        returned_by=c.actor_id,
    )


def _existing(state: TrainingPlan) -> TrainingPlan:
    if state.status is None:
        raise NotFound("no plan has been drafted for this trainee")
    return state


def _in_force(state: TrainingPlan) -> None:
    """R-9: training is logged only against an approved revision (a completed plan was one)."""
    if state.status is PlanStatus.DRAFT:
        pending = "a changed plan awaits" if state.approved_revision else "the plan awaits"
        raise RuleViolation("R-9", f"{pending} approval (revision {state.revision})")


def _stage(state: TrainingPlan, no: int) -> Stage:
    stage = _existing(state).stage(no)
    if stage is None:
        raise NotFound(f"the plan has no stage {no}")
    return stage


def _day(stage: Stage, on: dt.date) -> Day:
    day = stage.day(on)
    if day is None:
        raise NotFound(f"stage {stage.no} has no record for {on}")
    return day


def _trainer_of(stage: Stage, actor_id: str) -> None:
    if actor_id != stage.spec.trainer_id:
        raise Forbidden(f"stage {stage.no} is trained by another trainer")


def _the_trainee(state: TrainingPlan, actor_id: str) -> None:
    if actor_id != state.trainee_id:
        raise Forbidden("only the trainee may confirm or countersign its own plan")


def _not_signed_off(stage: Stage) -> None:
    if stage.sign_off is not None:
        raise Conflict(f"stage {stage.no} is already signed off")


def _not_held_back(state: TrainingPlan, stage: Stage) -> None:
    reopened = state.reopened_before(stage.no)
    if reopened is not None:
        detail = f"stage {reopened.no} was sent back and must be signed off before stage {stage.no}"
        raise RuleViolation("R-12", detail)


def _optional(value: str | None) -> str | None:
    return (value or "").strip() or None
