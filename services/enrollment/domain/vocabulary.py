"""The enrollment service's words for people and organisations (R-1, R-2, R-4, R-5)."""

from __future__ import annotations

from enum import StrEnum

from shared.categories import Category as Category
from shared.departments import Department as Department  # where the staff work
from shared.education import Education as Education


class BranchKind(StrEnum):
    """R-2: the HQ itself, a branch office 办事处 or a dealer 经销商."""

    HQ = "hq"
    BRANCH_OFFICE = "branch_office"
    DEALER = "dealer"


class BranchStatus(StrEnum):
    """A registered branch is open until it is closed; a closed branch takes no new enrolments."""

    OPEN = "open"
    CLOSED = "closed"


class StaffRole(StrEnum):
    """What a staff member does for the training: trains (R-9 to R-13), examines (R-15, R-16)."""

    TRAINER = "trainer"
    EXAMINER = "examiner"


class StaffStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class Position(StrEnum):
    """R-6 starting positions."""

    RESERVE = "reserve"
    TECHNICIAN = "technician"
    ENGINEER = "engineer"


class PlanLevel(StrEnum):
    """R-6/R-7 plan levels."""

    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Status(StrEnum):
    ENROLLED = "enrolled"
    PLACED = "placed"
    WITHDRAWN = "withdrawn"
