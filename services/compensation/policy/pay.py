"""R-19, R-25 to R-32: pay tables and payroll parameters as versioned policy data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from shared.policy import PolicyBook, PolicyVersion
from shared.policy_checks import Problems, distinct, every_present, positive

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
    unpaid_categories: tuple[Category, ...]  # paid by their branch
    positions_without_lines: tuple[Position, ...]  # worker's treatment
    rows: tuple[PayRow, ...]

    def problems(self) -> Problems:
        """Shares positive and summing to 1, working days positive, a rating, amounts positive,
        every (category, position, level) row once, for each category the company pays."""
        found = [
            *positive("working_days_per_month", self.working_days_per_month),
            *positive("position_share", self.position_share),
            *positive("performance_share", self.performance_share),
            *positive("default_rating", self.default_rating),
            *distinct("rows", [(r.category, r.position, r.level) for r in self.rows]),
        ]
        if self.position_share + self.performance_share != 1:
            found.append(("performance_share", "position_share + performance_share must be 1"))
        for row in self.rows:
            key = f"rows[{row.category}/{row.position}/{row.level}]"
            for name in _AMOUNTS:
                found += positive(f"{key}.{name}", getattr(row, name))
        paid = [c for c in Category if c not in self.unpaid_categories]
        wanted = [
            (c, p, lv)
            for c in paid
            for p in Position
            if p not in self.positions_without_lines
            for lv in Level
        ]
        found += every_present(
            "rows", [(r.category, r.position, r.level) for r in self.rows], wanted
        )
        return found

    def row(self, category: Category, position: Position, level: Level) -> PayRow:
        for row in self.rows:
            if (row.category, row.position, row.level) == (category, position, level):
                return row
        raise LookupError(f"{self.version}: no pay row for {category} {position} {level}")


_AMOUNTS = (
    "monthly",
    "travel_allowance_per_day",
    "technical_allowance",
    "travel_day_monthly",
    "travel_subsidy_per_day",
)


class FeesPolicy(PolicyVersion):
    """R-19 the branch fee, a policy of its own since 2026-12 (it was part of pay: a fee
    recorded ``pay-2026.1`` resolves to ``fees-2026.1`` through the seed's aliases)."""

    branch_fee_per_training_day: Decimal

    def problems(self) -> Problems:
        return positive("branch_fee_per_training_day", self.branch_fee_per_training_day)


# The versions this release ships (the seeds of the ``pay`` and ``fees`` streams): read-only; a
# running app resolves the version from its own book (app.state.policies, shared.policy_store).
PAY = PolicyBook.load(PayPolicy, Path(__file__).with_name("pay.json"))
FEES = PolicyBook.load(FeesPolicy, Path(__file__).with_name("fees.json"))
