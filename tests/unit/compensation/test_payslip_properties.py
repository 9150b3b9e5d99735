"""Properties of R-32 proration and rounding, for every pay table row and any month."""

from __future__ import annotations

import calendar
import itertools
import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.compensation.domain.payslip import MonthInputs, Segment, compute_payslip
from services.compensation.domain.rates import pay_rate
from services.compensation.domain.vocabulary import LineName

from .support import POLICY

HALF_FEN = Fraction(1, 200)

rows = st.sampled_from(POLICY.rows)
months = st.tuples(st.integers(2000, 2100), st.integers(1, 12))
ratings = st.none() | st.decimals(0, 100, places=2)
piece_rates = st.none() | st.decimals(0, 99999, places=2)


def rate_of(row):
    return pay_rate(
        "e-1", row.category, row.position, row.level, date(2026, 1, 1), uuid.uuid4(), POLICY
    )


def month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@st.composite
def cuts(draw, days: int, max_segments: int = 4) -> list[tuple[int, int]]:
    """A run of consecutive days of the month, cut into consecutive segments."""
    start = draw(st.integers(1, days))
    end = draw(st.integers(start, days))
    inner = sorted(
        draw(st.sets(st.integers(start + 1, end), max_size=max_segments - 1)) if end > start else []
    )
    bounds = [start, *inner, end + 1]
    return [(a, b - 1) for a, b in itertools.pairwise(bounds)]


@given(rows, months)
def test_a_full_month_prorates_to_exactly_the_monthly_figures(row, month):
    year, number = month
    days = calendar.monthrange(year, number)[1]
    rate_set = rate_of(row)
    lines = compute_payslip(
        month_text(year, number), [Segment(rate_set, 1, days)], MonthInputs(), POLICY
    )
    paid = {line.name: line.amount for line in lines}
    for component in rate_set.lines:
        assert paid[component.name] == component.amount
    if row.monthly is not None:
        assert paid[LineName.POSITION] + paid[LineName.PERFORMANCE] == row.monthly


@given(st.data(), months, st.integers(0, 28), piece_rates, ratings)
def test_no_line_differs_from_its_exact_value_by_more_than_half_a_fen(
    data, month, travel, piece, rating
):
    year, number = month
    days = calendar.monthrange(year, number)[1]
    first = data.draw(rows)
    same_category = [r for r in POLICY.rows if r.category is first.category]
    segments = [
        Segment(rate_of(data.draw(st.sampled_from(same_category))), a, b)
        for a, b in data.draw(cuts(days))
    ]
    inputs = MonthInputs(travel_days=travel, piece_rate=piece, rating=rating)
    lines = compute_payslip(month_text(year, number), segments, inputs, POLICY)
    exact = _exact(segments, days, inputs)
    assert {line.name for line in lines} == set(exact)
    for line in lines:
        assert line.amount.as_tuple().exponent == -2  # money: two decimals
        assert abs(Fraction(line.amount) - exact[line.name]) <= HALF_FEN


@given(st.data(), rows, months, st.integers(0, 28), piece_rates, ratings)
def test_splitting_a_month_under_one_rate_changes_no_line(data, row, month, travel, piece, rating):
    year, number = month
    days = calendar.monthrange(year, number)[1]
    rate_set = rate_of(row)
    pieces = data.draw(cuts(days))
    whole = [Segment(rate_set, pieces[0][0], pieces[-1][1])]
    split = [Segment(rate_set, a, b) for a, b in pieces]
    inputs = MonthInputs(travel_days=travel, piece_rate=piece, rating=rating)
    text = month_text(year, number)
    assert compute_payslip(text, split, inputs, POLICY) == compute_payslip(
        text, whole, inputs, POLICY
    )


def _exact(segments: list[Segment], days: int, inputs: MonthInputs) -> dict[LineName, Fraction]:
    """R-25 to R-29 and R-32 written out directly: amount x segment days / days of the month."""
    rating = Fraction(100 if inputs.rating is None else inputs.rating) / 100
    piece = Fraction(inputs.piece_rate or 0)
    exact: dict[LineName, Fraction] = {}
    for segment in segments:
        share = Fraction(segment.to_day - segment.from_day + 1, days)
        for line in segment.rate.lines:
            scale = rating if line.name is LineName.PERFORMANCE else 1
            exact[line.name] = (
                exact.get(line.name, Fraction(0)) + Fraction(line.amount) * share * scale
            )
        for per_day in segment.rate.travel_day_rates:
            day_pay = Fraction(per_day.amount) / per_day.divisor
            exact[per_day.name] = (
                exact.get(per_day.name, Fraction(0)) + day_pay * inputs.travel_days * share
            )
        if segment.rate.piece_rate_rule:
            exact[LineName.PIECE_RATE] = exact.get(LineName.PIECE_RATE, Fraction(0)) + piece * share
    return exact


def test_decimal_places_of_the_table_are_money():
    for row in POLICY.rows:
        for value in (row.monthly, row.technical_allowance, row.travel_allowance_per_day):
            assert value is None or value == value.quantize(Decimal("0.01"))
