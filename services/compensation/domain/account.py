"""The PayAccount aggregate, one per employee (stream ``employee-<id>``): the pay rates its grades
set (R-25 to R-32) and the month's inputs (travel days, piece-rate, performance rating). Pure.

A later record for the same month supersedes the earlier; both stay in the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from shared.decider import Decider, InvalidCommand, RuleViolation
from shared.events import Event

from ..policy.pay import PAY
from .commands import AccountCommand, ApplyGrade, RatePerformance, RecordPieceRate, RecordTravelDays
from .events import PayRateSet, PerformanceRated, PieceRateRecorded, TravelDaysRecorded
from .in_force import in_force_on, in_force_on_days, rates_in_force
from .money import check_money
from .months import Month, check_month
from .payslip import MonthInputs, Segment
from .rates import pay_rate
from .vocabulary import Category

MAX_RATING = Decimal(100)


def account_stream(employee_id: str) -> str:
    return f"employee-{employee_id}"


@dataclass(frozen=True)
class PayAccount:
    rates: tuple[PayRateSet, ...] = ()  # in stream order
    travel: tuple[TravelDaysRecorded, ...] = ()
    piece_rates: tuple[PieceRateRecorded, ...] = ()
    ratings: tuple[PerformanceRated, ...] = ()

    @property
    def category(self) -> Category | None:
        return self.rates[-1].category if self.rates else None


def initial() -> PayAccount:
    return PayAccount()


def evolve(state: PayAccount, event: Event) -> PayAccount:
    match event:
        case PayRateSet():
            return replace(state, rates=(*state.rates, event))
        case TravelDaysRecorded():
            return replace(state, travel=(*state.travel, event))
        case PieceRateRecorded():
            return replace(state, piece_rates=(*state.piece_rates, event))
        case PerformanceRated():
            return replace(state, ratings=(*state.ratings, event))
    return state


def decide(command: AccountCommand, state: PayAccount) -> list[Event]:
    match command:
        case ApplyGrade():
            return _apply_grade(command, state)
        case RecordTravelDays():
            return [_record_travel(command)]
        case RecordPieceRate():
            return [_record_piece_rate(command, state)]
        case RatePerformance():
            return [_rate_performance(command, state)]
    raise TypeError(f"unknown command {command!r}")


PAY_ACCOUNT = Decider(initial, evolve, decide)


def rate_on(account: PayAccount, day: date) -> PayRateSet | None:
    """R-32: the grade in force on ``day`` (domain/in_force.py: whatever order rates came in)."""
    found = in_force_on(account.rates, day)
    return None if found is None else found.rate


def rates_in_month(account: PayAccount, month: str) -> list[Segment]:
    """The month cut into runs of days under one rate; days before the first grade are left out."""
    the_month = Month.parse(month)
    first, last = the_month.first_day, the_month.last_day
    # The rate in force changes only on a day some rate takes effect: the month's first day and
    # those days are looked up, not each of its days (a payroll asks this of every account).
    takes_effect = {r.effective_from for r in rates_in_force(account.rates)}
    starts = [first, *sorted(day for day in takes_effect if first < day <= last)]
    segments: list[Segment] = []
    for start, found in zip(starts, in_force_on_days(account.rates, starts), strict=True):
        if found is None or (segments and segments[-1].rate is found.rate):
            continue  # no rate yet, or the same one goes on
        if segments:
            segments[-1] = segments[-1]._replace(to_day=start.day - 1)
        segments.append(Segment(found.rate, start.day, the_month.days))
    return segments


def month_inputs(account: PayAccount, month: str) -> MonthInputs:
    """The month's effective inputs: the latest record of each kind for that month."""
    key = check_month(month)
    travel = [e.days for e in account.travel if e.month == key]
    piece = [e.amount for e in account.piece_rates if e.month == key]
    rating = [e.rating for e in account.ratings if e.month == key]
    return MonthInputs(
        travel_days=travel[-1] if travel else 0,
        piece_rate=piece[-1] if piece else None,
        rating=rating[-1] if rating else None,
    )


def _apply_grade(c: ApplyGrade, state: PayAccount) -> list[Event]:
    if any(r.grade_event_id == c.grade_event_id for r in state.rates):
        return []  # this grade was applied already (a redelivered event)
    try:
        rate = pay_rate(
            c.employee_id,
            c.category,
            c.position,
            c.level,
            c.effective_from,
            c.grade_event_id,
            (c.pay or PAY).in_force(c.effective_from),
            c.supersedes,
            c.decided_at,
        )
    except LookupError as missing:
        raise InvalidCommand("level", str(missing), "R-20") from None
    return [] if rate is None else [rate]  # branch-commissioned staff get no rate


def _record_travel(c: RecordTravelDays) -> TravelDaysRecorded:
    month = Month.parse(c.month)
    if isinstance(c.days, bool) or not 0 <= c.days <= month.days:
        raise InvalidCommand("days", f"{c.days} is outside 0-{month.days} for {month}")
    if not c.recorded_by.strip():
        raise InvalidCommand("recorded_by", "must not be empty")
    return TravelDaysRecorded(
        employee_id=c.employee_id, month=str(month), days=c.days, recorded_by=c.recorded_by
    )


def _record_piece_rate(c: RecordPieceRate, state: PayAccount) -> PieceRateRecorded:
    month = check_month(c.month)
    amount = check_money("amount", c.amount, "R-28")
    if state.category is Category.HQ_FULL_TIME:
        raise RuleViolation("R-28", "a piece-rate wage is paid to production-reserve staff only")
    return PieceRateRecorded(employee_id=c.employee_id, month=month, amount=amount)


def _rate_performance(c: RatePerformance, state: PayAccount) -> PerformanceRated:
    month = check_month(c.month)
    rating = c.rating
    if not rating.is_finite() or not 0 <= rating <= MAX_RATING:
        raise InvalidCommand("rating", f"{rating} is outside 0-100", "R-27")
    if rating != rating.quantize(Decimal("0.01")):
        raise InvalidCommand("rating", f"{rating} has more than two decimals", "R-27")
    if state.category is Category.PRODUCTION_RESERVE:
        raise RuleViolation("R-27", "production-reserve staff have no performance pay")
    return PerformanceRated(employee_id=c.employee_id, month=month, rating=rating)
