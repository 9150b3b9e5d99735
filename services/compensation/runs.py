"""``POST /payroll/{month}/run``: issue the month's payslips, branch fees and trainer fines.

The handler gathers what the month is computed from (inputs.py) and hands it to the payroll
decider, which issues only what differs from what the month already holds (R-32: a rerun with the
same inputs issues nothing; changed inputs issue corrections beside the old payslips; R-33:
charges once each). Two runs at once are safe: ``execute`` re-decides the loser on fresh state.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from shared.auth import Role
from shared.events import Event
from shared.execution import execute
from shared.requests import command_metadata, etag

from . import inputs
from .domain.commands import RunPayroll
from .domain.events import BranchFeeCharged, PayslipIssued, TrainerFineIssued, registry
from .domain.fees import branch_fees, trainer_fines
from .domain.payroll import PAYROLL, payroll_stream
from .policy.pay import PAY
from .schemas import Body, MonthPath, PayrollCommand, money

router = APIRouter(tags=["payroll"])


class RunRequest(Body):
    """Nothing to say: a run is decided by the month's inputs alone."""


@router.post("/payroll/{month}/run")
async def run_payroll(
    month: MonthPath, cmd: PayrollCommand, request: Request, response: Response,
    body: RunRequest | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run the month's payroll (PayslipIssued, BranchFeeCharged, TrainerFineIssued)."""
    pool, store = request.app.state.pool, request.app.state.store
    # The version in force at the month's end governs its payroll parameters (rates carry theirs).
    policy = PAY.in_force(month.last_day)
    computed = await inputs.payslips(pool, await inputs.paid_employees(pool), month, policy)
    fees = branch_fees(
        str(month), await inputs.dispositions(pool, month.last_day),
        await inputs.training_days(pool, month), policy,
    )  # fmt: skip
    fines = trainer_fines(str(month), await inputs.penalties(pool, month))
    command = RunPayroll(str(month), tuple(computed), tuple(fees), tuple(fines))
    meta = command_metadata(cmd.principal, cmd.idempotency_key, cmd.now, branch_id=None,
                            roles=(Role.PAYROLL,))  # fmt: skip
    outcome = await execute(
        store, registry, PAYROLL, payroll_stream(str(month)), command, meta,
        expected_version=cmd.expected,
    )  # fmt: skip
    response.headers["ETag"] = etag(outcome.version)
    return {"month": str(month), "version": outcome.version, **issued(outcome.events)}


def issued(events: list[Event]) -> dict[str, Any]:
    """What this run issued (nothing for a rerun on the same inputs)."""
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
