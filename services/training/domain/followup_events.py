"""Events that follow up a plan's training (published as ``training.<EventType>``, stream
``plan-<trainee_id>``): a send-back ended by an accepted explanation (R-12a) and the concerns
about a trainee who cannot keep up (R-12b). Registered in the training registry.

Personal fields (docs/privacy.md): the explanation and its acceptance, the concern's text and its
handling, sealed with the trainee's key; the verdicts, ids and dates stay in clear."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from shared.events import Event
from shared.personal import PERSONAL

from .events import registry


@registry.register
class ReturnExplained(Event):
    """R-12a: the returned stage's trainer explains why its goal was in fact reached."""

    event_type = "ReturnExplained"
    data_subject = "trainee_id"
    trainee_id: str
    stage_no: int  # the returned (earlier) stage
    explanation: Annotated[str, PERSONAL]
    explained_by: str
    explained_on: dt.date


@registry.register
class ReturnClosed(Event):
    """R-12a: the later stage's trainer accepts the explanation; ``stage_no`` counts as signed
    again, without a new sign-off."""

    event_type = "ReturnClosed"
    data_subject = "trainee_id"
    trainee_id: str
    stage_no: int  # the returned (earlier) stage
    returned_from: int  # the later stage that returned it
    comment: Annotated[str | None, PERSONAL]
    accepted_by: str
    closed_on: dt.date


@registry.register
class TraineeConcernNoted(Event):
    """R-12b: a trainer of the plan finds that the trainee cannot keep up."""

    event_type = "TraineeConcernNoted"
    data_subject = "trainee_id"
    trainee_id: str
    concern_id: str
    stage_no: int
    text: Annotated[str, PERSONAL]
    noted_by: str
    noted_on: dt.date


@registry.register
class ConcernHandled(Event):
    """R-12b: the after-sales manager verified the concern (or not) and records its handling."""

    event_type = "ConcernHandled"
    data_subject = "trainee_id"
    trainee_id: str
    concern_id: str
    verified: bool
    handling: Annotated[str, PERSONAL]
    handled_by: str
    handled_on: dt.date
