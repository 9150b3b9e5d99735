"""R-31 (whom the company pays) and R-32 (the rate in force today)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.compensation.domain.account import PAY_ACCOUNT, PayAccount
from services.compensation.domain.commands import (
    RatePerformance,
    RecordPieceRate,
    RecordTravelDays,
)
from services.compensation.domain.employment import check_paid, check_recordable, current_rate
from shared.decider import RuleViolation

from .support import BRANCH, ENGINEER, HQ, INTERMEDIATE, JUNIOR, POLICY, PRODUCTION, rate


def test_r31_branch_commissioned_staff_are_not_paid_by_the_company():
    with pytest.raises(RuleViolation) as refused:
        check_paid(BRANCH, POLICY)
    assert refused.value.rule == "R-31"
    check_paid(HQ, POLICY)
    check_paid(PRODUCTION, POLICY)


@pytest.mark.parametrize(
    ("category", "command", "rule"),
    [
        (HQ, RecordPieceRate("e-1", "2026-04", Decimal(10)), "R-28"),
        (PRODUCTION, RatePerformance("e-1", "2026-04", Decimal(90)), "R-27"),
        (BRANCH, RecordTravelDays("e-1", "2026-04", 2, "pay-1"), "R-31"),
    ],
)
def test_inputs_the_category_can_never_be_paid_are_refused_before_any_grade(
    category, command, rule
):
    with pytest.raises(RuleViolation) as refused:
        check_recordable(category, command, POLICY)
    assert refused.value.rule == rule


def test_inputs_the_category_is_paid_for_pass():
    check_recordable(HQ, RatePerformance("e-1", "2026-04", Decimal(90)), POLICY)
    check_recordable(PRODUCTION, RecordPieceRate("e-1", "2026-04", Decimal(10)), POLICY)
    check_recordable(HQ, RecordTravelDays("e-1", "2026-04", 2, "pay-1"), POLICY)


def test_r32_the_current_rate_is_the_one_in_force_today():
    first = rate(HQ, ENGINEER, JUNIOR, date(2026, 3, 1))
    later = rate(HQ, ENGINEER, INTERMEDIATE, date(2026, 6, 1))
    account = PAY_ACCOUNT.fold([first, later])
    assert current_rate(account, date(2026, 5, 31)) is first
    assert current_rate(account, date(2026, 6, 1)) is later


def test_before_any_rate_is_in_force_the_latest_recorded_is_shown():
    upcoming = rate(HQ, ENGINEER, JUNIOR, date(2026, 9, 1))
    assert current_rate(PAY_ACCOUNT.fold([upcoming]), date(2026, 8, 1)) is upcoming
    assert current_rate(PayAccount(), date(2026, 8, 1)) is None
