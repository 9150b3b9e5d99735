"""ExamSession decider: Given events, When a command, Then events (or a refusal)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.assessment.domain.commands import CloseExamSession, OpenExamSession
from services.assessment.domain.events import (
    ExamSessionClosed,
    ExamSessionOpened,
    TrainerPenaltyAssessed,
)
from services.assessment.domain.session import EXAM_SESSION, require_open, stream_id
from shared.decider import Conflict, InvalidCommand, NotFound

from .builders import TODAY, given

CLOSING_DAY = date(2026, 3, 6)


def open_session(**changes) -> OpenExamSession:
    fields = dict(
        session_id="s-1", product_series="X", held_on=TODAY, opened_by="manager", today=TODAY
    )
    fields.update(changes)
    return OpenExamSession(**fields)


def close(outcomes=None, trainers=None) -> CloseExamSession:
    return CloseExamSession("s-1", CLOSING_DAY, outcomes or {}, trainers or {})


def test_opening_a_session_records_its_product_series():
    (event,) = EXAM_SESSION.decide(open_session(product_series=" X "), EXAM_SESSION.initial())
    assert event == ExamSessionOpened(
        session_id="s-1", product_series="X", held_on=TODAY, opened_by="manager"
    )
    assert stream_id("s-1") == "session-s-1"


def test_a_session_is_opened_once_and_needs_a_product_series():
    with pytest.raises(Conflict):
        EXAM_SESSION.decide(open_session(), given(open_session(), decider=EXAM_SESSION))
    with pytest.raises(InvalidCommand) as caught:
        EXAM_SESSION.decide(open_session(product_series=" "), EXAM_SESSION.initial())
    assert caught.value.field == "product_series"


def test_closing_assesses_every_trainer_of_the_series_example_e():
    trainees = [f"t-{n}" for n in range(10)]
    outcomes = {t: n >= 4 for n, t in enumerate(trainees)}
    events = EXAM_SESSION.decide(
        close(outcomes, {t: ("trainer-1",) for t in trainees}),
        given(open_session(), decider=EXAM_SESSION),
    )
    closed, penalty = events
    assert closed == ExamSessionClosed(session_id="s-1", closed_on=CLOSING_DAY)
    assert isinstance(penalty, TrainerPenaltyAssessed)
    assert (penalty.fine, penalty.assessed_on) == (Decimal(150), CLOSING_DAY)


def test_closing_without_trainees_closes_without_penalties():
    (event,) = EXAM_SESSION.decide(close(), given(open_session(), decider=EXAM_SESSION))
    assert isinstance(event, ExamSessionClosed)


def test_a_session_closes_once_and_takes_no_scores_after():
    state = given(open_session(), close(), decider=EXAM_SESSION)
    assert not state.is_open
    with pytest.raises(Conflict):
        EXAM_SESSION.decide(close(), state)
    with pytest.raises(Conflict):
        require_open(state, "s-1")


def test_an_unknown_session_cannot_be_closed():
    with pytest.raises(NotFound):
        EXAM_SESSION.decide(close(), EXAM_SESSION.initial())
    with pytest.raises(NotFound):
        require_open(EXAM_SESSION.initial(), "s-1")
