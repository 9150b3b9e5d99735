"""R-18a: the remedial revision of a completed plan after a ``continue_training`` disposition.
Pure; the trainee's latest disposition is an input (the handler looks it up).

A completed plan is re-drafted only as a remedial revision, and only when the latest disposition
is ``continue_training``, decided on or after the day the training completed (an older one was
already answered). Once a training has completed, every later revision is remedial: it keeps the
completed stages exactly as they were signed (R-14 mastery stays true) and adds new stages after
them. It needs the executive vice-president's approval before any remedial day (R-9), and signing
the new stages off completes the training again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from shared.decider import RuleViolation

from .events import StageSpec
from .state import TrainingPlan
from .vocabulary import PlanStatus

CONTINUE_TRAINING = "continue_training"


@dataclass(frozen=True)
class LatestDisposition:
    """R-18: the trainee's latest disposition, as assessment decided it."""

    outcome: str
    decided_on: dt.date


def remedial_due(state: TrainingPlan, disposition: LatestDisposition | None) -> bool:
    """Whether the completed plan awaits its remedial revision (what the plan table shows)."""
    try:
        may_redraft_completed(state, disposition)
    except RuleViolation:
        return False
    return state.status is PlanStatus.COMPLETED


def may_redraft_completed(state: TrainingPlan, disposition: LatestDisposition | None) -> None:
    """R-18a: 409 unless a fresh ``continue_training`` disposition asks for more training."""
    if state.status is not PlanStatus.COMPLETED:
        return
    if disposition is None or disposition.outcome != CONTINUE_TRAINING:
        outcome = disposition.outcome if disposition else "none"
        detail = (
            "the training is completed; its plan is re-drafted only as a remedial revision after"
            f" a continue_training disposition (latest disposition: {outcome})"
        )
        raise RuleViolation("R-18a", detail)
    if state.completed_on is not None and disposition.decided_on < state.completed_on:
        detail = (
            f"the continue_training disposition of {disposition.decided_on} came before the"
            f" training completed on {state.completed_on}; it was already answered"
        )
        raise RuleViolation("R-18a", detail)


def is_remedial(state: TrainingPlan, stages: Sequence[StageSpec]) -> bool:
    """Whether a draft is a remedial revision; 409 when it does not keep the completed stages
    first, unchanged, with at least one new stage after them."""
    completed = state.completed_specs
    if not completed:
        return False
    kept = tuple(stages[: len(completed)])
    if kept != completed:
        nos = ", ".join(str(s.no) for s in completed)
        detail = f"a remedial revision keeps the completed stages {nos} first, as they were signed"
        raise RuleViolation("R-18a", detail)
    if len(stages) == len(completed):
        raise RuleViolation("R-18a", "a remedial revision adds at least one new stage")
    return True
