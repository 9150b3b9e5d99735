"""Events of the enrollment service (published as ``enrollment.<EventType>``): trainees, and the
organisation they belong to (branches, and the staff who train and examine; streams
``branch-<id>`` and ``staff-<id>``), which the other services learn from these events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.events import Event, EventRegistry
from shared.policy_events import PolicyPublished

from .vocabulary import BranchKind, Category, Department, Education, PlanLevel, Position, StaffRole

registry = EventRegistry()
# A version of a policy this service applies, stream ``policy-<name>`` (shared.policy_store).
registry.register(PolicyPublished)


@registry.register
class TraineeEnrolled(Event):
    """R-3: the enrollment record."""

    event_type = "TraineeEnrolled"
    trainee_id: str
    name: str
    category: Category
    branch_id: str
    education: Education
    experience_years: Decimal
    certificates: list[str]
    product_series: list[str]  # mastered at enrollment
    enrolled_on: date


@registry.register
class PlacementExamScored(Event):
    """R-6: the placement exam fixes the starting position and the plan level."""

    event_type = "PlacementExamScored"
    trainee_id: str
    written: Decimal
    practical: Decimal | None
    average: Decimal
    position: Position
    plan_level: PlanLevel
    policy_version: str
    rule_trace: list[str]
    scored_on: date


@registry.register
class TraineeWithdrawn(Event):
    event_type = "TraineeWithdrawn"
    trainee_id: str
    reason: str
    withdrawn_on: date


# --- the organisation (R-2, R-5) ---------------------------------------------------------------


@registry.register
class BranchRegistered(Event):
    """R-2: a branch trainees may be enrolled at, from now on."""

    event_type = "BranchRegistered"
    branch_id: str
    kind: BranchKind
    name_zh: str
    name_en: str


@registry.register
class BranchRenamed(Event):
    """The branch's names after the change (both, whichever changed)."""

    event_type = "BranchRenamed"
    branch_id: str
    name_zh: str
    name_en: str


@registry.register
class BranchClosed(Event):
    """R-2: the branch takes no new enrolments; its trainees' history stays as it is."""

    event_type = "BranchClosed"
    branch_id: str
    closed_on: date
    reason: str


@registry.register
class StaffRegistered(Event):
    """R-5: someone of a department who trains, examines, or both."""

    event_type = "StaffRegistered"
    staff_id: str
    name: str
    department: Department
    roles: list[StaffRole]
    branch_id: str


@registry.register
class StaffLeft(Event):
    event_type = "StaffLeft"
    staff_id: str
    left_on: date
