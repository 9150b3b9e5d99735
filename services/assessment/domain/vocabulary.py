"""The assessment service's words (R-4, R-5, R-15 to R-23). The education levels (R-4) and the
departments (R-5) are every service's (shared/): events carry their values between services."""

from __future__ import annotations

from enum import StrEnum

# R-5; the grading policy names the five that score the practical exam.
from shared.departments import Department as Department
from shared.education import Education as Education  # the eligibility routes rank it


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


# R-24 (issue 12): what an exam session may be held for besides a product series. Assessment keeps
# its own copy of the regulation's lists (R-7a content codes, R-8a mandatory topics) rather than
# asking training or learning them from plans: a session may be opened before any plan names the
# content, and an unknown word is refused at once (422) instead of examining no one.
CONTENT_CODES: frozenset[str] = frozenset(
    {
        # R-7a basic
        "circuit_diagrams",
        "electrical_components",
        "power_tools",
        "assembly",
        "commissioning",
        "working_principle",
        "product_structure",
        # R-7a intermediate (besides those of basic)
        "circuit_principles",
        "mechanical_structure",
        "maintenance",
        "program_install",
        "fault_analysis",
        "fault_repair",
        # R-7a advanced (besides those above)
        "electrical_principles",
        "program_modification",
        "parts_repair",
    }
)
MANDATORY_TOPICS: frozenset[str] = frozenset(
    {"company_processes", "department_responsibilities", "travel_policy", "appraisal_rules"}
)
SESSION_CONTENTS: frozenset[str] = CONTENT_CODES | MANDATORY_TOPICS
