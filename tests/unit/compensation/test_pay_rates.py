"""R-25 to R-31: the rate each grade sets, from the pay tables of policy pay-2026.1."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.compensation.domain.rates import pay_rate
from services.compensation.policy.pay import FEES, PAY
from shared.policy import UnknownPolicyVersion

from .support import (
    BRANCH,
    ENGINEER,
    HQ,
    INTERMEDIATE,
    JUNIOR,
    POLICY,
    PRODUCTION,
    RESERVE,
    SENIOR,
    TECHNICIAN,
    amounts,
    full_month,
    payslip,
    rate,
)

# category, position, level, rule, monthly, monthly lines, per travel day (amount, divisor)
TABLE = [
    (HQ, TECHNICIAN, JUNIOR, "R-25", "2700", {"position": "1890", "performance": "810"}, {}),
    (HQ, TECHNICIAN, INTERMEDIATE, "R-25", "2800", {"position": "1960", "performance": "840"}, {}),
    (HQ, TECHNICIAN, SENIOR, "R-25", "2900", {"position": "2030", "performance": "870"}, {}),
    (
        HQ,
        ENGINEER,
        JUNIOR,
        "R-26",
        "3000",
        {"position": "2100", "performance": "900"},
        {"travel_allowance": ("50", 1)},
    ),
    (
        HQ,
        ENGINEER,
        INTERMEDIATE,
        "R-26",
        "3200",
        {"position": "2240", "performance": "960"},
        {"travel_allowance": ("100", 1)},
    ),
    (
        HQ,
        ENGINEER,
        SENIOR,
        "R-26",
        "3500",
        {"position": "2450", "performance": "1050"},
        {"travel_allowance": ("150", 1)},
    ),
    (
        PRODUCTION,
        TECHNICIAN,
        JUNIOR,
        "R-28",
        None,
        {"technical_allowance": "50"},
        {"travel_pay": ("2600", 22)},
    ),
    (
        PRODUCTION,
        TECHNICIAN,
        INTERMEDIATE,
        "R-28",
        None,
        {"technical_allowance": "80"},
        {"travel_pay": ("2700", 22)},
    ),
    (
        PRODUCTION,
        TECHNICIAN,
        SENIOR,
        "R-28",
        None,
        {"technical_allowance": "120"},
        {"travel_pay": ("2800", 22)},
    ),
    (
        PRODUCTION,
        ENGINEER,
        JUNIOR,
        "R-29",
        None,
        {"technical_allowance": "150"},
        {"travel_pay": ("2900", 22), "travel_subsidy": ("50", 1)},
    ),
    (
        PRODUCTION,
        ENGINEER,
        INTERMEDIATE,
        "R-29",
        None,
        {"technical_allowance": "200"},
        {"travel_pay": ("3000", 22), "travel_subsidy": ("50", 1)},
    ),
    (
        PRODUCTION,
        ENGINEER,
        SENIOR,
        "R-29",
        None,
        {"technical_allowance": "300"},
        {"travel_pay": ("3200", 22), "travel_subsidy": ("50", 1)},
    ),
]


@pytest.mark.parametrize(
    ("category", "position", "level", "rule", "monthly", "lines", "per_day"), TABLE
)
def test_each_pay_table_row(category, position, level, rule, monthly, lines, per_day):
    rate_set = rate(category, position, level)
    assert rate_set.monthly == (None if monthly is None else Decimal(monthly))
    assert {line.name.value: line.amount for line in rate_set.lines} == {
        name: Decimal(amount) for name, amount in lines.items()
    }
    assert {r.name.value: (r.amount, r.divisor) for r in rate_set.travel_day_rates} == {
        name: (Decimal(amount), divisor) for name, (amount, divisor) in per_day.items()
    }
    assert rate_set.piece_rate_rule == (rule if category is PRODUCTION else None)
    assert rate_set.policy_version == "pay-2026.1"
    assert rate_set.rule_trace[0].startswith(f"{rule}: {category.value} {position.value}")


@pytest.mark.parametrize(("category", "position", "level", "rule", "monthly", "lines", "_"), TABLE)
def test_a_full_month_pays_each_monthly_component_of_the_row(
    category, position, level, rule, monthly, lines, _
):
    paid = amounts(payslip(full_month(rate(category, position, level))))
    for name, amount in lines.items():
        assert paid[name] == str(Decimal(amount).quantize(Decimal("0.01")))
    if monthly is not None:
        assert Decimal(paid["position"]) + Decimal(paid["performance"]) == Decimal(monthly)


def test_rules_on_lines_name_the_table_and_r27_for_performance():
    engineer = rate(HQ, ENGINEER, SENIOR)
    assert [(line.name.value, line.rule) for line in engineer.lines] == [
        ("position", "R-26"),
        ("performance", "R-27"),
    ]


@pytest.mark.parametrize("category", [HQ, PRODUCTION])
def test_r30_reserve_position_has_a_rate_without_lines(category):
    rate_set = rate(category, RESERVE, None)
    assert (rate_set.lines, rate_set.travel_day_rates, rate_set.piece_rate_rule) == ([], [], None)
    assert rate_set.monthly is None
    assert rate_set.rule_trace[0].startswith("R-30")
    assert payslip(full_month(rate_set), travel_days=5, piece_rate=Decimal(900)) == []


@pytest.mark.parametrize("position", [TECHNICIAN, ENGINEER, RESERVE])
def test_r31_branch_commissioned_staff_get_no_rate(position):
    level = None if position is RESERVE else SENIOR
    assert pay_rate("e-1", BRANCH, position, level, date(2026, 4, 1), uuid.uuid4(), POLICY) is None


def test_a_technician_needs_a_level():
    with pytest.raises(LookupError):
        pay_rate("e-1", HQ, TECHNICIAN, None, date(2026, 4, 1), uuid.uuid4(), POLICY)


def test_the_rate_records_grade_and_effective_date():
    grade = uuid.uuid4()
    rate_set = pay_rate("e-7", HQ, ENGINEER, JUNIOR, date(2026, 4, 16), grade, POLICY)
    assert rate_set is not None
    assert (rate_set.employee_id, rate_set.grade_event_id) == ("e-7", grade)
    assert rate_set.effective_from == date(2026, 4, 16)
    assert rate_set.rule_trace[-1] == f"R-32: in force from 2026-04-16 (grade event {grade})"


def test_pay_policy_is_versioned_data():
    assert PAY.in_force(date(2000, 1, 1)).version == "pay-2026.1"
    assert PAY.named("pay-2026.1").working_days_per_month == 22
    assert FEES.named("pay-2026.1").branch_fee_per_training_day == Decimal(200)  # R-19 split
    assert POLICY.default_rating == Decimal(100)
    assert POLICY.travel_days_attribution.value == "prorated"
    with pytest.raises(UnknownPolicyVersion):
        PAY.in_force(date(1999, 12, 31))
