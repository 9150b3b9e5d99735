"""TraineeAssessment decider: Given events, When a command, Then events (or a refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.assessment.domain.assessment import TRAINEE_ASSESSMENT, stream_id
from services.assessment.domain.commands import DecideDisposition
from services.assessment.domain.events import (
    AssessmentFailed,
    DispositionDecided,
    ExamScored,
    GradeAssigned,
    registry,
)
from services.assessment.domain.scoring import grading_inputs
from services.assessment.domain.vocabulary import (
    Department,
    Disposition,
    Education,
    ExamKind,
    Level,
    Position,
)
from services.assessment.policy.grading import GRADING, grade
from shared.decider import Conflict, InvalidCommand, NotFound, RuleViolation
from shared.policy import PolicyBook

from .builders import (
    DEPARTMENTS,
    NOW,
    TODAY,
    assessed,
    facts,
    score_practical,
    score_written,
    sitting,
)


def dispose(outcome=Disposition.CONTINUE_TRAINING, reason="weak on fault analysis"):
    return DecideDisposition("s-1", "t-1", outcome, reason, "manager", TODAY)


def test_one_stream_per_trainee_per_session():
    assert stream_id("s-1", "t-1") == "assessment-s-1/t-1"
    assert stream_id("s-1", "t") != stream_id("s", "1-t")


def test_a_written_score_alone_is_recorded_and_nothing_decided():
    (event,) = TRAINEE_ASSESSMENT.decide(score_written("95"), TRAINEE_ASSESSMENT.initial())
    assert event == ExamScored(
        session_id="s-1",
        trainee_id="t-1",
        kind=ExamKind.WRITTEN,
        department=None,
        score=Decimal(95),
        rater="examiner-hr",
        scored_at=NOW,
    )


def test_the_sixth_score_also_assigns_the_grade_example_a():
    *first_five, sixth = sitting("95", ("96", "95", "97", "98", "94"))
    scored, graded = TRAINEE_ASSESSMENT.decide(sixth, assessed(*first_five))
    assert isinstance(scored, ExamScored) and scored.department is Department.PRODUCTION
    assert isinstance(graded, GradeAssigned)
    assert (graded.position, graded.level) == (Position.ENGINEER, Level.INTERMEDIATE)
    assert (graded.grade_score, graded.practical_mean) == (Decimal("95.5"), Decimal(96))
    assert graded.written == 95 and list(graded.practical) == list(DEPARTMENTS)
    assert (graded.facts, graded.assigned_at) == (facts(), NOW)
    assert graded.policy_version == "grading-2026.1"
    assert "R-20: 95.5 >= 94 -> engineer intermediate" in graded.rule_trace
    assert (graded.supersedes, graded.dispute_id) == (None, None)


def test_the_grade_comes_with_whichever_score_is_last_and_uses_that_commands_facts():
    written, *practicals = sitting("95", trainee=facts(series=("X1", "X2")))
    events = TRAINEE_ASSESSMENT.decide(written, assessed(*practicals))
    graded = events[-1]
    assert isinstance(graded, GradeAssigned)
    assert (graded.position, graded.level, graded.capped_by) == (
        Position.TECHNICIAN,
        Level.SENIOR,
        ["series count"],
    )  # example B


def test_five_scores_decide_nothing():
    state = assessed(*sitting()[:5])
    assert state.decision is None and len(state.practical) == 4


def test_example_c_a_failed_written_exam_fails_the_assessment():
    *first_five, sixth = sitting("79", "95")
    _, failed = TRAINEE_ASSESSMENT.decide(sixth, assessed(*first_five))
    assert isinstance(failed, AssessmentFailed)
    assert failed.failed_exams == [ExamKind.WRITTEN]
    assert failed.rule_trace[-1] == "R-18: failed written -> no grade; a disposition is required"


def test_a_pass_without_technician_eligibility_is_recorded_ungraded_reserve():
    trainee = facts(education=Education.JUNIOR_HIGH, series=("X1",))
    graded = assessed(*sitting("85", "85", trainee)).decision
    assert isinstance(graded, GradeAssigned)
    assert (graded.position, graded.level, graded.grade_score) == (None, None, Decimal(85))
    assert graded.rule_trace[-1].endswith("-> no grade (reserve)")


def test_a_second_written_score_is_refused():
    with pytest.raises(Conflict):
        TRAINEE_ASSESSMENT.decide(score_written("90"), assessed(score_written("95")))


def test_a_second_practical_score_from_the_same_department_is_refused():
    state = assessed(score_practical("quality", "90"))
    with pytest.raises(Conflict):
        TRAINEE_ASSESSMENT.decide(score_practical("quality", "91"), state)
    (event,) = TRAINEE_ASSESSMENT.decide(score_practical("technical", "91"), state)
    assert event.department is Department.TECHNICAL


def test_no_score_is_taken_after_the_decision():
    state = assessed(*sitting())
    for command in sitting():
        with pytest.raises(Conflict):
            TRAINEE_ASSESSMENT.decide(command, state)


@pytest.mark.parametrize("score", ["100.1", "-0.1", "85.25", "NaN"])
def test_r17_scores_are_0_to_100_with_one_decimal(score):
    for command in (score_written(score), score_practical("technical", score)):
        with pytest.raises(InvalidCommand) as caught:
            TRAINEE_ASSESSMENT.decide(command, TRAINEE_ASSESSMENT.initial())
        assert (caught.value.field, caught.value.rule) == ("score", "R-17")


@pytest.mark.parametrize("score", ["0", "100", "79.9", "80.0"])
def test_r17_scores_at_the_ends_of_the_scale_are_accepted(score):
    assert TRAINEE_ASSESSMENT.decide(score_written(score), TRAINEE_ASSESSMENT.initial())


@pytest.mark.parametrize("department", ["hr", "system", "marketing"])
def test_r16_only_the_five_practical_departments_score(department):
    with pytest.raises(InvalidCommand) as caught:
        TRAINEE_ASSESSMENT.decide(score_practical(department, "90"), TRAINEE_ASSESSMENT.initial())
    assert (caught.value.field, caught.value.rule) == ("department", "R-16")


def test_r18_a_failed_trainee_gets_one_disposition():
    state = assessed(*sitting("79", "95"))
    (event,) = TRAINEE_ASSESSMENT.decide(dispose(reason="  weak on fault analysis "), state)
    assert event == DispositionDecided(
        trainee_id="t-1",
        session_id="s-1",
        outcome=Disposition.CONTINUE_TRAINING,
        reason="weak on fault analysis",
        decided_on=TODAY,
        decided_by="manager",
    )
    with pytest.raises(Conflict):
        TRAINEE_ASSESSMENT.decide(
            dispose(Disposition.WORKSHOP), assessed(*sitting("79", "95"), dispose())
        )


@pytest.mark.parametrize("scored", [sitting(), sitting()[:3]], ids=["graded", "incomplete"])
def test_r18_no_disposition_for_a_trainee_who_did_not_fail(scored):
    with pytest.raises(RuleViolation) as caught:
        TRAINEE_ASSESSMENT.decide(dispose(), assessed(*scored))
    assert caught.value.rule == "R-18"


def test_a_disposition_needs_an_assessment_and_a_reason():
    with pytest.raises(NotFound):
        TRAINEE_ASSESSMENT.decide(dispose(), TRAINEE_ASSESSMENT.initial())
    with pytest.raises(InvalidCommand) as caught:
        TRAINEE_ASSESSMENT.decide(dispose(reason=" "), assessed(*sitting("79", "95")))
    assert caught.value.field == "reason"


def test_r22_a_recorded_grade_is_re_derived_exactly_from_its_inputs_and_policy_version():
    graded = assessed(*sitting("95", trainee=facts(series=("X1", "X2")))).decision
    assert isinstance(graded, GradeAssigned)
    recorded = grading_inputs(graded.written, graded.practical, graded.facts)
    replay = grade(recorded, GRADING.named(graded.policy_version))
    assert (replay.position, replay.level, replay.grade_score, replay.rule_trace) == (
        graded.position,
        graded.level,
        graded.grade_score,
        graded.rule_trace,
    )


def test_decisions_survive_the_json_round_trip_of_the_store_unchanged():
    state, events = TRAINEE_ASSESSMENT.initial(), []
    for command in [*sitting("95"), *sitting("79", "95", trainee_id="t-2")]:
        new = TRAINEE_ASSESSMENT.decide(command, state)
        state, events = TRAINEE_ASSESSMENT.fold(new, state), [*events, *new]
        if isinstance(new[-1], AssessmentFailed | GradeAssigned):
            state = TRAINEE_ASSESSMENT.initial()
    assert {type(e) for e in events} == {ExamScored, GradeAssigned, AssessmentFailed}
    for event in events:
        assert type(event).model_validate(registry.encode(event).data) == event


def test_the_registry_knows_every_assessment_event():
    assert set(registry.types) == {
        "ExamSessionOpened",
        "ExamScored",
        "GradeAssigned",
        "AssessmentFailed",
        "DispositionDecided",
        "ExamSessionClosed",
        "TrainerPenaltyAssessed",
        "GradeDisputed",
        "GradeDisputeResolved",
        "PolicyPublished",
    }


def test_the_decision_applies_the_policy_in_force_on_the_day_of_the_last_score():
    """A version published with a later effective date changes decisions from that date only:
    the command carries the app's book, the decider picks the version in force on its day."""
    stricter = GRADING.named("grading-2026.1").model_copy(
        update={
            "version": "grading-2026.2",
            "effective_from": date(2026, 3, 3),
            "written_pass_mark": Decimal(90),
        }
    )
    book = PolicyBook([*GRADING.versions, stricter])
    *first_five, last = sitting("85", "85")
    sixth = replace(last, grading=book)
    before = TRAINEE_ASSESSMENT.decide(sixth, assessed(*first_five))[-1]
    later = replace(sixth, now=NOW + timedelta(days=1))
    after = TRAINEE_ASSESSMENT.decide(later, assessed(*first_five))[-1]
    assert isinstance(before, GradeAssigned) and before.policy_version == "grading-2026.1"
    assert isinstance(after, AssessmentFailed) and after.policy_version == "grading-2026.2"
