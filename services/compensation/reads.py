"""Read routes of a month: payroll, branch fees (R-19), trainer fines (R-24), and their exports.

Each reads the month's ``payroll-<YYYY-MM>`` stream (never stale, ETag = its version). A month
never run answers empty lists, not 404: the month exists, nothing has been issued in it yet.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from shared.auth import Principal
from shared.requests import etag

from .audiences import FEE_READERS, FeeReader, PayrollReader
from .domain.events import BranchFeeCharged, PayslipIssued, TrainerFineIssued, registry
from .domain.months import Month
from .domain.payroll import payroll_stream
from .export import CSV, XLSX, Table, fee_table, payroll_table, to_csv, to_xlsx
from .schemas import MonthPath
from .views import MonthEvents, fee_rows, fine_rows, payroll_json

router = APIRouter(tags=["payroll"])
BranchQuery = Annotated[str | None, Query(max_length=64)]


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


@router.get("/payroll/{month}")
async def get_payroll(
    month: MonthPath, _: PayrollReader, request: Request, response: Response
) -> dict[str, Any]:
    """The latest payslip per employee, with every payslip issued in ``history`` (R-32)."""
    events = await month_events(request, month)
    response.headers["ETag"] = etag(events.version)
    return payroll_json(events)


@router.get("/branch-fees/{month}")
async def get_branch_fees(
    month: MonthPath, principal: FeeReader, request: Request, response: Response,
    branch_id: BranchQuery = None,
) -> dict[str, Any]:  # fmt: skip
    """R-19 fees charged in the month per branch and trainee; a branch clerk sees its own."""
    branch = FEE_READERS.branch_of_list(principal, branch_id)
    events = await month_events(request, month)
    response.headers["ETag"] = etag(events.version)
    return {"month": str(month), "version": events.version, "rows": fee_rows(events, branch)}


@router.get("/trainer-fines/{month}")
async def get_trainer_fines(
    month: MonthPath, _: PayrollReader, request: Request, response: Response
) -> dict[str, Any]:
    """R-24 fines issued in the month they were assessed (R-33)."""
    events = await month_events(request, month)
    response.headers["ETag"] = etag(events.version)
    return {"month": str(month), "version": events.version, "rows": fine_rows(events)}


def download(table: Table, name: str, kind: str) -> Response:
    body, media = (to_xlsx(table, name), XLSX) if kind == "xlsx" else (to_csv(table), CSV)
    disposition = f'attachment; filename="{name}.{kind}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/payroll/{month}/export.xlsx", response_class=Response)
async def export_payroll_xlsx(month: MonthPath, _: PayrollReader, request: Request) -> Response:
    table = payroll_table(payroll_json(await month_events(request, month)))
    return download(table, f"payroll-{month}", "xlsx")


@router.get("/payroll/{month}/export.csv", response_class=Response)
async def export_payroll_csv(month: MonthPath, _: PayrollReader, request: Request) -> Response:
    table = payroll_table(payroll_json(await month_events(request, month)))
    return download(table, f"payroll-{month}", "csv")


async def fee_export(
    request: Request, month: Month, principal: Principal, branch_id: str | None, kind: str
) -> Response:
    branch = FEE_READERS.branch_of_list(principal, branch_id)
    rows = fee_rows(await month_events(request, month), branch)
    return download(fee_table(rows), f"branch-fees-{month}", kind)


@router.get("/branch-fees/{month}/export.xlsx", response_class=Response)
async def export_fees_xlsx(
    month: MonthPath, principal: FeeReader, request: Request, branch_id: BranchQuery = None
) -> Response:
    return await fee_export(request, month, principal, branch_id, "xlsx")


@router.get("/branch-fees/{month}/export.csv", response_class=Response)
async def export_fees_csv(
    month: MonthPath, principal: FeeReader, request: Request, branch_id: BranchQuery = None
) -> Response:
    return await fee_export(request, month, principal, branch_id, "csv")
