"""The month's payroll and branch fees as spreadsheets (xlsx) and CSV. Pure: the JSON views in,
bytes out. One table per export: a header row, then one row per payslip or fee row. Text cells
are written as text and money as numbers, in both formats (shared.spreadsheets)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from shared.events import JsonDict
from shared.spreadsheets import append_row, csv_field

from .domain.vocabulary import LineName

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
Table = tuple[Sequence[str], list[list[Any]]]

PAYROLL_COLUMNS = (
    "employee_id",
    *(n.value for n in LineName),
    "total",
    "payslip_id",
    "supersedes",
    "difference",
)
FEE_COLUMNS = ("branch_id", "trainee_id", "days", "amount", "dates")
_MONEY_COLUMNS = {*(n.value for n in LineName), "total", "difference", "amount"}


def payroll_table(view: JsonDict) -> Table:
    """One row per employee's latest payslip; a line the payslip lacks is left empty."""
    rows = []
    for payslip in view["payslips"]:
        amounts = {line["name"]: line["amount"] for line in payslip["lines"]}
        rows.append(
            [
                payslip["employee_id"],
                *(amounts.get(n.value) for n in LineName),
                payslip["total"],
                payslip["payslip_id"],
                payslip["supersedes"],
                payslip["difference"],
            ]
        )
    return PAYROLL_COLUMNS, rows


def fee_table(rows: list[JsonDict]) -> Table:
    return FEE_COLUMNS, [
        [r["branch_id"], r["trainee_id"], r["days"], r["amount"], " ".join(r["dates"])]
        for r in rows
    ]


def to_csv(table: Table) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs open Chinese text correctly."""
    columns, rows = table
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[csv_field(v) for v in _typed(columns, row)] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, title: str) -> bytes:
    """Money as numbers formatted ``0.00``, so the sheet can sum them."""
    columns, rows = table
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = title
    for cell in append_row(sheet, columns):
        cell.font = Font(bold=True)
    for row in rows:
        cells = append_row(sheet, _typed(columns, row))
        for column, cell in zip(columns, cells, strict=True):
            if column in _MONEY_COLUMNS:
                cell.number_format = "0.00"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _typed(columns: Sequence[str], row: list[Any]) -> list[Any]:
    """The row with money as Decimal: a number, whichever the format (a negative amount in a CSV
    is then told apart from text that starts with a minus)."""
    return [
        Decimal(value) if column in _MONEY_COLUMNS and value is not None else value
        for column, value in zip(columns, row, strict=True)
    ]
