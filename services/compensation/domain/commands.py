"""Commands of the compensation service: imperative, carrying ids (deciders never make them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shared.policy import PolicyBook

from ..policy.pay import PayPolicy
from .events import BranchFeeCharged, TrainerFineIssued
from .payslip import ComputedPayslip
from .vocabulary import Category, Level, Position


@dataclass(frozen=True)
class ApplyGrade:
    """A grade (GradeAssigned, or reserve after a disposition) sets the pay rate (R-25 to R-32)."""

    employee_id: str
    category: Category
    position: Position
    level: Level | None  # None for the reserve position
    effective_from: date  # the day the grade was assigned
    grade_event_id: UUID
    supersedes: UUID | None = None  # the grade event it corrects
    decided_at: datetime | None = None  # orders decisions of one day
    pay: PolicyBook[PayPolicy] | None = None  # the service's book; None: the shipped one


@dataclass(frozen=True)
class RecordTravelDays:
    employee_id: str
    month: str  # YYYY-MM
    days: int
    recorded_by: str


@dataclass(frozen=True)
class RecordPieceRate:
    employee_id: str
    month: str
    amount: Decimal


@dataclass(frozen=True)
class RatePerformance:
    employee_id: str
    month: str
    rating: Decimal  # 0-100 (%)


AccountCommand = ApplyGrade | RecordTravelDays | RecordPieceRate | RatePerformance


@dataclass(frozen=True)
class RunPayroll:
    """Issue the month's payslips (and charges) that differ from what the month already holds."""

    month: str
    payslips: tuple[ComputedPayslip, ...]
    branch_fees: tuple[BranchFeeCharged, ...] = ()  # R-19, as computed by ``fees.branch_fees``
    trainer_fines: tuple[TrainerFineIssued, ...] = ()  # R-24, from ``fees.trainer_fines``
