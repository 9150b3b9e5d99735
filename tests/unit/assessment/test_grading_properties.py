"""Properties of the grading policy over all scores and facts (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.assessment.domain.vocabulary import Education, grade_rank
from services.assessment.policy.grading import GradingInputs, GradingResult, grade

from .builders import DEPARTMENTS, POLICY

scores = st.integers(0, 1000).map(lambda tenths: Decimal(tenths) / 10)  # one decimal
passing = st.integers(800, 1000).map(lambda tenths: Decimal(tenths) / 10)


@st.composite
def grading_inputs(draw, score=scores) -> GradingInputs:
    return GradingInputs(
        written=draw(score),
        practical={d: draw(score) for d in DEPARTMENTS},
        education=draw(st.sampled_from(list(Education))),
        experience_years=draw(st.integers(0, 60).map(lambda tenths: Decimal(tenths) / 10)),
        certificate_count=draw(st.integers(0, 2)),
        mastered_series=draw(st.lists(st.sampled_from(["X1", "X2", "X3", "X4"]), max_size=4)),
    )


def rank(result: GradingResult) -> int:
    return grade_rank(result.position, result.level)


def raised(inputs: GradingInputs, which: int, by: Decimal) -> GradingInputs:
    """``inputs`` with one score (0: written, 1-5: a practical department) raised, up to 100."""
    if which == 0:
        return replace(inputs, written=min(Decimal(100), inputs.written + by))
    department = DEPARTMENTS[which - 1]
    practical = dict(inputs.practical)
    practical[department] = min(Decimal(100), practical[department] + by)
    return replace(inputs, practical=practical)


@given(grading_inputs(), st.integers(0, len(DEPARTMENTS)), scores)
def test_the_grade_never_falls_when_one_score_rises(inputs, which, by):
    before, after = grade(inputs, POLICY), grade(raised(inputs, which, by), POLICY)
    assert rank(after) >= rank(before)
    assert after.passed or not before.passed
    if before.grade_score is not None:
        assert after.grade_score is not None and after.grade_score >= before.grade_score


@given(grading_inputs(passing))
def test_eligibility_only_caps_the_band_the_score_earns(inputs):
    result = grade(inputs, POLICY)
    assert result.passed and result.band is not None
    assert rank(result) <= grade_rank(result.band.position, result.band.level)
    if rank(result) < grade_rank(result.band.position, result.band.level):
        assert result.capped_by  # a cap always names the condition that failed
    if not result.capped_by:
        assert (result.position, result.level) == (result.band.position, result.band.level)


@given(grading_inputs(passing))
def test_a_trainee_meeting_every_condition_gets_the_band_of_the_score(inputs):
    eligible = replace(
        inputs,
        education=Education.BACHELOR,
        experience_years=Decimal(10),
        mastered_series=("X1", "X2", "X3"),
    )
    result = grade(eligible, POLICY)
    assert result.band is not None
    assert (result.position, result.level) == (result.band.position, result.band.level)


@given(grading_inputs())
def test_the_averages_are_exact(inputs):
    result = grade(inputs, POLICY)
    assert isinstance(result.practical_mean, Decimal)
    assert result.practical_mean * len(DEPARTMENTS) == sum(inputs.practical.values())
    assert result.practical_mean == result.practical_mean.quantize(Decimal("0.01"))
    if result.grade_score is not None:
        assert result.grade_score * 2 == inputs.written + result.practical_mean
        assert result.grade_score == result.grade_score.quantize(Decimal("0.001"))


@given(grading_inputs())
def test_every_decision_traces_the_rules_it_applied(inputs):
    result = grade(inputs, POLICY)
    rules = {line.split(":")[0] for line in result.rule_trace}
    assert {"R-15", "R-16"} <= rules
    assert ("R-18" in rules) is not result.passed
    assert ("R-20" in rules) is result.passed
    assert grade(inputs, POLICY) == result  # pure: the same inputs give the same decision
