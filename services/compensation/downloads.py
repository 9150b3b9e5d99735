"""The month's payroll, branch fees and trainer fines as files (xlsx, csv): the JSON views of
:mod:`.reads`, names included, made into tables by :mod:`.export`. Whoever may read a view may
download it; a branch clerk downloads its own branch's fees."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from shared import directory
from shared.auth import Principal
from shared.requests import BranchQuery

from .audiences import FEE_READERS, FeeReader, PayrollReader
from .charges import charges_of, fee_rows, fine_rows
from .domain.months import Month
from .export import CSV, XLSX, Header, Table, fee_table, fine_table, payroll_table, to_csv, to_xlsx
from .names import named_fees, named_fines, named_payroll
from .reads import month_events, payroll_json
from .schemas import MonthPath

router = APIRouter(tags=["payroll"])
HeaderQuery = Annotated[
    Header,
    Query(
        description="the header row: `zh` the Chinese column names (default), `key` the JSON"
        " field names, for programs that read the file by column"
    ),
]


def file_answer(media_type: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a download: a file of ``media_type``."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "the file", "content": {media_type: binary}}}


XLSX_FILE, CSV_FILE = file_answer(XLSX), file_answer(CSV)


def download(table: Table, name: str, kind: str, header: Header) -> Response:
    if kind == "xlsx":
        body, media = to_xlsx(table, name, header), XLSX
    else:
        body, media = to_csv(table, header), CSV
    disposition = f'attachment; filename="{name}.{kind}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


async def payroll_download(request: Request, month: Month, kind: str, header: Header) -> Response:
    view = await named_payroll(
        request.app.state.pool, payroll_json(await month_events(request, month))
    )
    return download(payroll_table(view), f"payroll-{month}", kind, header)


@router.get("/payroll/{month}/export.xlsx", response_class=Response, responses=XLSX_FILE)
async def export_payroll_xlsx(
    month: MonthPath, _: PayrollReader, request: Request, header: HeaderQuery = "zh"
) -> Response:
    """The month's payslips, one row per employee (员工编号, 姓名, the lines, 合计)."""
    return await payroll_download(request, month, "xlsx", header)


@router.get("/payroll/{month}/export.csv", response_class=Response, responses=CSV_FILE)
async def export_payroll_csv(
    month: MonthPath, _: PayrollReader, request: Request, header: HeaderQuery = "zh"
) -> Response:
    """The month's payslips as CSV (UTF-8 with a BOM), one row per employee."""
    return await payroll_download(request, month, "csv", header)


async def fee_download(
    request: Request,
    month: Month,
    principal: Principal,
    branch_id: str | None,
    kind: str,
    header: Header,
) -> Response:
    branch = FEE_READERS.branch_of_list(principal, branch_id)
    pool = request.app.state.pool
    await directory.require_known_branch(pool, branch_id)
    events = await month_events(request, month)
    charges = await charges_of(request.app.state, month, [*events.fees, *events.fines])
    rows = await named_fees(pool, fee_rows(charges, branch))
    return download(fee_table(rows, header), f"branch-fees-{month}", kind, header)


@router.get("/branch-fees/{month}/export.xlsx", response_class=Response, responses=XLSX_FILE)
async def export_fees_xlsx(
    month: MonthPath,
    principal: FeeReader,
    request: Request,
    branch_id: BranchQuery = None,
    header: HeaderQuery = "zh",
) -> Response:
    """R-19 fees of the month, one row per branch and trainee, both named."""
    return await fee_download(request, month, principal, branch_id, "xlsx", header)


@router.get("/branch-fees/{month}/export.csv", response_class=Response, responses=CSV_FILE)
async def export_fees_csv(
    month: MonthPath,
    principal: FeeReader,
    request: Request,
    branch_id: BranchQuery = None,
    header: HeaderQuery = "zh",
) -> Response:
    """R-19 fees of the month as CSV (UTF-8 with a BOM)."""
    return await fee_download(request, month, principal, branch_id, "csv", header)


async def fine_download(request: Request, month: Month, kind: str, header: Header) -> Response:
    pool = request.app.state.pool
    events = await month_events(request, month)
    charges = await charges_of(request.app.state, month, [*events.fees, *events.fines])
    rows = await named_fines(pool, fine_rows(charges))
    return download(fine_table(rows, header), f"trainer-fines-{month}", kind, header)


@router.get("/trainer-fines/{month}/export.xlsx", response_class=Response, responses=XLSX_FILE)
async def export_fines_xlsx(
    month: MonthPath, _: PayrollReader, request: Request, header: HeaderQuery = "zh"
) -> Response:
    """R-24 fines of the month, one row per trainer and session, named, assessed or issued."""
    return await fine_download(request, month, "xlsx", header)


@router.get("/trainer-fines/{month}/export.csv", response_class=Response, responses=CSV_FILE)
async def export_fines_csv(
    month: MonthPath, _: PayrollReader, request: Request, header: HeaderQuery = "zh"
) -> Response:
    """R-24 fines of the month as CSV (UTF-8 with a BOM)."""
    return await fine_download(request, month, "csv", header)
