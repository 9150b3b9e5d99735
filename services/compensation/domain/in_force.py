"""R-32 with R-23: the grade whose rate is in force on a day, from the set of rates. Pure.

Decisions reach compensation in any order (a dead letter re-driven late, a replay), so the rate in
force is derived from the set of rates, never from the order they were recorded in:

- a rate whose grade another decision corrects (``supersedes``) is never in force (R-23);
- a correction takes effect from the day the decision it corrects did (following a chain of
  corrections to its first decision), any other decision from its own day (R-32);
- on a day, the latest effective date wins; of decisions effective the same day, the one decided
  last. Rates recorded before rates said when their decision was made fall back on the order
  they were recorded in, for that tie only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple
from uuid import UUID

from .events import PayRateSet

_UNKNOWN = datetime.min.replace(tzinfo=UTC)


class InForce(NamedTuple):
    """A rate and the day it takes effect."""

    effective_from: date
    rate: PayRateSet


def effective_from(rate: PayRateSet, by_grade: dict[UUID, PayRateSet]) -> date:
    """The day ``rate`` takes effect: its first corrected decision's day, else its own."""
    seen = {rate.grade_event_id}
    while rate.supersedes in by_grade and rate.supersedes not in seen:
        rate = by_grade[rate.supersedes]
        seen.add(rate.grade_event_id)
    return rate.effective_from


def rates_in_force(rates: Sequence[PayRateSet]) -> list[InForce]:
    """The rates no decision corrects, with their effective days, from the one that takes effect
    first to the one that wins (a later effective day; the same day: decided later)."""
    by_grade = {r.grade_event_id: r for r in rates}
    corrected = {r.supersedes for r in rates if r.supersedes is not None}
    ranked = sorted(
        (_rank(r, i, by_grade), i) for i, r in enumerate(rates) if r.grade_event_id not in corrected
    )
    return [InForce(rank[0], rates[i]) for rank, i in ranked]


def _rank(rate: PayRateSet, index: int, by_grade: dict[UUID, PayRateSet]) -> tuple[Any, ...]:
    """Later effective day, then decided later; decisions of the same moment by grade event id
    (any fixed order will do); recorded order only for rates that do not say when."""
    when = rate.decided_at
    recorded = -1 if when is not None else index
    return (
        effective_from(rate, by_grade),
        when is not None,
        when or _UNKNOWN,
        recorded,
        str(rate.grade_event_id),
    )


def in_force_on(rates: Sequence[PayRateSet], day: date) -> InForce | None:
    """R-32: the rate in force on ``day``, None before any decision took effect."""
    return in_force_on_days(rates, [day])[0]


def in_force_on_days(rates: Sequence[PayRateSet], days: Sequence[date]) -> list[InForce | None]:
    """:func:`in_force_on` for each of ``days``, the rates ranked once for all of them (a month's
    payslip asks for each of its days)."""
    ranked = rates_in_force(rates)
    found: list[InForce | None] = []
    for day in days:
        current = None
        for entry in ranked:
            if entry.effective_from <= day:
                current = entry
        found.append(current)
    return found
