"""Given/When helpers for the follow-up deciders (R-12a, R-12b), beside :mod:`.plans`."""

from __future__ import annotations

from services.training.domain.concerns import HandleConcern, NoteConcern
from services.training.domain.followup_events import (
    ConcernHandled,
    ReturnClosed,
    ReturnExplained,
    TraineeConcernNoted,
)
from services.training.domain.followups import FOLLOW_UPS
from services.training.domain.returns import AcceptExplanation, ExplainReturn

from .plans import MANAGER, TODAY, TRAINEE, given, trainer_of


def when(command, *events) -> list:
    """Then: the events the plan's follow-ups decide for ``command`` after ``events``."""
    return list(FOLLOW_UPS.decide(command, given(*events)))


def explain(no: int, explanation="the goal was reached: see day 1", actor=None) -> ExplainReturn:
    return ExplainReturn(TRAINEE, no, explanation, actor or trainer_of(no), TODAY)


def accept(no: int, actor: str, comment=None) -> AcceptExplanation:
    return AcceptExplanation(TRAINEE, no, comment, actor, TODAY)


def explained(no: int, explanation="the goal was reached: see day 1") -> ReturnExplained:
    return ReturnExplained(
        trainee_id=TRAINEE,
        stage_no=no,
        explanation=explanation,
        explained_by=trainer_of(no),
        explained_on=TODAY,
    )


def closed(no: int, returned_from: int, comment=None) -> ReturnClosed:
    return ReturnClosed(
        trainee_id=TRAINEE,
        stage_no=no,
        returned_from=returned_from,
        comment=comment,
        accepted_by=trainer_of(returned_from),
        closed_on=TODAY,
    )


def note(stage_no: int, text="cannot keep up with the wiring", actor=None, concern_id="c-1"):
    return NoteConcern(TRAINEE, concern_id, stage_no, text, actor or trainer_of(stage_no), TODAY)


def noted(stage_no: int, text="cannot keep up with the wiring", concern_id="c-1"):
    return TraineeConcernNoted(
        trainee_id=TRAINEE,
        concern_id=concern_id,
        stage_no=stage_no,
        text=text,
        noted_by=trainer_of(stage_no),
        noted_on=TODAY,
    )


def handle(concern_id="c-1", verified=True, handling="two more weeks on stage 5"):
    return HandleConcern(TRAINEE, concern_id, verified, handling, MANAGER, TODAY)


def handled(concern_id="c-1", verified=True, handling="two more weeks on stage 5"):
    return ConcernHandled(
        trainee_id=TRAINEE,
        concern_id=concern_id,
        verified=verified,
        handling=handling,
        handled_by=MANAGER,
        handled_on=TODAY,
    )
