"""R-12a: a send-back (R-12) ended by an explanation the later stage's trainer accepts. Pure.

Both routes name the returned (earlier) stage: ``/stages/{no}/return/explanation`` is posted by
its trainer, ``/stages/{no}/return/accept`` by the trainer of the later stage that returned it.
Checks run as the plan's (:mod:`.plan`) do: the plan and stage exist (404), the actor's part
(403), the plan in force (R-9), an open send-back (R-12a), then the values (422) and what was
already done (409). Accepting restores the stage's signatures from before the send-back; when
that leaves every stage signed, the training completes as after a sign-off (R-11).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.decider import Conflict, Forbidden, NotFound, RuleViolation, required_text
from shared.events import Event

from .events import TrainingCompleted
from .followup_events import ReturnClosed, ReturnExplained
from .state import SendBack, Stage, TrainingPlan
from .vocabulary import PlanStatus


@dataclass(frozen=True)
class ExplainReturn:
    """The returned stage's trainer explains why the stage's goal was in fact reached."""

    trainee_id: str
    stage_no: int  # the returned (earlier) stage
    explanation: str
    actor_id: str
    today: dt.date


@dataclass(frozen=True)
class AcceptExplanation:
    """The trainer of the stage that sent the trainee back accepts the explanation."""

    trainee_id: str
    stage_no: int  # the returned (earlier) stage
    comment: str | None
    actor_id: str
    today: dt.date


def explain(c: ExplainReturn, state: TrainingPlan) -> list[Event]:
    stage = _stage(state, c.stage_no)
    if c.actor_id != stage.spec.trainer_id:
        raise Forbidden(f"stage {stage.no} is trained by another trainer")
    _in_force(state)
    send_back = _open(stage)
    explanation = required_text("explanation", c.explanation, "R-12a")
    if send_back.explained is not None:
        later = send_back.returned.from_stage
        raise Conflict(f"the send-back of stage {stage.no} is explained; stage {later} may accept")
    event = ReturnExplained(
        trainee_id=c.trainee_id,
        stage_no=stage.no,
        explanation=explanation,
        explained_by=c.actor_id,
        explained_on=c.today,
    )
    return [event]


def accept(c: AcceptExplanation, state: TrainingPlan) -> list[Event]:
    stage = _stage(state, c.stage_no)
    send_back = stage.open_send_back
    if send_back is None:
        _trains_a_later_stage(state, stage.no, c.actor_id)
    elif c.actor_id != returner(state, send_back):
        raise Forbidden(f"only the trainer of stage {send_back.returned.from_stage} accepts")
    _in_force(state)
    send_back = _open(stage)
    if send_back.explained is None:
        raise RuleViolation("R-12a", f"the send-back of stage {stage.no} is not explained yet")
    closed = ReturnClosed(
        trainee_id=c.trainee_id,
        stage_no=stage.no,
        returned_from=send_back.returned.from_stage,
        comment=(c.comment or "").strip() or None,
        accepted_by=c.actor_id,
        closed_on=c.today,
    )
    if not state.all_signed_off(but=stage.no):
        return [closed]
    return [closed, TrainingCompleted(trainee_id=c.trainee_id, completed_on=c.today)]


def returner(state: TrainingPlan, send_back: SendBack) -> str:
    """Who accepts: the trainer of the later stage as the plan stands (who sent the trainee
    back, should a re-draft have dropped that stage)."""
    later = state.stage(send_back.returned.from_stage)
    return later.spec.trainer_id if later is not None else send_back.returned.returned_by


def _stage(state: TrainingPlan, no: int) -> Stage:
    stage = state.stage(no) if state.status is not None else None
    if stage is None:
        raise NotFound(f"the plan has no stage {no}")
    return stage


def _in_force(state: TrainingPlan) -> None:
    if state.status is PlanStatus.DRAFT:
        raise RuleViolation("R-9", f"a changed plan awaits approval (revision {state.revision})")


def _open(stage: Stage) -> SendBack:
    send_back = stage.open_send_back
    if send_back is None:
        raise RuleViolation("R-12a", f"stage {stage.no} has no open send-back")
    return send_back


def _trains_a_later_stage(state: TrainingPlan, no: int, actor_id: str) -> None:
    if not any(s.no > no and s.spec.trainer_id == actor_id for s in state.stages):
        raise Forbidden(f"only the trainer of a stage after stage {no} accepts an explanation")
