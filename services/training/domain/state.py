"""The TrainingPlan state and its ``evolve``: what the plan's events say, folded. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from shared.events import Event

from .events import (
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
from .followup_events import ConcernHandled, ReturnClosed, ReturnExplained, TraineeConcernNoted
from .vocabulary import PlanStatus, StageStatus


@dataclass(frozen=True)
class Day:
    """A daily record (R-10) and, once given, the trainee's confirmation or dissent."""

    logged: TrainingDayLogged
    confirmation: TrainingDayConfirmed | None = None


@dataclass(frozen=True)
class SendBack:
    """A send-back of the stage (R-12) and how it ended: a new sign-off, or an explanation the
    later stage's trainer accepted (R-12a), which gives the stage back the signatures it had."""

    returned: StageReturned
    prior_assessment: StageAssessed | None = None
    prior_sign_off: StageSignedOff | None = None
    explained: ReturnExplained | None = None
    closed: ReturnClosed | None = None


@dataclass(frozen=True)
class Concern:
    """R-12b: a trainer's note that the trainee cannot keep up, and the manager's handling."""

    noted: TraineeConcernNoted
    handled: ConcernHandled | None = None


@dataclass(frozen=True)
class Stage:
    spec: StageSpec
    days: tuple[Day, ...] = ()  # ordered by date
    assessment: StageAssessed | None = None  # the trainer's signature
    sign_off: StageSignedOff | None = None  # the trainee's countersign closes the stage
    reopened: bool = False  # sent back and not signed off again since
    send_backs: tuple[SendBack, ...] = ()  # oldest first (R-12, R-12a)

    @property
    def no(self) -> int:
        return self.spec.no

    @property
    def status(self) -> StageStatus:
        if self.sign_off is not None:
            return StageStatus.SIGNED_OFF
        return StageStatus.REOPENED if self.reopened else StageStatus.OPEN

    def day(self, on: dt.date) -> Day | None:
        return next((d for d in self.days if d.logged.date == on), None)

    @property
    def open_send_back(self) -> SendBack | None:
        """The send-back that holds the stage reopened (R-12), if any."""
        return self.send_backs[-1] if self.reopened and self.send_backs else None


@dataclass(frozen=True)
class TrainingPlan:
    trainee_id: str | None = None
    status: PlanStatus | None = None  # None: no plan drafted yet
    revision: int = 0
    approved_revision: int | None = None  # the last revision approved
    stages: tuple[Stage, ...] = ()  # of the latest revision, ordered by stage number
    # While a re-draft awaits approval: the stages of the revision still in force.
    held_stages: tuple[Stage, ...] = ()
    concerns: tuple[Concern, ...] = ()  # R-12b, oldest first
    remedial: bool = False  # the latest revision is a remedial one (R-18a)
    completed_on: dt.date | None = None  # the last time the training completed
    completed_specs: tuple[StageSpec, ...] = ()  # the stages it completed with (R-18a keeps them)

    def concern(self, concern_id: str) -> Concern | None:
        return next((c for c in self.concerns if c.noted.concern_id == concern_id), None)

    @property
    def approved_stages(self) -> tuple[Stage, ...]:
        """R-9: the stages of the revision in force, none before the first approval. Training is
        logged only against them, so they do not change while a re-draft awaits approval."""
        return self.held_stages if self.status is PlanStatus.DRAFT else self.stages

    def stage(self, no: int) -> Stage | None:
        return next((s for s in self.stages if s.no == no), None)

    def reopened_before(self, no: int) -> Stage | None:
        """The first reopened stage earlier than stage ``no`` (R-12 holds training there)."""
        return next((s for s in self.stages if s.no < no and s.reopened), None)

    def all_signed_off(self, but: int | None = None) -> bool:
        return all(s.sign_off is not None for s in self.stages if s.no != but)


def initial() -> TrainingPlan:
    return TrainingPlan()


