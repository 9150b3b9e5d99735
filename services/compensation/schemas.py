"""What the compensation routes share: path parameters, request bodies, the payroll clerk's
write, money on the wire and the JSON shapes of what the writes answer."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import Depends, Path

from shared.auth import Role
from shared.commands import Write, writer
from shared.decider import InvalidCommand
from shared.events import Event
from shared.problems import validation_failed
from shared.requests import Money, RequestBody

from .domain.events import BranchFeeCharged, PayRateSet, PayslipIssued, TrainerFineIssued
from .domain.money import CENT
from .domain.months import Month

JsonDict = dict[str, Any]
EmployeeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
# A pay command: a payroll clerk, Idempotency-Key, If-Match and now, resolved as ONE dependency.
PayrollWrite = Annotated[Write, writer(Role.PAYROLL)]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


class TravelRequest(Body):
    month: str
    days: int


class PieceRateRequest(Body):
    month: str
    amount: Money


class PerformanceRequest(Body):
    month: str
    rating: Decimal


class RunRequest(Body):
    """Nothing to say: a run is decided by the month's inputs alone."""


def month_path(month: Annotated[str, Path(description="the month, YYYY-MM")]) -> Month:
    """The ``{month}`` of a route, or 422 naming ``path.month``."""
    try:
        return Month.parse(month)
    except InvalidCommand as bad:
        error = {"field": "path.month", "message": bad.detail, "type": "month"}
        raise validation_failed(f"Invalid request: path.month: {bad.detail}", [error]) from None


MonthPath = Annotated[Month, Depends(month_path)]


def money(amount: Decimal) -> str:
    """Money on the wire: a string with two decimals (docs/http.md), rounded half-up."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def rate_json(rate: PayRateSet) -> JsonDict:
    return {
        "employee_id": rate.employee_id, "category": rate.category, "position": rate.position,
        "level": rate.level, "monthly": None if rate.monthly is None else money(rate.monthly),
        "lines": [{"name": line.name, "amount": money(line.amount), "rule": line.rule}
                  for line in rate.lines],
        "travel_day_rates": [
            {"name": r.name, "amount": money(r.amount), "divisor": r.divisor, "rule": r.rule}
            for r in rate.travel_day_rates
        ],
        "piece_rate_rule": rate.piece_rate_rule, "grade_event_id": str(rate.grade_event_id),
        "effective_from": rate.effective_from.isoformat(), "policy_version": rate.policy_version,
        "rule_trace": rate.rule_trace,
    }  # fmt: skip


def payslip_item(row: Any) -> JsonDict:
    return {
        "payslip_id": str(row["payslip_id"]), "month": row["month"], "lines": row["lines"],
        "total": money(row["total"]),
        "supersedes": None if row["supersedes"] is None else str(row["supersedes"]),
        "difference": None if row["difference"] is None else money(row["difference"]),
        "superseded": row["superseded"], "issued_at": row["issued_at"].isoformat(),
    }  # fmt: skip


def issued(events: list[Event]) -> JsonDict:
    """What a payroll run issued (nothing for a rerun on the same inputs)."""
    slips = [e for e in events if isinstance(e, PayslipIssued)]
    return {
        "issued": {
            "payslips": sum(1 for e in slips if e.supersedes is None),
            "corrections": sum(1 for e in slips if e.supersedes is not None),
            "branch_fees": sum(1 for e in events if isinstance(e, BranchFeeCharged)),
            "trainer_fines": sum(1 for e in events if isinstance(e, TrainerFineIssued)),
        },
        "payslips": [
            {
                "employee_id": e.employee_id,
                "payslip_id": str(e.payslip_id),
                "total": money(e.total),
                "supersedes": None if e.supersedes is None else str(e.supersedes),
                "difference": None if e.difference is None else money(e.difference),
            }
            for e in slips
        ],
    }
