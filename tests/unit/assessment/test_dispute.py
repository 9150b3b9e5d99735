"""R-23 disputes: the GradeDispute decider, regrade, and the correction on the assessment."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from services.assessment.domain.assessment import TRAINEE_ASSESSMENT
from services.assessment.domain.commands import (
    CorrectGrade,
    DecideDisposition,
    FileDispute,
    ResolveDispute,
)
from services.assessment.domain.dispute import GRADE_DISPUTE, regrade, stream_id
from services.assessment.domain.events import (
    AssessmentFailed,
    DispositionDecided,
    GradeAssigned,
    GradeDisputed,
    GradeDisputeResolved,
)
from services.assessment.domain.vocabulary import (
    Department,
    Disposition,
    DisputeOutcome,
    Level,
    Position,
)
from shared.decider import Conflict, InvalidCommand, NotFound, RuleViolation

from .builders import NOW, TODAY, assessed, facts, given, sitting

FIRST_GRADE = uuid.UUID("00000000-0000-4000-8000-000000000001")
LATER = NOW + timedelta(days=7)


def file(grade_event_id=FIRST_GRADE, reason="the written exam was mis-added") -> FileDispute:
    session = None if grade_event_id is None else "s-1"
    return FileDispute("d-1", "t-1", session, grade_event_id, reason, "t-1", TODAY)


def resolve(outcome=DisputeOutcome.CORRECTED, written=None, practical=None) -> ResolveDispute:
    return ResolveDispute("d-1", outcome, written, practical, "manager", TODAY)


def correct(written=None, practical=None, dispute_id="d-1") -> CorrectGrade:
    return CorrectGrade("s-1", "t-1", dispute_id, FIRST_GRADE, written, practical, LATER)


def filed():
    return given(file(), decider=GRADE_DISPUTE)


def example_a():
    return assessed(*sitting("95", ("96", "95", "97", "98", "94")))


def test_a_dispute_is_filed_against_the_current_grade():
    (event,) = GRADE_DISPUTE.decide(file(), GRADE_DISPUTE.initial())
    assert event == GradeDisputed(
        dispute_id="d-1",
        trainee_id="t-1",
        session_id="s-1",
        grade_event_id=FIRST_GRADE,
        reason="the written exam was mis-added",
        filed_by="t-1",
        filed_on=TODAY,
    )
    assert stream_id("d-1") == "dispute-d-1"


def test_r23_there_is_nothing_to_dispute_without_a_grade():
    with pytest.raises(RuleViolation) as caught:
        GRADE_DISPUTE.decide(file(grade_event_id=None), GRADE_DISPUTE.initial())
    assert caught.value.rule == "R-23"


def test_a_dispute_is_filed_once_and_needs_a_reason():
    with pytest.raises(Conflict):
        GRADE_DISPUTE.decide(file(), filed())
    with pytest.raises(InvalidCommand) as caught:
        GRADE_DISPUTE.decide(file(reason=" "), GRADE_DISPUTE.initial())
    assert caught.value.field == "reason"


def test_an_upheld_dispute_keeps_the_scores():
    (event,) = GRADE_DISPUTE.decide(resolve(DisputeOutcome.UPHELD), filed())
    assert isinstance(event, GradeDisputeResolved)
    assert (event.outcome, event.written, event.practical) == (DisputeOutcome.UPHELD, None, None)
    assert (event.trainee_id, event.session_id) == ("t-1", "s-1")
    with pytest.raises(InvalidCommand) as caught:
        GRADE_DISPUTE.decide(resolve(DisputeOutcome.UPHELD, written=Decimal(99)), filed())
    assert caught.value.field == "written"


def test_a_correction_names_valid_replacement_scores():
    (event,) = GRADE_DISPUTE.decide(
        resolve(written=Decimal(99), practical={"quality": Decimal("97.5")}), filed()
    )
    assert (event.written, event.practical) == (Decimal(99), {Department.QUALITY: Decimal("97.5")})
    refusals = [
        (resolve(), "written", "R-23"),
        (resolve(written=Decimal("99.95")), "written", "R-17"),
        (resolve(practical={"hr": Decimal(90)}), "practical", "R-16"),
        (resolve(practical={"quality": Decimal(101)}), "practical", "R-17"),
    ]
    for command, field, rule in refusals:
        with pytest.raises(InvalidCommand) as caught:
            GRADE_DISPUTE.decide(command, filed())
        assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_dispute_is_resolved_once_and_only_when_filed():
    with pytest.raises(NotFound):
        GRADE_DISPUTE.decide(resolve(DisputeOutcome.UPHELD), GRADE_DISPUTE.initial())
    done = given(file(), resolve(DisputeOutcome.UPHELD), decider=GRADE_DISPUTE)
    with pytest.raises(Conflict):
        GRADE_DISPUTE.decide(resolve(written=Decimal(99)), done)


def test_a_correction_is_a_new_grade_that_supersedes_the_first():
    state = example_a()
    first = state.grade
    (corrected,) = TRAINEE_ASSESSMENT.decide(correct(written=Decimal(99)), state)
    assert isinstance(corrected, GradeAssigned)
    assert (corrected.supersedes, corrected.dispute_id) == (FIRST_GRADE, "d-1")
    assert (corrected.written, corrected.grade_score) == (Decimal(99), Decimal("97.5"))
    assert (corrected.position, corrected.level) == (Position.ENGINEER, Level.SENIOR)
    assert corrected.practical == first.practical and corrected.facts == first.facts
    assert corrected.assigned_at == LATER
    assert (first.written, first.level, first.supersedes) == (Decimal(95), Level.INTERMEDIATE, None)
    after = TRAINEE_ASSESSMENT.fold([corrected], state)
    assert after.grade == corrected and after.written == 99


def test_a_practical_correction_replaces_only_the_corrected_department():
    (corrected,) = TRAINEE_ASSESSMENT.decide(
        correct(practical={"production": Decimal(79)}), example_a()
    )
    assert corrected.practical[Department.PRODUCTION] == 79
    assert corrected.practical[Department.TECHNICAL] == 96
    assert corrected.practical_mean == Decimal("93") and corrected.grade_score == Decimal(94)


def test_a_correction_below_a_pass_mark_fails_the_trainee_who_then_gets_a_disposition():
    (failed,) = TRAINEE_ASSESSMENT.decide(correct(written=Decimal(70)), example_a())
    assert isinstance(failed, AssessmentFailed)
    assert (failed.supersedes, failed.dispute_id) == (FIRST_GRADE, "d-1")
    state = TRAINEE_ASSESSMENT.fold([failed], example_a())
    disposition = DecideDisposition("s-1", "t-1", Disposition.RESERVE, "re-marked", "m", TODAY)
    assert isinstance(TRAINEE_ASSESSMENT.decide(disposition, state)[0], DispositionDecided)


def test_a_dispute_is_applied_once_and_only_to_a_grade():
    corrected = assessed(*sitting(), correct(written=Decimal(99)))
    with pytest.raises(Conflict):
        TRAINEE_ASSESSMENT.decide(correct(written=Decimal(98)), corrected)
    with pytest.raises(RuleViolation) as caught:
        TRAINEE_ASSESSMENT.decide(correct(written=Decimal(85)), assessed(*sitting("79", "95")))
    assert caught.value.rule == "R-23"
    with pytest.raises(NotFound):
        TRAINEE_ASSESSMENT.decide(correct(written=Decimal(85)), TRAINEE_ASSESSMENT.initial())
    with pytest.raises(InvalidCommand):
        TRAINEE_ASSESSMENT.decide(correct(), example_a())


def test_regrade_reuses_the_disputed_grades_facts_and_policy_version():
    first = assessed(*sitting("95", trainee=facts(series=("X1", "X2")))).grade
    again = regrade(
        first, supersedes=FIRST_GRADE, dispute_id="d-9", written=None, practical=None, now=LATER
    )
    assert isinstance(again, GradeAssigned)
    assert (again.position, again.level, again.capped_by) == (
        Position.TECHNICIAN,
        Level.SENIOR,
        ["series count"],
    )
    assert again.policy_version == first.policy_version
    assert again.rule_trace == first.rule_trace
