"""PayAccount decider: Given events, When a command, Then events (or a refusal naming the field)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.compensation.domain.account import (
    PAY_ACCOUNT,
    account_stream,
    month_inputs,
    rate_on,
    rates_in_month,
)
from services.compensation.domain.commands import (
    ApplyGrade,
    RatePerformance,
    RecordPieceRate,
    RecordTravelDays,
)
from services.compensation.domain.events import PayRateSet, TravelDaysRecorded
from services.compensation.domain.payslip import MonthInputs
from shared.decider import InvalidCommand, RuleViolation

from .support import (
    BRANCH,
    ENGINEER,
    HQ,
    INTERMEDIATE,
    JUNIOR,
    PRODUCTION,
    RESERVE,
    SENIOR,
    TECHNICIAN,
)


def grade(category=HQ, position=ENGINEER, level=INTERMEDIATE, on=date(2026, 3, 2), grade_id=None):
    return ApplyGrade("e-1", category, position, level, on, grade_id or uuid.uuid4())


def given(*commands):
    state = PAY_ACCOUNT.initial()
    for command in commands:
        state = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(command, state), state)
    return state


def refusal(command, state=None):
    with pytest.raises(InvalidCommand) as caught:
        PAY_ACCOUNT.decide(command, state or PAY_ACCOUNT.initial())
    return caught.value.field


def test_a_grade_sets_the_pay_rate_from_the_policy_in_force():
    command = grade()
    (event,) = PAY_ACCOUNT.decide(command, PAY_ACCOUNT.initial())
    assert isinstance(event, PayRateSet)
    assert (event.employee_id, event.monthly, event.grade_event_id) == (
        "e-1",
        Decimal(3200),
        command.grade_event_id,
    )
    assert (event.effective_from, event.policy_version) == (date(2026, 3, 2), "pay-2026.1")
    assert account_stream("e-1") == "employee-e-1"


def test_the_same_grade_event_applied_twice_sets_one_rate():
    command = grade()
    assert PAY_ACCOUNT.decide(command, given(command)) == []


def test_r31_a_branch_commissioned_grade_sets_no_rate():
    assert PAY_ACCOUNT.decide(grade(category=BRANCH), PAY_ACCOUNT.initial()) == []


def test_r30_a_reserve_grade_sets_a_rate_without_lines():
    (event,) = PAY_ACCOUNT.decide(grade(position=RESERVE, level=None), PAY_ACCOUNT.initial())
    assert isinstance(event, PayRateSet) and event.lines == []


def test_a_technician_without_level_is_refused_naming_the_level():
    assert refusal(grade(position=TECHNICIAN, level=None)) == "level"


def test_r32_the_latest_grade_wins_from_its_effective_date():
    first = grade(position=TECHNICIAN, level=JUNIOR, on=date(2026, 1, 10))
    promoted = grade(position=ENGINEER, level=JUNIOR, on=date(2026, 4, 16))
    state = given(first, promoted)
    assert rate_on(state, date(2026, 1, 9)) is None
    assert rate_on(state, date(2026, 4, 15)).grade_event_id == first.grade_event_id
    assert rate_on(state, date(2026, 4, 16)).grade_event_id == promoted.grade_event_id
    april = rates_in_month(state, "2026-04")
    assert [(s.rate.grade_event_id, s.from_day, s.to_day) for s in april] == [
        (first.grade_event_id, 1, 15),
        (promoted.grade_event_id, 16, 30),
    ]


def test_r23_a_corrected_grade_with_the_same_date_replaces_the_earlier_one():
    original = grade(level=JUNIOR, on=date(2026, 3, 2))
    corrected = grade(level=SENIOR, on=date(2026, 3, 2))
    state = given(original, corrected)
    (segment,) = rates_in_month(state, "2026-04")
    assert segment.rate.grade_event_id == corrected.grade_event_id


def test_rates_of_a_month_leave_out_days_before_the_first_grade():
    state = given(grade(on=date(2026, 4, 10)))
    assert rates_in_month(state, "2026-03") == []
    assert [(s.from_day, s.to_day) for s in rates_in_month(state, "2026-04")] == [(10, 30)]
    assert [(s.from_day, s.to_day) for s in rates_in_month(state, "2026-05")] == [(1, 31)]


@pytest.mark.parametrize(
    ("month", "days"), [("2026-03", 31), ("2026-04", 30), ("2026-02", 0), ("2028-02", 29)]
)
def test_travel_days_up_to_the_days_of_the_month_are_recorded(month, days):
    (event,) = PAY_ACCOUNT.decide(
        RecordTravelDays("e-1", month, days, "payroll-1"), PAY_ACCOUNT.initial()
    )
    assert event == TravelDaysRecorded(
        employee_id="e-1", month=month, days=days, recorded_by="payroll-1"
    )


@pytest.mark.parametrize(
    ("month", "days", "field"),
    [
        ("2026-03", 32, "days"),
        ("2026-04", 31, "days"),
        ("2026-02", 29, "days"),
        ("2026-03", -1, "days"),
        ("2026-13", 1, "month"),
        ("2026-00", 1, "month"),
        ("2026-1", 1, "month"),
        ("26-01", 1, "month"),
        ("2026-01-01", 1, "month"),
        ("0000-01", 1, "month"),
    ],
)
def test_travel_days_refusals_name_the_field(month, days, field):
    assert refusal(RecordTravelDays("e-1", month, days, "payroll-1")) == field


def test_travel_days_need_who_recorded_them():
    assert refusal(RecordTravelDays("e-1", "2026-03", 2, " ")) == "recorded_by"


@pytest.mark.parametrize("amount", ["0", "0.01", "1234.5", "1234.50", "99999.99"])
def test_piece_rate_of_zero_or_more_with_two_decimals_is_recorded(amount):
    state = given(grade(category=PRODUCTION, position=TECHNICIAN, level=JUNIOR))
    (event,) = PAY_ACCOUNT.decide(RecordPieceRate("e-1", "2026-03", Decimal(amount)), state)
    assert event.amount == Decimal(amount)


@pytest.mark.parametrize("amount", ["-0.01", "12.345", "NaN", "Infinity"])
def test_piece_rate_refusals_name_the_amount(amount):
    assert refusal(RecordPieceRate("e-1", "2026-03", Decimal(amount))) == "amount"


def test_r28_hq_staff_have_no_piece_rate():
    with pytest.raises(RuleViolation) as caught:
        PAY_ACCOUNT.decide(RecordPieceRate("e-1", "2026-03", Decimal(10)), given(grade()))
    assert caught.value.rule == "R-28"


@pytest.mark.parametrize("rating", ["0", "0.01", "80", "99.99", "100", "100.0", "100.00"])
def test_ratings_from_0_to_100_are_recorded(rating):
    (event,) = PAY_ACCOUNT.decide(
        RatePerformance("e-1", "2026-03", Decimal(rating)), given(grade())
    )
    assert event.rating == Decimal(rating)


@pytest.mark.parametrize("rating", ["100.1", "100.01", "-0.01", "50.005", "NaN"])
def test_rating_refusals_name_the_rating(rating):
    assert refusal(RatePerformance("e-1", "2026-03", Decimal(rating))) == "rating"


def test_r27_production_reserve_staff_have_no_performance_rating():
    state = given(grade(category=PRODUCTION, position=ENGINEER, level=SENIOR))
    with pytest.raises(RuleViolation) as caught:
        PAY_ACCOUNT.decide(RatePerformance("e-1", "2026-03", Decimal(90)), state)
    assert caught.value.rule == "R-27"


def test_a_later_record_for_the_month_supersedes_the_earlier_and_both_are_kept():
    state = given(
        grade(),
        RecordTravelDays("e-1", "2026-03", 2, "payroll-1"),
        RecordTravelDays("e-1", "2026-04", 7, "payroll-1"),
        RecordTravelDays("e-1", "2026-03", 5, "payroll-2"),
        RatePerformance("e-1", "2026-03", Decimal(90)),
        RatePerformance("e-1", "2026-03", Decimal("87.5")),
    )
    assert [e.days for e in state.travel] == [2, 7, 5]
    assert month_inputs(state, "2026-03") == MonthInputs(
        travel_days=5, piece_rate=None, rating=Decimal("87.5")
    )
    assert month_inputs(state, "2026-04") == MonthInputs(travel_days=7)
    assert month_inputs(state, "2026-05") == MonthInputs()


def test_inputs_may_arrive_before_the_grade():
    (event,) = PAY_ACCOUNT.decide(
        RecordPieceRate("e-9", "2026-03", Decimal(5)), PAY_ACCOUNT.initial()
    )
    assert event.employee_id == "e-9"
