"""Events of the enrollment service (published as ``enrollment.<EventType>``): trainees, and the
organisation they belong to (branches, and the staff who train and examine; streams
``branch-<id>`` and ``staff-<id>``), which the other services learn from these events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from shared.erasure import PersonalDataErased
from shared.events import Event, EventRegistry, JsonDict
from shared.personal import PERSONAL
from shared.policy_events import PolicyPublished

from .vocabulary import BranchKind, Category, Department, Education, PlanLevel, Position, StaffRole

registry = EventRegistry()
# A version of a policy this service applies, stream ``policy-<name>`` (shared.policy_store).
registry.register(PolicyPublished)
# A person's key was destroyed (``POST /people/{id}/erasure``), stream ``person-<id>``
# (shared/erasure.py, docs/privacy.md).
registry.register(PersonalDataErased)


@registry.register
class TraineeEnrolled(Event):
    """R-3: the enrollment record. The name and the certificates are the trainee's personal data
    (sealed with the trainee's key); ``certificate_count`` stays clear, since other services
    decide with it (R-21 eligibility) and must still do so once the trainee is erased."""

    event_type = "TraineeEnrolled"
    schema_version = 2
    data_subject = "trainee_id"
    trainee_id: str
    name: Annotated[str, PERSONAL]
    category: Category
    branch_id: str
    education: Education  # clear: an enum eligibility is decided with
    experience_years: Decimal
    certificates: Annotated[list[str], PERSONAL]
    certificate_count: int  # v2: len(certificates), in clear
    product_series: list[str]  # mastered at enrollment
    enrolled_on: date


@registry.upcaster("TraineeEnrolled", 1)
def _certificates_counted(data: JsonDict) -> JsonDict:
    """v1 -> v2: the count of the certificates, in clear. (A v1 event stored with clear values
    and read after its trainee's erasure reveals ``["[erased]"]``: it counts one.)"""
    data["certificate_count"] = len(data["certificates"])
    return data


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
    data_subject = "trainee_id"
    trainee_id: str
    reason: Annotated[str, PERSONAL]  # free text about the trainee
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
    data_subject = "staff_id"
    staff_id: str
    name: Annotated[str, PERSONAL]
    department: Department
    roles: list[StaffRole]
    branch_id: str


@registry.register
class StaffLeft(Event):
    event_type = "StaffLeft"
    staff_id: str
    left_on: date
