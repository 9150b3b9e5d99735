"""The plan's follow-ups as one decider on the plan's stream (``plan-<trainee_id>``): send-backs
ended by an accepted explanation (R-12a, :mod:`.returns`) and concerns about a trainee who cannot
keep up (R-12b, :mod:`.concerns`). Same state and ``evolve`` as :data:`.plan.PLAN`. Pure."""

from __future__ import annotations

from shared.decider import Decider
from shared.events import Event

from . import concerns, returns
from .concerns import HandleConcern, NoteConcern
from .returns import AcceptExplanation, ExplainReturn
from .state import TrainingPlan, evolve, initial

FollowUpCommand = ExplainReturn | AcceptExplanation | NoteConcern | HandleConcern


def decide(command: FollowUpCommand, state: TrainingPlan) -> list[Event]:
    match command:
        case ExplainReturn():
            return returns.explain(command, state)
        case AcceptExplanation():
            return returns.accept(command, state)
        case NoteConcern():
            return concerns.note(command, state)
        case HandleConcern():
            return concerns.handle(command, state)
    raise TypeError(f"unknown command {command!r}")


FOLLOW_UPS = Decider(initial, evolve, decide)
