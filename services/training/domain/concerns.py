"""R-12b: a trainer notes that the trainee cannot keep up; the after-sales manager verifies it
and records how it will be handled. Pure.

A concern is noted on one of the noting trainer's own stages of the plan (403 for a trainer of
no stage of it, or of another stage); the id comes in the command (made by the handler). Who
handles (the after-sales manager) is the route's role check; the decider knows the concern.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, required_text
from shared.events import Event

from .followup_events import ConcernHandled, TraineeConcernNoted
from .state import TrainingPlan


@dataclass(frozen=True)
class NoteConcern:
    trainee_id: str
    concern_id: str
    stage_no: int
    text: str
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class HandleConcern:
    trainee_id: str
    concern_id: str
    verified: bool
    handling: str
    actor_id: str
    today: dt.date


def note(c: NoteConcern, state: TrainingPlan) -> list[Event]:
    if state.status is None:
        raise NotFound("no plan has been drafted for this trainee")
    if not any(s.spec.trainer_id == c.actor_id for s in state.stages):
        raise Forbidden("only a trainer of one of the plan's stages notes a concern")
    stage = state.stage(c.stage_no)
    if stage is None:
        raise InvalidCommand("stage_no", f"the plan has no stage {c.stage_no}", "R-12b")
    if stage.spec.trainer_id != c.actor_id:
        raise Forbidden(f"stage {stage.no} is trained by another trainer")
    text = required_text("text", c.text, "R-12b")
    if state.concern(c.concern_id) is not None:
        raise Conflict(f"concern {c.concern_id} is already noted")
    noted = TraineeConcernNoted(
        trainee_id=c.trainee_id,
        concern_id=c.concern_id,
        stage_no=stage.no,
        text=text,
        noted_by=c.actor_id,
        noted_on=c.today,
    )
    return [noted]


def handle(c: HandleConcern, state: TrainingPlan) -> list[Event]:
    concern = state.concern(c.concern_id)
    if concern is None:
        raise NotFound(f"the plan has no concern {c.concern_id}")
    handling = required_text("handling", c.handling, "R-12b")
    if concern.handled is not None:
        raise Conflict(f"concern {c.concern_id} is already handled")
    handled = ConcernHandled(
        trainee_id=c.trainee_id,
        concern_id=c.concern_id,
        verified=c.verified,
        handling=handling,
        handled_by=c.actor_id,
        handled_on=c.today,
    )
    return [handled]
