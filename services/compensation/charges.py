"""A month's branch fees (R-19) and trainer fines (R-24) as the views and exports show them: each
row assessed or issued (R-33, domain/standing.py). Issued rows come from the month's stream;
assessed rows are what the month's next payroll run would charge now, from the dispositions,
training days and penalties the consumer kept (upstream.py), the same inputs a run reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from starlette.datastructures import State

from shared.events import Event, JsonDict
from shared.policy import UnknownPolicyVersion
from shared.policy_store import shelf_of

from . import upstream
from .domain.events import BranchFeeCharged
from .domain.fees import branch_fees, trainer_fines
from .domain.months import Month
from .domain.standing import MonthCharges, Standing, month_charges
from .schemas import money


async def charges_of(state: State, month: Month, issued: Sequence[Event]) -> MonthCharges:
    """The month's fees and fines with their standing; ``state``: the app's (its pool and
    policy books); ``issued``: what the month's stream holds."""
    pool, shelf = state.pool, shelf_of(state)
    try:  # the versions in force at the month's end, as the run decides (handlers.run_payroll)
        await shelf.in_force("pay", month.last_day)
        fee = await shelf.in_force("fees", month.last_day)
    except UnknownPolicyVersion:
        fees = []  # no pay policy in force: the month has no payroll, so nothing to charge
    else:
        dispositions = await upstream.dispositions(pool, month.last_day)
        days = await upstream.training_days(pool, month)
        fees = branch_fees(str(month), dispositions, days, fee)
    fines = trainer_fines(str(month), await upstream.penalties(pool, month))
    return month_charges(str(month), issued, fees, fines)


@dataclass
class _FeeRow:
    branch_id: str
    trainee_id: str
    status: Standing
    dates: set[date] = field(default_factory=set)
    amount: Decimal = Decimal("0.00")


def _fee_key(fee: BranchFeeCharged, status: Standing) -> tuple[str, str, int]:
    return fee.branch_id, fee.trainee_id, 0 if status is Standing.ISSUED else 1


def fee_rows(charges: MonthCharges, branch_id: str | None = None) -> list[JsonDict]:
    """R-19: the month's fees per branch and trainee, issued (later charges add the days they
    add) then assessed (the days no run has charged yet)."""
    rows: dict[tuple[str, str, int], _FeeRow] = {}
    for fee, status in charges.fees:
        if branch_id is not None and fee.branch_id != branch_id:
            continue
        row = rows.setdefault(_fee_key(fee, status), _FeeRow(fee.branch_id, fee.trainee_id, status))
        row.dates.update(fee.days)
        row.amount += fee.amount
    return [
        {
            "branch_id": row.branch_id,
            "trainee_id": row.trainee_id,
            "days": len(row.dates),
            "dates": [d.isoformat() for d in sorted(row.dates)],
            "amount": money(row.amount),
            "status": row.status.value,
        }
        for _, row in sorted(rows.items())
    ]


def fine_rows(charges: MonthCharges) -> list[JsonDict]:
    """R-24: the month's fines (R-33), issued ones in the order they were issued, then those
    assessed and not issued yet."""
    return [
        {
            "trainer_id": fine.trainer_id,
            "session_id": fine.session_id,
            "product_series": fine.product_series,
            "content": fine.content,
            "failure_rate": str(fine.failure_rate),
            "amount": money(fine.amount),
            "penalty_event_id": str(fine.penalty_event_id),
            "status": status.value,
        }
        for fine, status in charges.fines
    ]
