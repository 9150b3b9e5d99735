"""HTTP routes of an employee's pay account (api-contract.md, "compensation"). Thin: request ->
command -> shared.decider.execute -> response; the rules live in domain/account.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from shared.auth import Role
from shared.commands import CommandContext
from shared.execution import Outcome, execute, load
from shared.problems import forbidden, not_arrived, not_found
from shared.requests import Money, Now, PositionCursor, command_metadata, encode_cursor, etag

from .audiences import PAY_READERS, PayReader
from .domain.account import PAY_ACCOUNT, PayAccount, account_stream
from .domain.commands import AccountCommand, RatePerformance, RecordPieceRate, RecordTravelDays
from .domain.employment import check_recordable, current_rate
from .domain.events import PayRateSet, registry
from .policy.pay import PAY
from .schemas import Body, EmployeeId, PayrollCommand, find_employee, money

router = APIRouter(tags=["employees"])


class TravelRequest(Body):
    month: str
    days: int


class PieceRateRequest(Body):
    month: str
    amount: Money


class PerformanceRequest(Body):
    month: str
    rating: Decimal


async def record(
    request: Request, cmd: CommandContext, employee_id: str, command: AccountCommand
) -> Outcome[PayAccount]:
    """Record a month's pay input for a known employee whom the company pays (R-31)."""
    employee = await find_employee(request.app.state, employee_id)
    if employee is None or employee.category is None:
        raise not_arrived(f"no employee {employee_id} is known to compensation (yet)")
    check_recordable(employee.category, command, PAY.in_force(cmd.now.date()))
    meta = command_metadata(cmd.principal, cmd.idempotency_key, cmd.now,
                            branch_id=employee.branch_id, roles=(Role.PAYROLL,))  # fmt: skip
    return await execute(
        request.app.state.store, registry, PAY_ACCOUNT, account_stream(employee_id), command,
        meta, expected_version=cmd.expected, cache=request.app.state.states,
    )  # fmt: skip


def recorded(response: Response, employee_id: str, outcome: Outcome[PayAccount]) -> dict[str, Any]:
    response.headers["ETag"] = etag(outcome.version)
    return {"employee_id": employee_id, "version": outcome.version}


@router.post("/employees/{employee_id}/travel", status_code=201)
async def record_travel(
    employee_id: EmployeeId, body: TravelRequest, cmd: PayrollCommand, request: Request,
    response: Response,
) -> dict[str, Any]:  # fmt: skip
    """The month's travel days (TravelDaysRecorded); a later record for the month replaces it."""
    command = RecordTravelDays(employee_id, body.month, body.days, cmd.principal.sub)
    outcome = await record(request, cmd, employee_id, command)
    return {**recorded(response, employee_id, outcome), "month": body.month, "days": body.days}


@router.post("/employees/{employee_id}/piece-rate", status_code=201)
async def record_piece_rate(
    employee_id: EmployeeId, body: PieceRateRequest, cmd: PayrollCommand, request: Request,
    response: Response,
) -> dict[str, Any]:  # fmt: skip
    """R-28/R-29: the month's piece-rate wage from production (PieceRateRecorded)."""
    command = RecordPieceRate(employee_id, body.month, body.amount)
    outcome = await record(request, cmd, employee_id, command)
    answer = recorded(response, employee_id, outcome)
    return {**answer, "month": body.month, "amount": money(body.amount)}


@router.post("/employees/{employee_id}/performance", status_code=201)
async def rate_performance(
    employee_id: EmployeeId, body: PerformanceRequest, cmd: PayrollCommand, request: Request,
    response: Response,
) -> dict[str, Any]:  # fmt: skip
    """R-27: the month's appraisal rating, 0-100 % (PerformanceRated)."""
    command = RatePerformance(employee_id, body.month, body.rating)
    outcome = await record(request, cmd, employee_id, command)
    answer = recorded(response, employee_id, outcome)
    return {**answer, "month": body.month, "rating": str(body.rating)}


@router.get("/employees/{employee_id}/pay-rate")
async def get_pay_rate(
    employee_id: EmployeeId, principal: PayReader, now: Now, request: Request,
    response: Response,
) -> dict[str, Any]:  # fmt: skip
    """The rate in force today (R-32), with the grade event that set it."""
    if not PAY_READERS.sees(principal, branch_id=None, person_id=employee_id):
        raise forbidden("payroll, management or the employee itself may read a pay rate")
    store = request.app.state.store
    account, version = await load(store, registry, PAY_ACCOUNT, account_stream(employee_id))
    rate = current_rate(account, now.date())
    if rate is None:
        raise not_found(f"{employee_id} has no pay rate (not graded, or paid by its branch: R-31)")
    response.headers["ETag"] = etag(version)
    return {**rate_json(rate), "version": version}


def rate_json(rate: PayRateSet) -> dict[str, Any]:
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


@router.get("/employees/{employee_id}/payslips")
async def list_payslips(
    employee_id: EmployeeId, principal: PayReader, request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: PositionCursor | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every payslip issued to the employee, oldest first, corrections beside what they correct
    (read model ``proj_payslips``: it lags the payroll run by a moment)."""
    if not PAY_READERS.sees(principal, branch_id=None, person_id=employee_id):
        raise forbidden("payroll, management or the employee itself may read payslips")
    rows = await request.app.state.pool.fetch(
        "SELECT payslip_id, position, month, lines, total, supersedes, difference, superseded,"
        " issued_at FROM proj_payslips.payslips WHERE employee_id = $1 AND position > $2"
        " ORDER BY position LIMIT $3",
        employee_id, cursor or 0, limit + 1,
    )  # fmt: skip
    items = [payslip_item(row) for row in rows[:limit]]
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": encode_cursor(str(rows[limit - 1]["position"])) if more else None,
    }


def payslip_item(row: Any) -> dict[str, Any]:
    return {
        "payslip_id": str(row["payslip_id"]), "month": row["month"], "lines": row["lines"],
        "total": money(row["total"]),
        "supersedes": None if row["supersedes"] is None else str(row["supersedes"]),
        "difference": None if row["difference"] is None else money(row["difference"]),
        "superseded": row["superseded"], "issued_at": row["issued_at"].isoformat(),
    }  # fmt: skip
