"""The assessment service's words (R-4, R-5, R-15 to R-23).

The education ranks repeat enrollment's R-4 order on purpose: a service never imports another
service's package, and the ranks arrive with ``TraineeEnrolled`` as plain names.
"""

from __future__ import annotations

from enum import StrEnum

# R-5; the grading policy names the five that score the practical exam.
from shared.departments import Department as Department


class Education(StrEnum):
    """R-4 education levels; ``rank`` orders them (high school and 中专 share a rank)."""

    JUNIOR_HIGH = "junior_high"
    HIGH_SCHOOL = "high_school"
    VOCATIONAL_SECONDARY = "vocational_secondary"
    JUNIOR_COLLEGE = "junior_college"
    BACHELOR = "bachelor"
    POSTGRADUATE = "postgraduate"

    @property
    def rank(self) -> int:
        return _EDUCATION_RANK[self]


_EDUCATION_RANK = {
    Education.JUNIOR_HIGH: 0,
    Education.HIGH_SCHOOL: 1,
    Education.VOCATIONAL_SECONDARY: 1,
    Education.JUNIOR_COLLEGE: 2,
    Education.BACHELOR: 3,
    Education.POSTGRADUATE: 4,
}


class Position(StrEnum):
    """R-20 graded positions, lowest first. No grade (reserve, R-20/R-21) is ``None``."""

    TECHNICIAN = "technician"
    ENGINEER = "engineer"

    @property
    def rank(self) -> int:
        return list(Position).index(self)


class Level(StrEnum):
    """R-20 levels within a position, lowest first."""

    JUNIOR = "junior"
    INTERMEDIATE = "intermediate"
    SENIOR = "senior"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


def grade_rank(position: Position | None, level: Level | None) -> int:
    """Orders grades: no grade (-1) < technician junior (0) < ... < engineer senior (5)."""
    if position is None or level is None:
        return -1
    return position.rank * len(Level) + level.rank


class ExamKind(StrEnum):
    """R-15 written, R-16 practical."""

    WRITTEN = "written"
    PRACTICAL = "practical"


class Disposition(StrEnum):
    """R-18: what becomes of a trainee who failed."""

    CONTINUE_TRAINING = "continue_training"  # 继续培训
    RESERVE = "reserve"  # 储备
    WORKSHOP = "workshop"  # 下放为车间员工


class DisputeOutcome(StrEnum):
    """R-23: a review upholds the grade or corrects the scores."""

    UPHELD = "upheld"
    CORRECTED = "corrected"
