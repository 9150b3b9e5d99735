"""Read routes of the compensation service: an employee's pay rate and payslips, and a month's
payroll, branch fees (R-19) and trainer fines (R-24), with the names people read beside the ids
(:mod:`.names`); their spreadsheets are
:mod:`.downloads`'.

A month's views read its ``payroll-<YYYY-MM>`` stream rather than a projection: they are exact
right after a run and carry the stream version as ETag (a month holds one payslip per employee
and run). A month never run answers empty lists, not 404: the month exists, nothing has been
issued in it yet. The payslips of one employee come from the ``payslips`` projection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request, Response

from shared import directory
from shared.decider import RuleViolation
from shared.events import JsonDict
from shared.execution import app_aggregates
from shared.policy_store import shelf_of
from shared.problems import forbidden, not_found
from shared.requests import BranchQuery, Now, PositionCursor, encode_cursor, etag

from . import upstream
from .audiences import FEE_READERS, PAY_READERS, FeeReader, PayReader, PayrollReader
from .charges import charges_of, fee_rows, fine_rows
from .domain.account import PAY_ACCOUNT, PayAccount, account_stream
from .domain.commands import RatePerformance, RecordPieceRate, RecordTravelDays
from .domain.employment import check_recordable, current_rate
from .domain.events import BranchFeeCharged, PayslipIssued, TrainerFineIssued, registry
from .domain.months import Month
from .domain.payroll import payroll_stream
from .names import employee_names, named_fees, named_fines, named_payroll
from .policy.pay import PayPolicy
from .schemas import (
    BranchFees,
    EmployeeId,
    MonthPath,
    PayInputSheet,
    PayRateAnswer,
    PayrollAnswer,
    PayslipPage,
    TrainerFines,
    money,
    payslip_item,
    rate_json,
)

router = APIRouter()


@router.get("/employees/{employee_id}/pay-rate", response_model=PayRateAnswer, tags=["employees"])
async def get_pay_rate(
    employee_id: EmployeeId,
    principal: PayReader,
    now: Now,
    request: Request,
    response: Response,
) -> JsonDict:
    """The rate in force today (R-32), with the grade event that set it."""
    if not PAY_READERS.sees(principal, branch_id=None, person_id=employee_id):
        raise forbidden("payroll, management or the employee itself may read a pay rate")
    accounts = app_aggregates(request.app.state, registry)
    account, version = await accounts.load(PAY_ACCOUNT, account_stream(employee_id))
    rate = current_rate(account, now.date())
    if rate is None:
        raise not_found(f"{employee_id} has no pay rate (not graded, or paid by its branch: R-31)")
    response.headers["ETag"] = etag(version)
    return {**rate_json(rate), "version": version}


_PAYSLIPS = (
    "SELECT payslip_id, position, month, lines, total, supersedes, difference, superseded,"
    " issued_at FROM proj_payslips.payslips WHERE employee_id = $1 AND position > $2"
    " ORDER BY position LIMIT $3"
)


@router.get("/employees/{employee_id}/payslips", response_model=PayslipPage, tags=["employees"])
async def list_payslips(
    employee_id: EmployeeId,
    principal: PayReader,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: PositionCursor | None = None,
) -> JsonDict:
    """Every payslip issued to the employee, oldest first, corrections beside what they correct
    (read model ``proj_payslips``: it lags the payroll run by a moment)."""
    if not PAY_READERS.sees(principal, branch_id=None, person_id=employee_id):
        raise forbidden("payroll, management or the employee itself may read payslips")
    rows = await request.app.state.pool.fetch(_PAYSLIPS, employee_id, cursor or 0, limit + 1)
    more = len(rows) > limit
    return {
        "items": [payslip_item(row) for row in rows[:limit]],
        "next_cursor": encode_cursor(str(rows[limit - 1]["position"])) if more else None,
    }


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


async def month_events(request: Request, month: Month) -> MonthEvents:
    envelopes = await request.app.state.store.read_stream(payroll_stream(str(month)))
    payslips, fees, fines = [], [], []
    for envelope in envelopes:
        event = registry.decode(envelope)
        if isinstance(event, PayslipIssued):
            payslips.append((event, envelope.recorded_at))
        elif isinstance(event, BranchFeeCharged):
            fees.append(event)
        elif isinstance(event, TrainerFineIssued):
            fines.append(event)
    version = envelopes[-1].version if envelopes else 0
    return MonthEvents(str(month), version, payslips, fees, fines)


async def tagged_month_events(request: Request, response: Response, month: Month) -> MonthEvents:
    """The month's events; the answer's ETag is their version."""
    events = await month_events(request, month)
    response.headers["ETag"] = etag(events.version)
    return events


@router.get("/payroll/{month}", response_model=PayrollAnswer, tags=["payroll"])
async def get_payroll(
    month: MonthPath, _: PayrollReader, request: Request, response: Response
) -> dict[str, Any]:
    """The latest payslip per employee, with every payslip issued in ``history`` (R-32); each
    employee's name beside its id."""
    events = await tagged_month_events(request, response, month)
    return await named_payroll(request.app.state.pool, payroll_json(events))


