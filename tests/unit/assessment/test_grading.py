"""The grading policy: worked examples A-C, every band boundary, eligibility caps, the trace."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.assessment.domain.vocabulary import Education, ExamKind, Level, Position
from services.assessment.policy.grading import (
    GRADING,
    PRACTICAL_SPREAD,
    GradingPolicy,
    grade,
)

from .builders import DEPARTMENTS, POLICY, facts, inputs

ENGINEER, TECHNICIAN = Position.ENGINEER, Position.TECHNICIAN
JUNIOR, INTERMEDIATE, SENIOR = Level.JUNIOR, Level.INTERMEDIATE, Level.SENIOR


def test_the_first_policy_version_is_in_force_since_2000_with_five_practical_departments():
    assert GRADING.in_force(date(2000, 1, 1)).version == "grading-2026.1"
    assert GRADING.named("grading-2026.1") is POLICY
    assert [str(d) for d in DEPARTMENTS] == [
        "technical",
        "process_engineering",
        "quality",
        "after_sales",
        "production",
    ]
    assert (POLICY.written_pass_mark, POLICY.practical_pass_mark) == (80, 80)


def test_example_a_high_school_4_years_3_series_is_engineer_intermediate():
    result = grade(inputs("95", ("96", "95", "97", "98", "94")), POLICY)
    assert result.passed and result.failed_exams == []
    assert (result.practical_mean, result.grade_score) == (Decimal(96), Decimal("95.5"))
    assert (result.position, result.level) == (ENGINEER, INTERMEDIATE)
    assert result.capped_by == [] and result.review_flags == []
    assert result.policy_version == "grading-2026.1"
    assert result.rule_trace[:2] == [
        "R-15: written 95 >= 80 -> pass",
        "R-16: practical mean (96 + 95 + 97 + 98 + 94) / 5 = 96 >= 80 -> pass",
    ]
    assert "R-20: grade score (95 + 96) / 2 = 95.5" in result.rule_trace
    assert "R-20: 95.5 >= 94 -> engineer intermediate" in result.rule_trace
    assert result.rule_trace[-1].startswith("R-21: engineer eligibility met")


def test_example_b_only_2_series_caps_the_engineer_score_to_technician_senior():
    result = grade(inputs(trainee=facts(series=("X1", "X2"))), POLICY)
    assert (result.position, result.level) == (TECHNICIAN, SENIOR)
    assert result.band is not None and (result.band.position, result.band.level) == (
        ENGINEER,
        INTERMEDIATE,
    )
    assert result.capped_by == ["series count"]
    assert (
        "R-21: engineer needs >= 3 series mastered, has 2 -> capped to technician senior"
        in result.rule_trace
    )


def test_example_c_written_79_fails_without_a_grade_and_asks_for_a_disposition():
    result = grade(inputs("79", "95"), POLICY)
    assert not result.passed
    assert result.failed_exams == [ExamKind.WRITTEN]
    assert (result.grade_score, result.position, result.level, result.band) == (None,) * 4
    assert "R-15: written 79 < 80 -> fail" in result.rule_trace
    assert result.rule_trace[-1] == "R-18: failed written -> no grade; a disposition is required"


def test_both_exams_can_fail_together():
    result = grade(inputs("50", "60"), POLICY)
    assert result.failed_exams == [ExamKind.WRITTEN, ExamKind.PRACTICAL]


@pytest.mark.parametrize(
    ("written", "practical", "passed"),
    [
        ("79.9", "95", False),
        ("80", "95", True),
        ("95", ("79.9", "80", "80", "80", "80"), False),  # mean 79.98
        ("95", ("80", "80", "80", "80", "80"), True),
        ("95", ("100", "100", "100", "100", "0"), True),  # mean exactly 80
    ],
)
def test_r15_r16_pass_marks_are_inclusive_lower_bounds(written, practical, passed):
    assert grade(inputs(written, practical), POLICY).passed is passed


def test_r16_practical_mean_of_79_98_fails_exactly_without_rounding():
    result = grade(inputs("95", ("79.9", "80", "80", "80", "80")), POLICY)
    assert result.practical_mean == Decimal("79.98")
    assert result.failed_exams == [ExamKind.PRACTICAL]
    assert "R-16: practical mean (79.9 + 80 + 80 + 80 + 80) / 5 = 79.98 < 80 -> fail" in (
        result.rule_trace
    )


# R-20's bands: (lowest score, highest score, position, level); each is graded at both ends.
BANDS = [
    ("80", "83.9", TECHNICIAN, JUNIOR),
    ("84", "86.9", TECHNICIAN, INTERMEDIATE),
    ("87", "89.9", TECHNICIAN, SENIOR),
    ("90", "93.9", ENGINEER, JUNIOR),
    ("94", "96.9", ENGINEER, INTERMEDIATE),
    ("97", "100", ENGINEER, SENIOR),
]


@pytest.mark.parametrize(
    ("score", "position", "level"),
    [(score, position, level) for low, high, position, level in BANDS for score in (low, high)],
)
def test_r20_every_band_boundary_is_an_inclusive_lower_bound(score, position, level):
    result = grade(inputs(score, score), POLICY)
    assert result.grade_score == Decimal(score)
    assert (result.position, result.level) == (position, level)
    assert result.band is not None and (result.band.position, result.band.level) == (
        position,
        level,
    )


@pytest.mark.parametrize(
    ("written", "practical", "score", "level"),
    [("93.9", "94.1", "94", INTERMEDIATE), ("93.8", "94.1", "93.95", JUNIOR)],
)
def test_r20_half_points_of_the_mean_decide_the_band(written, practical, score, level):
    result = grade(inputs(written, practical), POLICY)
    assert result.grade_score == Decimal(score)
    assert (result.position, result.level) == (ENGINEER, level)


@pytest.mark.parametrize(
    ("experience", "position", "level", "capped_by"),
    [("2.9", TECHNICIAN, SENIOR, ["experience"]), ("3", ENGINEER, INTERMEDIATE, [])],
)
def test_r21_engineer_needs_3_years_experience(experience, position, level, capped_by):
    result = grade(inputs(trainee=facts(experience=experience)), POLICY)
    assert (result.position, result.level, result.capped_by) == (position, level, capped_by)


@pytest.mark.parametrize(
    ("education", "position"),
    [
        (Education.JUNIOR_HIGH, TECHNICIAN),
        (Education.HIGH_SCHOOL, ENGINEER),
        (Education.VOCATIONAL_SECONDARY, ENGINEER),
        (Education.POSTGRADUATE, ENGINEER),
    ],
)
def test_r21_engineer_needs_education_of_vocational_secondary_rank(education, position):
    trainee = facts(education=education, certificates=("electrician",))
    assert grade(inputs(trainee=trainee), POLICY).position is position


def test_r21_junior_high_without_engineer_education_names_the_education_condition():
    trainee = facts(education=Education.JUNIOR_HIGH, certificates=("electrician",))
    result = grade(inputs(trainee=trainee), POLICY)
    assert result.capped_by == ["education"]
    assert result.rule_trace[-2] == (
        "R-21: engineer needs education >= vocational_secondary, has junior_high "
        "-> capped to technician senior"
    )


@pytest.mark.parametrize(
    ("certificates", "experience", "position", "capped_by"),
    [
        (("electrician",), "1", TECHNICIAN, ["education"]),
        ((), "1", None, ["education", "certificate"]),
        (("electrician",), "0.9", None, ["education", "experience"]),
    ],
)
def test_r21_junior_high_technician_needs_a_certificate_and_a_year(
    certificates, experience, position, capped_by
):
    trainee = facts(Education.JUNIOR_HIGH, experience, certificates, ("X1", "X2"))
    result = grade(inputs("85", "85", trainee=trainee), POLICY)  # a technician score
    assert result.position is position
    assert result.capped_by == capped_by[1:]  # a technician score never checks engineer


def test_r21_junior_high_with_an_engineer_score_lists_every_failed_condition():
    trainee = facts(Education.JUNIOR_HIGH, "0.5", (), ("X1",))
    result = grade(inputs(trainee=trainee), POLICY)
    assert result.position is None
    assert result.capped_by == ["education", "experience", "series count", "certificate"]


@pytest.mark.parametrize(("series", "position"), [(("X1", "X2"), TECHNICIAN), (("X1",), None)])
def test_r21_technician_needs_2_series(series, position):
    result = grade(inputs("85", "85", trainee=facts(series=series)), POLICY)
    assert result.position is position


def test_r21_without_technician_eligibility_a_pass_gives_no_grade_reserve():
    result = grade(inputs("85", "85", trainee=facts(series=("X1",))), POLICY)
    assert result.passed and result.failed_exams == []
    assert result.grade_score == Decimal(85)
    assert (result.position, result.level) == (None, None)
    assert result.band is not None and result.band.level is Level.INTERMEDIATE
    assert result.capped_by == ["series count"]
    assert result.rule_trace[-1] == (
        "R-21: technician needs >= 2 series mastered, has 1 -> no grade (reserve)"
    )


def test_r21_the_same_series_mastered_twice_counts_once():
    result = grade(inputs(trainee=facts(series=("X1", "X1", "X2"))), POLICY)
    assert result.capped_by == ["series count"]


@pytest.mark.parametrize(
    ("practical", "flags", "verdict"),
    [
        (
            ("80", "95", "90", "90", "90"),
            [],
            "R-16: practical spread 95 - 80 = 15 <= 15 -> no review",
        ),
        (
            ("80", "95.1", "90", "90", "90"),
            [PRACTICAL_SPREAD],
            "R-16: practical spread 95.1 - 80 = 15.1 > 15 -> review",
        ),
    ],
)
def test_a_practical_spread_above_15_points_is_flagged_for_review(practical, flags, verdict):
    result = grade(inputs("90", practical), POLICY)
    assert result.review_flags == flags
    assert verdict in result.rule_trace
    assert result.passed  # a flag never changes the grade


def test_grade_refuses_practical_scores_from_other_than_the_five_departments():
    four = dict(list(inputs().practical.items())[1:])
    with pytest.raises(ValueError):
        grade(replace(inputs(), practical=four), POLICY)


def test_a_new_policy_version_applies_from_its_date_and_old_decisions_keep_theirs():
    stricter = POLICY.model_copy(
        update={"version": "grading-2027.1", "written_pass_mark": Decimal(85)}
    )
    assert grade(inputs("84", "90"), stricter).failed_exams == [ExamKind.WRITTEN]
    assert grade(inputs("84", "90"), POLICY).passed


def test_policy_data_with_bands_out_of_order_is_refused():
    data = POLICY.model_dump()
    data["bands"] = list(reversed(data["bands"]))
    with pytest.raises(ValidationError):
        GradingPolicy.model_validate(data)
