"""R-22 audit replay: recorded decisions re-derive exactly; an edited one names what differs."""

from __future__ import annotations

import uuid
from decimal import Decimal

from services.assessment.domain.assessment import TRAINEE_ASSESSMENT
from services.assessment.domain.commands import CorrectGrade
from services.assessment.domain.events import ExamScored, GradeAssigned, GradeDisputeResolved
from services.assessment.domain.replay import rederive
from services.assessment.domain.vocabulary import DisputeOutcome

from .builders import NOW, TODAY, facts, sitting


def recorded_sitting(written="95", practical=("96", "95", "97", "98", "94"), trainee=None):
    """The events the decider appended for one sitting, each with an event id."""
    state, events = TRAINEE_ASSESSMENT.initial(), []
    for command in sitting(written, practical, trainee):
        new = TRAINEE_ASSESSMENT.decide(command, state)
        state = TRAINEE_ASSESSMENT.fold(new, state)
        events.extend((uuid.uuid4(), e) for e in new)
    return state, events


def test_every_recorded_decision_re_derives_exactly():
    _, events = recorded_sitting()
    (derivation,) = rederive(events, {})
    assert derivation.consistent and derivation.rederived == derivation.recorded


def test_an_edited_grade_names_the_fields_that_differ():
    _, events = recorded_sitting()
    grade_id, grade = events[-1]
    edited = grade.model_copy(update={"grade_score": Decimal(99)})
    (derivation,) = rederive([*events[:-1], (grade_id, edited)], {})
    assert derivation.differences == ["grade_score"]


def test_an_edited_score_shows_in_the_decision_it_fed():
    _, events = recorded_sitting()
    score_id, written = events[0]
    assert isinstance(written, ExamScored)
    tampered = [(score_id, written.model_copy(update={"score": Decimal(85)})), *events[1:]]
    (derivation,) = rederive(tampered, {})
    assert "written" in derivation.differences and "grade_score" in derivation.differences


def test_a_correction_re_derives_from_its_dispute_resolution_r23():
    state, events = recorded_sitting()
    first_id = events[-1][0]
    correct = CorrectGrade("s-1", "t-1", "d-1", first_id, Decimal(99), None, NOW)
    (corrected,) = TRAINEE_ASSESSMENT.decide(correct, state)
    assert isinstance(corrected, GradeAssigned)
    resolution = GradeDisputeResolved(
        dispute_id="d-1",
        trainee_id="t-1",
        session_id="s-1",
        outcome=DisputeOutcome.CORRECTED,
        written=Decimal(99),
        practical=None,
        resolved_by="mgr",
        resolved_on=TODAY,
    )
    history = [*events, (uuid.uuid4(), corrected)]
    first, second = rederive(history, {"d-1": resolution})
    assert first.consistent and second.consistent
    assert second.rederived is not None and second.rederived.supersedes == first_id
    (missing,) = rederive(history, {})[1:]
    assert missing.problem == "dispute d-1 has no corrected resolution"


def test_a_decision_without_its_scores_cannot_be_re_derived():
    _, events = recorded_sitting()
    (derivation,) = rederive(events[-1:], {})
    assert not derivation.consistent
    assert derivation.problem == "no written score was recorded before this decision"


def test_a_grade_recorded_with_certificate_names_v1_re_derives_from_their_count():
    """Issue 19: GradeAssigned v1 recorded the certificates' names in its facts; read today it is
    upcast to their (distinct) count, which is all R-21 decided on, and re-derives exactly."""
    from services.assessment.domain.events import (
        GradeAssigned as Current,
    )
    from services.assessment.domain.events import registry
    from shared.events import SYSTEM_ACTOR, Envelope

    _, events = recorded_sitting(trainee=facts(certificates=("welder", "forklift")))
    grade_id, grade = events[-1]
    assert isinstance(grade, Current) and "2 certificates" in " ".join(grade.rule_trace)
    v1 = grade.model_dump(mode="json")
    v1["facts"] = {**v1["facts"], "certificates": ["welder", "welder", "forklift"]}
    del v1["facts"]["certificate_count"]
    stored = Envelope(
        grade_id, "assessment-s-1-t-1", 7, 7, "GradeAssigned", 1, NOW, NOW, v1, SYSTEM_ACTOR
    )
    upcast = registry.decode(stored)
    assert isinstance(upcast, GradeAssigned) and upcast.facts.certificate_count == 2
    (derivation,) = rederive([*events[:-1], (grade_id, upcast)], {})
    assert derivation.consistent and derivation.rederived == upcast
