"""R-25 to R-31: the pay rate a grade sets, from the pay tables in force. Pure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from ..policy.pay import PayPolicy, PayRow
from .events import PayRateSet, RateLine, TravelDayRate
from .vocabulary import Category, Level, LineName, Position

PERFORMANCE_RULE = "R-27"


def pay_rate(
    employee_id: str,
    category: Category,
    position: Position,
    level: Level | None,
    effective_from: date,
    grade_event_id: UUID,
    policy: PayPolicy,
    supersedes: UUID | None = None,
    decided_at: datetime | None = None,
) -> PayRateSet | None:
    """A grade's pay rate: None for branch-commissioned staff (R-31), no lines for reserve (R-30).

    Raises ``LookupError`` for a technician or engineer without a level.
    """
    if category in policy.unpaid_categories:
        return None
    since = f"R-32: in force from {effective_from} (grade event {grade_event_id})"
    if supersedes is not None:
        since = f"R-23: corrects grade event {supersedes}, in force from the day it was"
    known = {"supersedes": supersedes, "decided_at": decided_at}
    if position in policy.positions_without_lines:
        return PayRateSet(
            employee_id=employee_id,
            category=category,
            position=position,
            level=None,
            monthly=None,
            lines=[],
            travel_day_rates=[],
            piece_rate_rule=None,
            effective_from=effective_from,
            grade_event_id=grade_event_id,
            policy_version=policy.version,
            rule_trace=[f"R-30: {position.value}: worker's treatment, no after-sales pay", since],
            **known,
        )
    if level is None:
        raise LookupError(f"a {position.value} needs a level")
    row = policy.row(category, position, level)
    return PayRateSet(
        employee_id=employee_id,
        category=category,
        position=position,
        level=level,
        monthly=row.monthly,
        lines=_monthly_lines(row, policy),
        travel_day_rates=_travel_day_rates(row, policy),
        piece_rate_rule=row.rule if row.piece_rate else None,
        effective_from=effective_from,
        grade_event_id=grade_event_id,
        policy_version=policy.version,
        rule_trace=[*_trace(row, policy), since],
        **known,
    )


def _monthly_lines(row: PayRow, policy: PayPolicy) -> list[RateLine]:
    """Exact monthly components: R-25/R-26 70 % position + 30 % performance; R-28/R-29 allowance."""
    lines = []
    if row.monthly is not None:
        position_pay = row.monthly * policy.position_share
        performance_pay = row.monthly * policy.performance_share
        lines.append(RateLine(name=LineName.POSITION, amount=position_pay, rule=row.rule))
        lines.append(
            RateLine(name=LineName.PERFORMANCE, amount=performance_pay, rule=PERFORMANCE_RULE)
        )
    if row.technical_allowance is not None:
        allowance = row.technical_allowance
        lines.append(RateLine(name=LineName.TECHNICAL_ALLOWANCE, amount=allowance, rule=row.rule))
    return lines


def _travel_day_rates(row: PayRow, policy: PayPolicy) -> list[TravelDayRate]:
    """Per travel day: R-28/R-29 travel pay = basis / working days; R-26 allowance; R-29 subsidy."""
    per_day: list[tuple[LineName, Decimal | None, int]] = [
        (LineName.TRAVEL_PAY, row.travel_day_monthly, policy.working_days_per_month),
        (LineName.TRAVEL_ALLOWANCE, row.travel_allowance_per_day, 1),
        (LineName.TRAVEL_SUBSIDY, row.travel_subsidy_per_day, 1),
    ]
    return [
        TravelDayRate(name=name, amount=amount, divisor=divisor, rule=row.rule)
        for name, amount, divisor in per_day
        if amount is not None
    ]


def _trace(row: PayRow, policy: PayPolicy) -> list[str]:
    head = f"{row.rule}: {row.category.value} {row.position.value} {row.level.value}"
    trace = []
    if row.monthly is not None:
        trace.append(
            f"{head}: monthly {row.monthly} = position {policy.position_share:%} "
            f"{row.monthly * policy.position_share} + performance {policy.performance_share:%} "
            f"{row.monthly * policy.performance_share} (R-27: x rating / 100)"
        )
    if row.travel_allowance_per_day is not None:
        trace.append(f"{head}: travel allowance {row.travel_allowance_per_day} per travel day")
    if row.technical_allowance is not None:
        trace.append(f"{head}: piece-rate wage + technical allowance {row.technical_allowance}")
    if row.travel_day_monthly is not None:
        trace.append(
            f"{head}: travel pay per travel day = {row.travel_day_monthly} / "
            f"{policy.working_days_per_month}"
        )
    if row.travel_subsidy_per_day is not None:
        trace.append(f"{head}: travel subsidy {row.travel_subsidy_per_day} per travel day")
    return trace
