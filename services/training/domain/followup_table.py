"""The follow-ups as the plan table shows them (JSON-ready): a stage's send-backs and how each
ended (R-12, R-12a), the concerns about the trainee and their handling (R-12b). Pure."""

from __future__ import annotations

from shared.events import JsonDict

from .state import Concern, SendBack, Stage, TrainingPlan

# How a send-back stands: awaiting its explanation (or a new sign-off), explained and awaiting
# acceptance, accepted (R-12a), or ended by a new sign-off.
SEND_BACK_STATUSES = ("open", "explained", "accepted", "signed_off")


def send_back_rows(stage: Stage) -> list[JsonDict]:
    return [_send_back_row(stage, s) for s in stage.send_backs]


def _status(stage: Stage, send_back: SendBack) -> str:
    if send_back.closed is not None:
        return "accepted"
    if send_back is stage.open_send_back:
        return "open" if send_back.explained is None else "explained"
    return "signed_off"  # a new sign-off ended it


def _send_back_row(stage: Stage, send_back: SendBack) -> JsonDict:
    returned, explained, closed = send_back.returned, send_back.explained, send_back.closed
    return {
        "from_stage": returned.from_stage,
        "reason": returned.reason,
        "returned_by": returned.returned_by,
        "status": _status(stage, send_back),
        "explanation": explained.explanation if explained else None,
        "explained_by": explained.explained_by if explained else None,
        "explained_on": explained.explained_on.isoformat() if explained else None,
        "accepted_by": closed.accepted_by if closed else None,
        "acceptance_comment": closed.comment if closed else None,
        "closed_on": closed.closed_on.isoformat() if closed else None,
    }


def concern_rows(state: TrainingPlan) -> list[JsonDict]:
    return [concern_row(c) for c in state.concerns]


def concern_row(concern: Concern) -> JsonDict:
    noted, handled = concern.noted, concern.handled
    return {
        "concern_id": noted.concern_id,
        "stage_no": noted.stage_no,
        "text": noted.text,
        "noted_by": noted.noted_by,
        "noted_on": noted.noted_on.isoformat(),
        "handled": handled is not None,
        "verified": handled.verified if handled else None,
        "handling": handled.handling if handled else None,
        "handled_by": handled.handled_by if handled else None,
        "handled_on": handled.handled_on.isoformat() if handled else None,
    }
