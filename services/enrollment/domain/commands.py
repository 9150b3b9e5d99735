"""Commands of the enrollment service: imperative, carrying ``now`` and ids (never read a clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..policy.placement import PlacementPolicy
from .vocabulary import BranchKind, Category, Department, Education, StaffRole


@dataclass(frozen=True)
class RegisteredBranch:
    """What the registry holds of a branch, as the deciders that name one need it (R-1, R-2)."""

    branch_id: str
    kind: BranchKind
    closed_on: date | None = None  # None: open


@dataclass(frozen=True)
class EnrollTrainee:
    trainee_id: str
    name: str
    category: Category
    branch_id: str
    education: Education
    experience_years: Decimal
    certificates: tuple[str, ...]
    product_series: tuple[str, ...]
    enrolled_on: date
    today: date
    # The registry's branch ``branch_id`` names, as the handler found it: the decider
    # checks that it is registered, open and of the right kind. None (not registered) by
    # default, so an enrolment nobody looked the branch up for is refused, never let through.
    branch: RegisteredBranch | None = None


@dataclass(frozen=True)
class ScorePlacement:
    trainee_id: str
    written: Decimal
    practical: Decimal | None
    today: date
    policy: PlacementPolicy | None = None  # in force today (the app's book); None: the shipped


@dataclass(frozen=True)
class WithdrawTrainee:
    trainee_id: str
    reason: str
    today: date


Command = EnrollTrainee | ScorePlacement | WithdrawTrainee


# --- the organisation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterBranch:
    branch_id: str
    kind: BranchKind
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class RenameBranch:
    """Either name, or both; a name left None stays as it is."""

    branch_id: str
    name_zh: str | None
    name_en: str | None


@dataclass(frozen=True)
class CloseBranch:
    branch_id: str
    closed_on: date
    reason: str
    today: date


BranchCommand = RegisterBranch | RenameBranch | CloseBranch


@dataclass(frozen=True)
class RegisterStaff:
    staff_id: str
    name: str
    department: Department
    roles: tuple[StaffRole, ...]
    branch_id: str
    # The registry's branch ``branch_id`` names, looked up by the handler (as for enrolments).
    branch: RegisteredBranch | None = None


@dataclass(frozen=True)
class RecordLeaving:
    staff_id: str
    left_on: date
    today: date


StaffCommand = RegisterStaff | RecordLeaving
