"""Whom the company pays and which rate is an employee's today (R-31, R-32). Pure."""

from __future__ import annotations

from datetime import date

from shared.decider import RuleViolation

from ..policy.pay import PayPolicy
from .account import PayAccount
from .commands import AccountCommand, RatePerformance, RecordPieceRate
from .events import PayRateSet
from .in_force import in_force_on, rates_in_force
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
    """The rate in force ``today`` (R-32), with the day it took effect (a correction's is the
    day of the grade it corrects, R-23); before any is in force, the one that will win."""
    found = in_force_on(account.rates, today)
    if found is None:
        pending = rates_in_force(account.rates)
        found = pending[-1] if pending else None
    if found is None or found.effective_from == found.rate.effective_from:
        return None if found is None else found.rate
    return found.rate.model_copy(update={"effective_from": found.effective_from})
