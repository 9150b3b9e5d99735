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
from .vocabulary import PlanStatus, StageStatus


@dataclass(frozen=True)
class Day:
    """A daily record (R-10) and, once given, the trainee's confirmation or dissent."""

    logged: TrainingDayLogged
    confirmation: TrainingDayConfirmed | None = None


@dataclass(frozen=True)
class Stage:
    spec: StageSpec
    days: tuple[Day, ...] = ()  # ordered by date
    assessment: StageAssessed | None = None  # the trainer's signature
    sign_off: StageSignedOff | None = None  # the trainee's countersign closes the stage
    reopened: bool = False  # sent back and not signed off again since

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


@dataclass(frozen=True)
class TrainingPlan:
    trainee_id: str | None = None
    status: PlanStatus | None = None  # None: no plan drafted yet
    revision: int = 0
    approved_revision: int | None = None  # the last revision approved
    stages: tuple[Stage, ...] = ()  # of the latest revision, ordered by stage number
    # While a re-draft awaits approval: the stages of the revision still in force.
    held_stages: tuple[Stage, ...] = ()
    remedial: bool = False  # the latest revision is a remedial one (R-18a)
    completed_on: dt.date | None = None  # the last time the training completed
    completed_specs: tuple[StageSpec, ...] = ()  # the stages it completed with (R-18a keeps them)

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
            return _with_stage(state, event.to_stage, _reopened)
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


def _reopened(stage: Stage) -> Stage:
    """R-12: the signatures go, the days stay."""
    return replace(stage, assessment=None, sign_off=None, reopened=True)
