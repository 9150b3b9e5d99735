"""R-25 to R-29, R-32: payslip lines, each computed exactly and rounded once, half-up."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from services.compensation.domain.money import round_money
from services.compensation.domain.payslip import (
    MonthInputs,
    Segment,
    compute_payslip,
    explain_payslip,
    inputs_digest,
    prepare_payslip,
)
from services.compensation.domain.vocabulary import Attribution, LineName

from .support import (
    ENGINEER,
    HQ,
    INTERMEDIATE,
    JUNIOR,
    POLICY,
    PRODUCTION,
    SENIOR,
    TECHNICIAN,
    amounts,
    full_month,
    payslip,
    rate,
    total,
)


def test_example_d_production_reserve_technician_junior_with_three_travel_days():
    lines = payslip(
        full_month(rate(PRODUCTION, TECHNICIAN, JUNIOR), 31),
        month="2026-03",
        travel_days=3,
        piece_rate=Decimal("1234.50"),
    )
    assert amounts(lines) == {
        "technical_allowance": "50.00",
        "piece_rate": "1234.50",
        "travel_pay": "354.55",  # 2600 / 22 x 3 = 354.5454..., not 118.18 x 3 = 354.54
    }
    assert [line.rule for line in lines] == ["R-28", "R-28", "R-28"]
    assert total(lines) == "1639.05"


def test_example_a_hq_engineer_intermediate_is_paid_3200():
    lines = payslip(full_month(rate(HQ, ENGINEER, INTERMEDIATE)))
    assert amounts(lines) == {
        "position": "2240.00",
        "performance": "960.00",
        "travel_allowance": "0.00",
    }
    assert [line.rule for line in lines] == ["R-26", "R-27", "R-26"]
    assert total(lines) == "3200.00"


@pytest.mark.parametrize(
    ("rating", "performance"),
    [
        (None, "960.00"),
        ("100", "960.00"),
        ("100.0", "960.00"),
        ("0", "0.00"),
        ("87.5", "840.00"),
        ("0.01", "0.10"),
    ],
)
def test_r27_performance_pay_is_scaled_by_the_rating(rating, performance):
    rated = None if rating is None else Decimal(rating)
    lines = payslip(full_month(rate(HQ, ENGINEER, INTERMEDIATE)), rating=rated)
    assert amounts(lines)["performance"] == performance
    assert amounts(lines)["position"] == "2240.00"  # the rating never touches position pay


def test_r27_trace_says_when_no_rating_was_recorded():
    _, trace = explain_payslip(
        "2026-04", full_month(rate(HQ, TECHNICIAN, JUNIOR)), MonthInputs(), POLICY
    )
    assert "R-27: no rating recorded -> 100%" in trace


@pytest.mark.parametrize(
    ("level", "allowance"), [(JUNIOR, "100.00"), (INTERMEDIATE, "200.00"), (SENIOR, "300.00")]
)
def test_r26_engineer_travel_allowance_per_travel_day(level, allowance):
    lines = payslip(full_month(rate(HQ, ENGINEER, level)), travel_days=2)
    assert amounts(lines)["travel_allowance"] == allowance


def test_r25_technician_has_no_travel_lines():
    lines = payslip(full_month(rate(HQ, TECHNICIAN, SENIOR)), travel_days=4)
    assert amounts(lines) == {"position": "2030.00", "performance": "870.00"}


def test_r29_engineer_travel_pay_and_subsidy_per_travel_day():
    lines = payslip(
        full_month(rate(PRODUCTION, ENGINEER, INTERMEDIATE)), travel_days=4, piece_rate=Decimal(800)
    )
    assert amounts(lines) == {
        "technical_allowance": "200.00",
        "piece_rate": "800.00",
        "travel_pay": "545.45",  # 3000 / 22 x 4 = 545.4545...
        "travel_subsidy": "200.00",
    }
    assert total(lines) == "1745.45"


def test_r28_without_piece_rate_recorded_pays_zero_piece_rate():
    lines = payslip(full_month(rate(PRODUCTION, TECHNICIAN, SENIOR)))
    assert amounts(lines) == {
        "technical_allowance": "120.00",
        "piece_rate": "0.00",
        "travel_pay": "0.00",
    }


def test_r32_rate_change_on_the_16th_of_a_30_day_month_is_prorated_by_calendar_days():
    before, after = rate(HQ, TECHNICIAN, JUNIOR), rate(HQ, ENGINEER, JUNIOR, date(2026, 4, 16))
    lines = payslip(
        [Segment(before, 1, 15), Segment(after, 16, 30)], travel_days=4, rating=Decimal(90)
    )
    assert amounts(lines) == {
        "position": "1995.00",  # 1890 x 15/30 + 2100 x 15/30
        "performance": "769.50",  # (810 x 15/30 + 900 x 15/30) x 90 %
        "travel_allowance": "100.00",  # prorated: 4 x 15/30 = 2 travel days at 50
    }
    assert [line.rule for line in lines] == ["R-25, R-26", "R-27", "R-26"]
    plain = payslip([(before, 1, 15), (after, 16, 30)], travel_days=4, rating=Decimal(90))
    assert plain == lines  # plain (rate, from_day, to_day) tuples work as segments


def test_r32_each_line_is_summed_exactly_over_segments_then_rounded_once():
    before = rate(PRODUCTION, TECHNICIAN, JUNIOR)
    after = rate(PRODUCTION, TECHNICIAN, SENIOR, date(2026, 4, 4))
    lines = payslip([Segment(before, 1, 3), Segment(after, 4, 30)], travel_days=1)
    # 2600/22 x 3/30 + 2800/22 x 27/30 = 11.8181... + 114.5454... = 126.3636... -> 126.36;
    # rounding each segment first would give 11.82 + 114.55 = 126.37
    assert amounts(lines)["travel_pay"] == "126.36"
    assert amounts(lines)["technical_allowance"] == "113.00"  # 50 x 3/30 + 120 x 27/30


def test_rounding_is_half_up_at_xx5():
    # graded on the 16th of April: the month's piece-rate 100.05 is prorated 15/30 -> 50.025
    graded = rate(PRODUCTION, TECHNICIAN, JUNIOR, date(2026, 4, 16))
    lines = payslip([Segment(graded, 16, 30)], piece_rate=Decimal("100.05"))
    assert amounts(lines)["piece_rate"] == "50.03"  # half-even would give 50.02
    assert (
        amounts(payslip([Segment(graded, 16, 30)], piece_rate=Decimal("0.01")))["piece_rate"]
        == "0.01"
    )


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Fraction(50025, 1000), "50.03"),
        (Fraction(50015, 1000), "50.02"),
        (Fraction(1, 200), "0.01"),
        (Fraction(1, 201), "0.00"),
        (Fraction(-1, 200), "-0.01"),
        (Fraction(7800, 22), "354.55"),
        (Fraction(0), "0.00"),
        (Fraction(3200), "3200.00"),
    ],
)
def test_round_money_rounds_once_half_away_from_zero_to_two_decimals(exact, rounded):
    assert str(round_money(exact)) == rounded


def test_days_before_the_first_grade_earn_nothing():
    graded = rate(HQ, TECHNICIAN, JUNIOR, date(2026, 4, 16))
    lines = payslip([Segment(graded, 16, 30)])
    assert amounts(lines) == {"position": "945.00", "performance": "405.00"}


def test_month_end_attribution_gives_the_months_travel_days_to_the_last_rate():
    policy = POLICY.model_copy(update={"travel_days_attribution": Attribution.MONTH_END})
    before, after = rate(HQ, ENGINEER, JUNIOR), rate(HQ, ENGINEER, SENIOR, date(2026, 4, 16))
    segments = [Segment(before, 1, 15), Segment(after, 16, 30)]
    lines = compute_payslip("2026-04", segments, MonthInputs(travel_days=2), policy)
    assert amounts(lines)["travel_allowance"] == "300.00"  # 2 x 150, the senior rate at month end
    prorated = compute_payslip("2026-04", segments, MonthInputs(travel_days=2), POLICY)
    assert amounts(prorated)["travel_allowance"] == "200.00"  # 1 x 50 + 1 x 150


def test_the_trace_records_the_attribution_decision_and_each_line():
    before, after = rate(HQ, ENGINEER, JUNIOR), rate(HQ, ENGINEER, SENIOR, date(2026, 4, 16))
    segments = [Segment(before, 1, 15), Segment(after, 16, 30)]
    _, trace = explain_payslip("2026-04", segments, MonthInputs(travel_days=3), POLICY)
    assert trace[0].startswith("R-32: 2026-04 has 30 days; days 1-15: hq_full_time engineer junior")
    assert "R-32: travel days 3 attributed prorated (days 1-15: 1.5, days 16-30: 1.5)" in trace
    assert "R-26: travel_allowance 300 -> 300.00" in trace


def test_no_rate_in_the_month_means_no_lines():
    assert payslip([]) == []


@pytest.mark.parametrize("segments", [[(0, 5)], [(1, 31)], [(5, 4)], [(1, 10), (10, 30)]])
def test_segments_must_lie_inside_the_month_in_order(segments):
    rate_set = rate(HQ, TECHNICIAN, JUNIOR)
    with pytest.raises(ValueError):
        payslip([Segment(rate_set, a, b) for a, b in segments])


def test_digest_changes_with_inputs_and_not_with_how_equal_inputs_are_written():
    segments = full_month(rate(PRODUCTION, TECHNICIAN, JUNIOR))

    def digest(**inputs):
        return inputs_digest("2026-04", segments, MonthInputs(**inputs), POLICY)

    assert digest(piece_rate=Decimal("100")) == digest(piece_rate=Decimal("100.00"))
    assert digest() == digest(piece_rate=Decimal(0), rating=Decimal(100))
    assert digest(travel_days=1) != digest(travel_days=2)
    assert digest(piece_rate=Decimal(1)) != digest()
    other = full_month(rate(PRODUCTION, TECHNICIAN, SENIOR))
    assert inputs_digest("2026-04", other, MonthInputs(), POLICY) != digest()


def test_prepare_payslip_carries_lines_total_digest_and_trace():
    payslip_id = uuid.uuid4()
    segments = full_month(rate(HQ, ENGINEER, INTERMEDIATE))
    computed = prepare_payslip("e-1", payslip_id, "2026-04", segments, MonthInputs(), POLICY)
    assert (computed.employee_id, computed.payslip_id) == ("e-1", payslip_id)
    assert computed.total == Decimal("3200.00")
    assert computed.policy_version == "pay-2026.1"
    assert computed.inputs_digest == inputs_digest("2026-04", segments, MonthInputs(), POLICY)
    assert [line.name for line in computed.lines][:2] == [LineName.POSITION, LineName.PERFORMANCE]
    assert computed.rule_trace
