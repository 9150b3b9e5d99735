"""Write routes of the compensation service (docs/http.md, "compensation"): an employee's
monthly pay inputs, and the month's payroll run. Thin: request -> command -> :mod:`.handlers` ->
response; the rules live in ``domain/``."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter

from shared.commands import Write
from shared.events import JsonDict
from shared.execution import transaction
from shared.policy_store import shelf_of
from shared.sheet_imports import UPLOAD

from . import handlers, pay_imports
from .domain.commands import RatePerformance, RecordPieceRate, RecordTravelDays
from .domain.events import registry
from .schemas import (
    EmployeeId,
    MonthPath,
    PayInputsImported,
    PayrollRunAnswer,
    PayrollWrite,
    PerformanceAnswer,
    PerformanceRequest,
    PieceRateAnswer,
    PieceRateRequest,
    RunRequest,
    TravelAnswer,
    TravelRequest,
    issued,
    money,
)
from .upstream import find_employee, month_facts

router = APIRouter()


def dependencies(write: Write) -> handlers.Dependencies:
    """The handlers' dependencies, from the app the request came to."""
    state = write.app_state
    return handlers.Dependencies(
        write.aggregates(registry),
        partial(find_employee, state),
        partial(month_facts, state.pool),
        shelf_of(state),
    )


async def record(write: Write, command: handlers.PayInput) -> JsonDict:
    outcome = await handlers.record(dependencies(write), command, write)
    return {"employee_id": command.employee_id, "version": write.shown(outcome.version)}


@router.post(
    "/employees/{employee_id}/travel",
    status_code=201,
    response_model=TravelAnswer,
    tags=["employees"],
)
async def record_travel(
    employee_id: EmployeeId, body: TravelRequest, write: PayrollWrite
) -> JsonDict:
    """The month's travel days (TravelDaysRecorded); a later record for the month replaces it."""
    command = RecordTravelDays(employee_id, body.month, body.days, write.actor_id)
    return {**await record(write, command), "month": body.month, "days": body.days}


@router.post(
    "/employees/{employee_id}/piece-rate",
    status_code=201,
    response_model=PieceRateAnswer,
    tags=["employees"],
)
async def record_piece_rate(
    employee_id: EmployeeId, body: PieceRateRequest, write: PayrollWrite
) -> JsonDict:
    """R-28/R-29: the month's piece-rate wage from production (PieceRateRecorded)."""
    command = RecordPieceRate(employee_id, body.month, body.amount)
    return {**await record(write, command), "month": body.month, "amount": money(body.amount)}


@router.post(
    "/employees/{employee_id}/performance",
    status_code=201,
    response_model=PerformanceAnswer,
    tags=["employees"],
)
async def rate_performance(
    employee_id: EmployeeId, body: PerformanceRequest, write: PayrollWrite
) -> JsonDict:
    """R-27: the month's appraisal rating, 0-100 % (PerformanceRated)."""
    command = RatePerformance(employee_id, body.month, body.rating)
    return {**await record(write, command), "month": body.month, "rating": str(body.rating)}


@router.post("/payroll/{month}/run", response_model=PayrollRunAnswer, tags=["payroll"])
async def run_payroll(
    month: MonthPath, write: PayrollWrite, body: RunRequest | None = None
) -> JsonDict:
    """Run the month's payroll (PayslipIssued, BranchFeeCharged, TrainerFineIssued)."""
    outcome = await handlers.run_payroll(dependencies(write), month, write)
    version = write.shown(outcome.version)
    return {"month": str(month), "version": version, **issued(outcome.events)}


@router.post(
    "/imports/pay-inputs/{month}",
    status_code=201,
    response_model=PayInputsImported,
    tags=["employees"],
    openapi_extra=UPLOAD,
)
async def import_pay_inputs(month: MonthPath, write: PayrollWrite) -> JsonDict:
    """Record the month's inputs of a spreadsheet, one row per employee (columns
    ``employee_id``/员工编号, and any of ``travel_days``/出差天数, ``piece_rate``/计件工资,
    ``rating``/绩效评分; ``name``/姓名 is read by people only): each as its own route records it
    (TravelDaysRecorded, PieceRateRecorded, PerformanceRated), every row, or, when any row is
    bad, none; the 422 then lists every problem by row and column."""
    recorded = await pay_imports.import_pay_inputs(
        dependencies(write),
        month,
        await write.request.body(),
        write,
        partial(transaction, write.app_state.pool),
    )
    rows = [{"row": n, "employee_id": e, "recorded": inputs} for n, e, inputs in recorded]
    return {"month": str(month), "imported": len(rows), "rows": rows}
