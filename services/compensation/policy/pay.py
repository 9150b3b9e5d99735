"""R-19, R-25 to R-32: pay tables and payroll parameters as versioned policy data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from shared.policy import PolicyBook, PolicyVersion

from ..domain.vocabulary import Attribution, Category, Level, Position


class PayRow(BaseModel):
    """One row of a pay table: a category x position x level and the components it pays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: Category
    position: Position
    level: Level
    rule: str
    monthly: Decimal | None = None  # split into position and performance pay
    travel_allowance_per_day: Decimal | None = None
    piece_rate: bool = False  # the month's piece-rate wage is paid
    technical_allowance: Decimal | None = None  # per month
    travel_day_monthly: Decimal | None = None  # per travel day = this / working days
    travel_subsidy_per_day: Decimal | None = None


class PayPolicy(PolicyVersion):
    working_days_per_month: int
    position_share: Decimal
    performance_share: Decimal
    default_rating: Decimal  # when no rating is recorded for the month
    travel_days_attribution: Attribution  # R-32 policy decision
    piece_rate_attribution: Attribution  # R-32 policy decision
    branch_fee_per_training_day: Decimal
    unpaid_categories: tuple[Category, ...]  # paid by their branch
    positions_without_lines: tuple[Position, ...]  # worker's treatment
    rows: tuple[PayRow, ...]

    @model_validator(mode="after")
    def _consistent(self) -> PayPolicy:
        if self.position_share + self.performance_share != 1:
            raise ValueError("position_share + performance_share must be 1")
        if self.working_days_per_month <= 0:
            raise ValueError("working_days_per_month must be positive")
        keys = [(r.category, r.position, r.level) for r in self.rows]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate pay table rows")
        return self

    def row(self, category: Category, position: Position, level: Level) -> PayRow:
        for row in self.rows:
            if (row.category, row.position, row.level) == (category, position, level):
                return row
        raise LookupError(f"{self.version}: no pay row for {category} {position} {level}")


PAY = PolicyBook.load(PayPolicy, Path(__file__).with_name("pay.json"))