@router.get("/branch-fees/{month}", response_model=BranchFees, tags=["payroll"])
async def get_branch_fees(
    month: MonthPath,
    principal: FeeReader,
    request: Request,
    response: Response,
    branch_id: BranchQuery = None,
) -> dict[str, Any]:
    """R-19 fees of the month per branch and trainee, assessed or issued (R-33), named (the
    branch in zh and en, the trainee); a branch clerk sees its own. A branch asked for must be
    known here (422 until its registration has arrived from enrollment)."""
    branch = FEE_READERS.branch_of_list(principal, branch_id)
    pool = request.app.state.pool
    await directory.require_known_branch(pool, branch_id)
    events = await tagged_month_events(request, response, month)
    charges = await charges_of(request.app.state, month, [*events.fees, *events.fines])
    rows = await named_fees(pool, fee_rows(charges, branch))
    return {"month": str(month), "version": events.version, "rows": rows}


@router.get("/trainer-fines/{month}", response_model=TrainerFines, tags=["payroll"])
async def get_trainer_fines(
    month: MonthPath, _: PayrollReader, request: Request, response: Response
) -> dict[str, Any]:
    """R-24 fines of the month they were assessed in (R-33), issued by its payroll run or
    assessed and not issued yet, each trainer named."""
    pool = request.app.state.pool
    events = await tagged_month_events(request, response, month)
    charges = await charges_of(request.app.state, month, [*events.fees, *events.fines])
    rows = await named_fines(pool, fine_rows(charges))
    return {"month": str(month), "version": events.version, "rows": rows}


def paid_on(account: PayAccount, policy: PayPolicy) -> list[str]:
    """The inputs an employee's category is paid on (R-27, R-28): those its routes accept."""
    category = account.category
    if category is None:
        return []
    probes = (
        ("travel_days", RecordTravelDays("", "2000-01", 0, "")),
        ("piece_rate", RecordPieceRate("", "2000-01", Decimal(0))),
        ("rating", RatePerformance("", "2000-01", Decimal(0))),
    )
    accepted = []
    for name, probe in probes:
        try:
            check_recordable(category, probe, policy)
        except RuleViolation:
            continue
        accepted.append(name)
    return accepted


def input_line(employee_id: str, account: PayAccount, month: str, policy: PayPolicy) -> JsonDict:
    rate = current_rate(account, Month.parse(month).last_day)
    travel = [e.days for e in account.travel if e.month == month]
    piece = [e.amount for e in account.piece_rates if e.month == month]
    rating = [e.rating for e in account.ratings if e.month == month]
    return {
        "employee_id": employee_id,
        "category": account.category,
        "position": None if rate is None else rate.position,
        "level": None if rate is None else rate.level,
        "inputs": paid_on(account, policy),
        "travel_days": travel[-1] if travel else None,
        "piece_rate": money(piece[-1]) if piece else None,
        "rating": str(rating[-1]) if rating else None,
    }


async def account_versions(pool: asyncpg.Pool, employees: list[str]) -> dict[str, int]:
    """Each employee's pay account version (what an input's If-Match names)."""
    rows = await pool.fetch(
        "SELECT stream_id, max(version) AS version FROM events"
        " WHERE stream_id = ANY($1::text[]) GROUP BY stream_id",
        [account_stream(e) for e in employees],
    )
    return {r["stream_id"].removeprefix(account_stream("")): r["version"] for r in rows}


@router.get("/payroll/{month}/inputs", response_model=PayInputSheet, tags=["payroll"])
async def get_pay_inputs(
    month: MonthPath, _: PayrollReader, request: Request, now: Now
) -> dict[str, Any]:
    """The month's inputs of every employee a grade gave a pay rate (those the run pays), each
    named, with the inputs its category is paid on (R-27, R-28), what is recorded for the month
    so far (the latest record of each; null: none) and its account's version (an input sent
    with it as If-Match is refused with 412 when someone recorded another meanwhile): the
    payroll clerk's grid."""
    pool = request.app.state.pool
    employees = await upstream.paid_employees(pool)
    accounts = await upstream.month_accounts(pool, employees, month)
    names = await employee_names(pool, employees)
    versions = await account_versions(pool, employees)
    policy = await shelf_of(request.app.state).in_force("pay", now.date())
    rows = [
        {
            **input_line(e, accounts[e], str(month), policy),
            "employee_name": names.get(e, e),
            "version": versions.get(e, 0),
        }
        for e in employees
        if e in accounts and accounts[e].category is not None
    ]
    return {"month": str(month), "rows": rows}
