"""Events of the compensation service (published as ``compensation.<EventType>``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.events import Event, EventRegistry
from shared.policy_events import PolicyPublished

from .vocabulary import Category, Level, LineName, Position

registry = EventRegistry()
# A version of a policy this service applies, stream ``policy-<name>`` (shared.policy_store).
registry.register(PolicyPublished)


class RateLine(BaseModel):
    """A monthly component of a pay rate (exact, unrounded: a payslip rounds once, R-32)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: LineName
    amount: Decimal
    rule: str


class TravelDayRate(BaseModel):
    """Pay per travel day = ``amount / divisor``, kept as a fraction so 2600 / 22 stays exact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: LineName
    amount: Decimal
    divisor: int  # the working days of a month for travel pay, else 1
    rule: str


class Line(BaseModel):
    """A payslip line, rounded once, half-up, to 0.01."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: LineName
    amount: Decimal
    rule: str


@registry.register
class PayRateSet(Event):
    """R-25 to R-30, R-32: the rate a grade sets, in force from ``effective_from``."""

    event_type = "PayRateSet"
    employee_id: str
    category: Category
    position: Position
    level: Level | None  # None for the reserve position
    monthly: Decimal | None  # monthly pay; None where there is no fixed monthly figure
    lines: list[RateLine]  # the monthly components
    travel_day_rates: list[TravelDayRate]  # per travel day
    piece_rate_rule: str | None  # the rule adding the month's piece-rate wage
    effective_from: date  # the day its decision was made (a correction: see domain/in_force.py)
    grade_event_id: UUID
    policy_version: str
    rule_trace: list[str]
    supersedes: UUID | None = None  # the grade event this decision corrects
    decided_at: datetime | None = None  # when the decision was made (None: recorded before)


@registry.register
class TravelDaysRecorded(Event):
    event_type = "TravelDaysRecorded"
    employee_id: str
    month: str  # YYYY-MM
    days: int
    recorded_by: str


@registry.register
class PieceRateRecorded(Event):
    """R-28/R-29: the piece-rate wage from production for the month."""

    event_type = "PieceRateRecorded"
    employee_id: str
    month: str
    amount: Decimal


@registry.register
class PerformanceRated(Event):
    """R-27: the appraisal rating (0-100 %) the month's performance pay is scaled by."""

    event_type = "PerformanceRated"
    employee_id: str
    month: str
    rating: Decimal


@registry.register
class PayslipIssued(Event):
    """R-32: a month's payslip; a correction is a new payslip naming the one it supersedes."""

    event_type = "PayslipIssued"
    payslip_id: UUID
    month: str
    employee_id: str
    lines: list[Line]
    total: Decimal
    inputs_digest: str  # the hash of what it was computed from: same digest, nothing to issue
    supersedes: UUID | None  # the payslip_id it corrects
    difference: Decimal | None  # total - the superseded payslip's total
    policy_version: str
    rule_trace: list[str]


@registry.register
class BranchFeeCharged(Event):
    """R-19/R-33: training days of a branch-commissioned trainee charged to the branch.

    Charges add up: a later charge of the same month lists only days not charged before.
    """

    event_type = "BranchFeeCharged"
    month: str
    branch_id: str
    trainee_id: str
    days: list[date]
    amount: Decimal
    fee_per_day: Decimal
    policy_version: str


@registry.register
class TrainerFineIssued(Event):
    """R-24/R-33: a trainer's fine, in the month the penalty was assessed."""

    event_type = "TrainerFineIssued"
    month: str
    trainer_id: str
    session_id: str
    product_series: str | None  # None for a session held for a training content
    failure_rate: Decimal
    amount: Decimal
    penalty_event_id: UUID
    content: str | None = None  # the training content of the session, when not a series