def evolve(state: TrainingPlan, event: Event) -> TrainingPlan:
    match event:
        case PlanDrafted():
            return _redrafted(state, event)
        case PlanApproved():
            return replace(
                state, status=PlanStatus.APPROVED, approved_revision=event.revision, held_stages=()
            )
        case TrainingCompleted():
            return replace(
                state,
                status=PlanStatus.COMPLETED,
                completed_on=event.completed_on,
                completed_specs=tuple(s.spec for s in state.stages),
            )
        case TrainingDayLogged():
            return _with_stage(state, event.stage_no, lambda s: _logged(s, event))
        case TrainingDayConfirmed():
            return _with_stage(state, event.stage_no, lambda s: _confirmed(s, event))
        case StageAssessed():
            return _with_stage(state, event.stage_no, lambda s: replace(s, assessment=event))
        case StageSignedOff():
            return _with_stage(
                state, event.stage_no, lambda s: replace(s, sign_off=event, reopened=False)
            )
        case StageReturned():
            return _with_stage(state, event.to_stage, lambda s: _reopened(s, event))
        case ReturnExplained() | ReturnClosed():
            return _with_stage(state, event.stage_no, lambda s: _followed_up(s, event))
        case TraineeConcernNoted():
            return replace(state, concerns=(*state.concerns, Concern(event)))
        case ConcernHandled():
            return _concern_handled(state, event)
    return state


def _redrafted(state: TrainingPlan, event: PlanDrafted) -> TrainingPlan:
    """A stage drafted exactly as before keeps its days and signatures; others start open."""
    before = {s.spec: s for s in state.stages}
    return replace(
        state,
        trainee_id=event.trainee_id,
        status=PlanStatus.DRAFT,
        revision=event.revision,
        stages=tuple(before.get(spec, Stage(spec)) for spec in event.stages),
        held_stages=state.approved_stages,
        remedial=event.remedial,
    )


def _with_stage(state: TrainingPlan, no: int, change: Callable[[Stage], Stage]) -> TrainingPlan:
    return replace(state, stages=tuple(change(s) if s.no == no else s for s in state.stages))


def _logged(stage: Stage, event: TrainingDayLogged) -> Stage:
    days = sorted((*stage.days, Day(event)), key=lambda d: d.logged.date)
    return replace(stage, days=tuple(days))


def _confirmed(stage: Stage, event: TrainingDayConfirmed) -> Stage:
    days = tuple(
        replace(d, confirmation=event) if d.logged.date == event.date else d for d in stage.days
    )
    return replace(stage, days=days)


def _reopened(stage: Stage, event: StageReturned) -> Stage:
    """R-12: the signatures go (kept with the send-back, R-12a), the days stay."""
    send_back = SendBack(event, stage.assessment, stage.sign_off)
    return replace(
        stage,
        assessment=None,
        sign_off=None,
        reopened=True,
        send_backs=(*stage.send_backs, send_back),
    )


def _followed_up(stage: Stage, event: ReturnExplained | ReturnClosed) -> Stage:
    """R-12a: the explanation is kept with the open send-back; its acceptance closes it and the
    stage has its signatures back."""
    send_back = stage.open_send_back
    if send_back is None:
        return stage
    if isinstance(event, ReturnExplained):
        return replace(
            stage, send_backs=(*stage.send_backs[:-1], replace(send_back, explained=event))
        )
    closed = replace(send_back, closed=event)
    return replace(
        stage,
        assessment=send_back.prior_assessment,
        sign_off=send_back.prior_sign_off,
        reopened=False,
        send_backs=(*stage.send_backs[:-1], closed),
    )


def _concern_handled(state: TrainingPlan, event: ConcernHandled) -> TrainingPlan:
    concerns = tuple(
        replace(c, handled=event) if c.noted.concern_id == event.concern_id else c
        for c in state.concerns
    )
    return replace(state, concerns=concerns)
