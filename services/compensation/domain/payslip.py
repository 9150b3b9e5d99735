"""R-25 to R-29, R-32: a month's payslip from the rates in force and the month's inputs. Pure.

Every line is summed exactly (as a fraction) over the month's rate segments, each segment's share
being its calendar days / the days of the month, and rounded once, half-up, at the end. Travel
days and the piece-rate wage belong to the month; how they split across segments is the policy's
``travel_days_attribution`` / ``piece_rate_attribution`` (pay-2026.1: ``prorated``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple
from uuid import UUID

import orjson

from ..policy.pay import PayPolicy
from .events import Line, PayRateSet
from .money import CENT, round_money, show
from .months import Month
from .vocabulary import Attribution, LineName


class Segment(NamedTuple):
    """A rate in force from ``from_day`` to ``to_day`` (days of the month, both included)."""

    rate: PayRateSet
    from_day: int
    to_day: int


RateDays = tuple[PayRateSet, int, int]  # a Segment, or a plain (rate, from_day, to_day) tuple


@dataclass(frozen=True)
class MonthInputs:
    """What a month's payslip depends on besides the rates (the latest record of each)."""

    travel_days: int = 0
    piece_rate: Decimal | None = None  # None: not recorded, counts as 0
    rating: Decimal | None = None  # None: not recorded, the policy's default (R-27: 100 %)


@dataclass(frozen=True)
class ComputedPayslip:
    """A payslip ready for the payroll run (R-32); ``payslip_id`` is used only if it is issued."""

    employee_id: str
    payslip_id: UUID
    lines: tuple[Line, ...]
    inputs_digest: str
    policy_version: str
    rule_trace: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass
class _Exact:
    amount: Fraction = Fraction(0)
    rules: list[str] = field(default_factory=list)

    def add(self, amount: Fraction, rule: str) -> None:
        self.amount += amount
        if rule not in self.rules:
            self.rules.append(rule)


def compute_payslip(
    month: str, rates_in_month: Sequence[RateDays], inputs: MonthInputs, policy: PayPolicy
) -> list[Line]:
    """The payslip lines, in :class:`LineName` order, each rounded once; no rate, no lines."""
    return _lines(_exact(month, rates_in_month, inputs, policy)[2])


def explain_payslip(
    month: str, rates_in_month: Sequence[RateDays], inputs: MonthInputs, policy: PayPolicy
) -> tuple[list[Line], list[str]]:
    """The payslip lines and the rule trace that explains them."""
    the_month, segments, exact = _exact(month, rates_in_month, inputs, policy)
    lines = _lines(exact)
    trace = _inputs_trace(the_month, segments, inputs, policy)
    trace += [
        f"{line.rule}: {line.name.value} {show(exact[line.name].amount)} -> {line.amount}"
        for line in lines
    ]
    return lines, trace


def _exact(
    month: str, rates_in_month: Sequence[RateDays], inputs: MonthInputs, policy: PayPolicy
) -> tuple[Month, list[Segment], dict[LineName, _Exact]]:
    the_month = Month.parse(month)
    segments = [Segment(*s) for s in rates_in_month]
    return the_month, segments, _exact_lines(the_month, segments, inputs, policy)


def _lines(exact: dict[LineName, _Exact]) -> list[Line]:
    """Each line's exact sum rounded once."""
    return [
        Line(name=name, amount=round_money(exact[name].amount), rule=", ".join(exact[name].rules))
        for name in LineName
        if name in exact
    ]


def prepare_payslip(
    employee_id: str,
    payslip_id: UUID,
    month: str,
    rates_in_month: Sequence[RateDays],
    inputs: MonthInputs,
    policy: PayPolicy,
) -> ComputedPayslip:
    lines, trace = explain_payslip(month, rates_in_month, inputs, policy)
    digest = inputs_digest(month, rates_in_month, inputs, policy)
    return ComputedPayslip(
        employee_id, payslip_id, tuple(lines), digest, policy.version, tuple(trace)
    )


