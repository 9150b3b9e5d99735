"""The shortcuts a payroll of 10,000 employees takes give what the day-by-day and decimal
definitions give: the rates of a month looked up on the days a rate takes effect only, the
rounding and the rule trace's exact amounts on the fractions' integers."""

from __future__ import annotations

import math
import uuid
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.compensation.domain.account import PAY_ACCOUNT, rates_in_month
from services.compensation.domain.commands import ApplyGrade
from services.compensation.domain.in_force import in_force_on
from services.compensation.domain.money import round_money, show
from services.compensation.domain.months import Month

from .support import ENGINEER, HQ, INTERMEDIATE, JUNIOR, SENIOR, TECHNICIAN

GRADES = [(TECHNICIAN, JUNIOR), (ENGINEER, JUNIOR), (ENGINEER, INTERMEDIATE), (ENGINEER, SENIOR)]
FIRST = date(2026, 1, 1)


def day_by_day(account, month: str) -> list[tuple[uuid.UUID, int, int]]:
    """The definition: each day's rate in force, runs of the same rate joined."""
    the_month = Month.parse(month)
    runs: list[list] = []
    for number in range(1, the_month.days + 1):
        found = in_force_on(account.rates, the_month.day(number))
        if found is None:
            continue
        if runs and runs[-1][0] == found.rate.grade_event_id:
            runs[-1][2] = number
        else:
            runs.append([found.rate.grade_event_id, number, number])
    return [tuple(run) for run in runs]


decisions = st.lists(
    st.tuples(
        st.integers(0, 120),  # days after FIRST it takes effect
        st.sampled_from(GRADES),
        st.booleans(),  # corrects the previous decision
    ),
    min_size=1,
    max_size=5,
)


@given(decisions, st.sampled_from(["2026-02", "2026-03", "2026-04"]))
def test_the_rates_of_a_month_are_the_rates_in_force_day_by_day(decided, month):
    state, previous = PAY_ACCOUNT.initial(), None
    for days, (position, level), corrects in decided:
        command = ApplyGrade(
            "e-1",
            HQ,
            position,
            level,
            FIRST + timedelta(days=days),
            uuid.uuid4(),
            supersedes=previous if corrects else None,
        )
        state = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(command, state), state)
        previous = command.grade_event_id
    segments = rates_in_month(state, month)
    assert [(s.rate.grade_event_id, s.from_day, s.to_day) for s in segments] == day_by_day(
        state, month
    )


fractions = st.fractions(max_denominator=10**7).filter(lambda f: abs(f) < 10**10)


@given(fractions)
def test_rounding_on_integers_is_half_away_from_zero_to_the_cent(exact):
    cents = math.floor(abs(exact) * 100 + Fraction(1, 2))
    assert round_money(exact) == Decimal(cents if exact >= 0 else -cents).scaleb(-2)


@given(fractions)
def test_a_traced_amount_is_the_exact_one_cut_to_six_decimals_and_marked_when_cut(exact):
    shown = show(exact)
    cut = shown.endswith("…")
    value = Fraction(Decimal(shown.removesuffix("…")))
    assert abs(exact) - abs(value) < Fraction(1, 10**6) and abs(value) <= abs(exact)
    assert cut == (value != exact)
    digits = shown.removesuffix("…")
    assert "." not in digits or not digits.endswith(("0", "."))  # 596.4, never 596.400000


def test_traced_amounts_read_as_people_write_them():
    assert [show(Fraction(x)) for x in ("3200", "596.4", "-2.5", "0")] == [
        "3200",
        "596.4",
        "-2.5",
        "0",
    ]
    assert show(Fraction(7800, 22)) == "354.545454…"
    assert show(Fraction(-1, 10**9)) == "-0…"


def test_a_month_is_parsed_once_and_still_refuses_what_is_not_a_month():
    assert Month.parse("2026-04") is Month.parse("2026-04")
    assert Month.parse("2026-04").days == 30
    for bad in ("2026-13", "0000-01", "2026-4", "april"):
        try:
            Month.parse(bad)
        except Exception as refused:
            assert getattr(refused, "field", None) == "month"
        else:
            raise AssertionError(f"{bad!r} was taken for a month")
