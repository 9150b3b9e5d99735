"""The education levels of R-4 (docs/rules.md): enrollment records a trainee's on enrolment,
assessment's eligibility rules rank them. ``TraineeEnrolled`` carries the value from one service
to the other, so both know the same levels in the same order."""

from __future__ import annotations

from enum import StrEnum


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
