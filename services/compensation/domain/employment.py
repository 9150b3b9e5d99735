"""Whom the company pays and which rate is an employee's today (R-31, R-32). Pure."""

from __future__ import annotations

from datetime import date

from shared.decider import RuleViolation

from ..policy.pay import PayPolicy
from .account import PayAccount, rate_on
from .commands import AccountCommand, RatePerformance, RecordPieceRate
from .events import PayRateSet
from .vocabulary import Category


def check_paid(category: Category, policy: PayPolicy) -> None:
    """R-31: a branch pays its commissioned staff, so the company records no pay inputs for them."""
    if category in policy.unpaid_categories:
        raise RuleViolation(
            "R-31", f"{category.value} staff are paid by their branch; the company computes no pay"
        )


def check_recordable(category: Category, command: AccountCommand, policy: PayPolicy) -> None:
    """The account's own checks know the category only once a grade set a rate; enrollment tells
    it before that, so an input that could never be paid is refused from the start."""
    check_paid(category, policy)
    if isinstance(command, RecordPieceRate) and category is Category.HQ_FULL_TIME:
        raise RuleViolation("R-28", "a piece-rate wage is paid to production-reserve staff only")
    if isinstance(command, RatePerformance) and category is Category.PRODUCTION_RESERVE:
        raise RuleViolation("R-27", "production-reserve staff have no performance pay")


def current_rate(account: PayAccount, today: date) -> PayRateSet | None:
    """The rate in force ``today`` (R-32); before any is in force, the latest one recorded."""
    in_force = rate_on(account, today)
    if in_force is not None:
        return in_force
    return account.rates[-1] if account.rates else None