def inputs_digest(
    month: str, rates_in_month: Sequence[RateDays], inputs: MonthInputs, policy: PayPolicy
) -> str:
    """A hash of everything a payslip is computed from, with inputs as the computation uses them
    (an unrecorded rating hashes as the default), so equal inputs give equal digests."""
    payload = {
        "month": str(Month.parse(month)),
        "segments": [
            {"rate": rate.model_dump(mode="json"), "from_day": first, "to_day": last}
            for rate, first, last in rates_in_month
        ],
        "travel_days": inputs.travel_days,
        "piece_rate": str(_piece_rate(inputs).quantize(CENT)),
        "rating": format(_rating(inputs, policy).normalize(), "f"),
        "policy_version": policy.version,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _exact_lines(
    month: Month, segments: list[Segment], inputs: MonthInputs, policy: PayPolicy
) -> dict[LineName, _Exact]:
    _check_segments(month, segments)
    rating = Fraction(_rating(inputs, policy)) / 100
    piece_rate = Fraction(_piece_rate(inputs))
    sums: dict[LineName, _Exact] = {}
    for segment in segments:
        share = _share(segment, month)
        travel_days = inputs.travel_days * _weight(segment, month, policy.travel_days_attribution)
        for line in segment.rate.lines:
            amount = Fraction(line.amount) * share
            if line.name is LineName.PERFORMANCE:
                amount *= rating
            sums.setdefault(line.name, _Exact()).add(amount, line.rule)
        for per_day in segment.rate.travel_day_rates:
            amount = Fraction(per_day.amount) / per_day.divisor * travel_days
            sums.setdefault(per_day.name, _Exact()).add(amount, per_day.rule)
        if segment.rate.piece_rate_rule is not None:
            weight = _weight(segment, month, policy.piece_rate_attribution)
            sums.setdefault(LineName.PIECE_RATE, _Exact()).add(
                piece_rate * weight, segment.rate.piece_rate_rule
            )
    return sums


def _share(segment: Segment, month: Month) -> Fraction:
    """The segment's calendar days / the month's days."""
    return Fraction(segment.to_day - segment.from_day + 1, month.days)


def _weight(segment: Segment, month: Month, attribution: Attribution) -> Fraction:
    """The segment's part of the month's travel days or piece-rate (R-32 policy decision)."""
    if attribution is Attribution.PRORATED:
        return _share(segment, month)
    return Fraction(1 if segment.to_day == month.days else 0)


def _rating(inputs: MonthInputs, policy: PayPolicy) -> Decimal:
    return policy.default_rating if inputs.rating is None else inputs.rating


def _piece_rate(inputs: MonthInputs) -> Decimal:
    return Decimal(0) if inputs.piece_rate is None else inputs.piece_rate


def _check_segments(month: Month, segments: list[Segment]) -> None:
    previous_end = 0
    for segment in segments:
        if not previous_end < segment.from_day <= segment.to_day <= month.days:
            raise ValueError(f"{month}: segment days {segment.from_day}-{segment.to_day} invalid")
        previous_end = segment.to_day


def _inputs_trace(
    month: Month, segments: list[Segment], inputs: MonthInputs, policy: PayPolicy
) -> list[str]:
    rates = "; ".join(
        f"days {s.from_day}-{s.to_day}: {s.rate.category.value} {s.rate.position.value}"
        f"{' ' + s.rate.level.value if s.rate.level else ''} (grade {s.rate.grade_event_id})"
        for s in segments
    )
    trace = [
        f"R-32: {month} has {month.days} days; {rates or 'no rate in force'} ({policy.version})"
    ]
    if any(line.name is LineName.PERFORMANCE for s in segments for line in s.rate.lines):
        trace.append(
            f"R-27: no rating recorded -> {policy.default_rating}%"
            if inputs.rating is None
            else f"R-27: rating {inputs.rating}%"
        )
    if any(s.rate.travel_day_rates for s in segments):
        how = policy.travel_days_attribution
        trace.append(_split("travel days", inputs.travel_days, segments, month, how))
    if any(s.rate.piece_rate_rule for s in segments):
        how = policy.piece_rate_attribution
        trace.append(_split("piece-rate", _piece_rate(inputs), segments, month, how))
    return trace


def _split(
    what: str, value: int | Decimal, segments: list[Segment], month: Month, how: Attribution
) -> str:
    """The policy decision on a month's input, and each segment's part of it."""
    parts = ", ".join(
        f"days {s.from_day}-{s.to_day}: {show(Fraction(value) * _weight(s, month, how))}"
        for s in segments
    )
    return f"R-32: {what} {value} attributed {how.value} ({parts})"
