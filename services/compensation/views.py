"""The month's payroll, branch fees and trainer fines as clients read them. Pure: the events of
the month's ``payroll-<YYYY-MM>`` stream in, JSON-ready dicts out (money as "0.00" strings).

Reading the month's own stream rather than a projection keeps these views exact right after a run
(and gives them the stream version as ETag); a month holds one payslip per employee and run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .domain.events import BranchFeeCharged, PayslipIssued, TrainerFineIssued
from .schemas import money

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class MonthEvents:
    """The month's stream, in order, with when each payslip was issued."""

    month: str
    version: int = 0
    payslips: Sequence[tuple[PayslipIssued, datetime]] = ()
    fees: Sequence[BranchFeeCharged] = ()
    fines: Sequence[TrainerFineIssued] = ()


def payslip_json(payslip: PayslipIssued, issued_at: datetime) -> JsonDict:
    return {
        "employee_id": payslip.employee_id,
        "payslip_id": str(payslip.payslip_id),
        "lines": [
            {"name": line.name.value, "amount": money(line.amount), "rule": line.rule}
            for line in payslip.lines
        ],
        "total": money(payslip.total),
        "supersedes": None if payslip.supersedes is None else str(payslip.supersedes),
        "difference": None if payslip.difference is None else money(payslip.difference),
        "policy_version": payslip.policy_version,
        "issued_at": issued_at.isoformat(),
    }


def payroll_json(month: MonthEvents) -> JsonDict:
    """The latest payslip per employee; ``history`` keeps every payslip issued, oldest first
    (R-32: a correction stands beside the payslip it supersedes)."""
    latest: dict[str, JsonDict] = {}
    history = []
    superseded = {p.supersedes for p, _ in month.payslips if p.supersedes is not None}
    for payslip, issued_at in month.payslips:
        shown = payslip_json(payslip, issued_at)
        latest[payslip.employee_id] = shown
        history.append({**shown, "superseded": payslip.payslip_id in superseded})
    return {
        "month": month.month,
        "version": month.version,
        "payslips": [latest[e] for e in sorted(latest)],
        "history": history,
    }


@dataclass
class _FeeRow:
    branch_id: str
    trainee_id: str
    dates: set[date] = field(default_factory=set)
    amount: Decimal = Decimal("0.00")


def fee_rows(month: MonthEvents, branch_id: str | None = None) -> list[JsonDict]:
    """R-19: the month's charges per branch and trainee (later charges add the days they add)."""
    rows: dict[tuple[str, str], _FeeRow] = {}
    for fee in month.fees:
        if branch_id is not None and fee.branch_id != branch_id:
            continue
        key = (fee.branch_id, fee.trainee_id)
        row = rows.setdefault(key, _FeeRow(fee.branch_id, fee.trainee_id))
        row.dates.update(fee.days)
        row.amount += fee.amount
    return [
        {
            "branch_id": row.branch_id,
            "trainee_id": row.trainee_id,
            "days": len(row.dates),
            "dates": [d.isoformat() for d in sorted(row.dates)],
            "amount": money(row.amount),
        }
        for _, row in sorted(rows.items())
    ]


def fine_rows(month: MonthEvents) -> list[JsonDict]:
    """R-24: the fines issued in the month (R-33), in the order they were issued."""
    return [
        {
            "trainer_id": fine.trainer_id,
            "session_id": fine.session_id,
            "product_series": fine.product_series,
            "failure_rate": str(fine.failure_rate),
            "amount": money(fine.amount),
            "penalty_event_id": str(fine.penalty_event_id),
        }
        for fine in month.fines
    ]
