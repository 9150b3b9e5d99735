"""The month's payroll, branch fees and trainer fines as spreadsheets (xlsx) and CSV. Pure: the
JSON views in, bytes out. One table per export: a header row, then one row per payslip, fee row or
fine. Text cells are written as text and money as numbers, in both formats (shared.spreadsheets).

People's and branches' names stand beside their ids (the views carry them, the id while a name
has not arrived). The header row is in Chinese (``zh``: the words the regulation and the
dashboard use, 姓名, 分支机构/网点, 培训师, 金额...), or the JSON field names (``key``) for a
program that reads the file by column name.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Font

from shared.events import JsonDict
from shared.spreadsheets import append_row, csv_field

from .domain.vocabulary import LineName

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
Table = tuple[Sequence[str], list[list[Any]]]
Header = Literal["zh", "key"]

PAYROLL_COLUMNS = (
    "employee_id",
    "employee_name",
    *(n.value for n in LineName),
    "total",
    "payslip_id",
    "supersedes",
    "difference",
)
FEE_COLUMNS = (
    "branch_id",
    "branch_name_zh",
    "branch_name_en",
    "trainee_id",
    "trainee_name",
    "days",
    "amount",
    "dates",
    "status",
)
FINE_COLUMNS = (
    "trainer_id",
    "trainer_name",
    "session_id",
    "product_series",
    "content",
    "failure_rate",
    "amount",
    "status",
)
ZH_HEADERS: Mapping[str, str] = {
    "employee_id": "员工编号",
    "employee_name": "姓名",
    LineName.POSITION: "岗位工资",
    LineName.PERFORMANCE: "绩效工资",
    LineName.TECHNICAL_ALLOWANCE: "技术津贴",
    LineName.PIECE_RATE: "计件工资",
    LineName.TRAVEL_PAY: "出差工资",
    LineName.TRAVEL_ALLOWANCE: "出差补助",
    LineName.TRAVEL_SUBSIDY: "出差补贴",
    "total": "合计",
    "payslip_id": "工资单编号",
    "supersedes": "更正的工资单",
    "difference": "差额",
    "branch_id": "分支机构编号",
    "branch_name_zh": "分支机构/网点",
    "branch_name_en": "分支机构/网点（英文）",
    "trainee_id": "学员编号",
    "trainee_name": "学员姓名",
    "days": "培训天数",
    "amount": "金额",
    "dates": "培训日期",
    "trainer_id": "培训师编号",
    "trainer_name": "培训师",
    "session_id": "考试场次",
    "product_series": "产品系列",
    "failure_rate": "不合格率",
    "content": "培训内容",
    "status": "状态",
}
# a fee or fine is assessed (核定) until its month's payroll run issues it (已发放).
ZH_STATUS: Mapping[str, str] = {"assessed": "已核定未发放", "issued": "已发放"}
_MONEY_COLUMNS = {*(n.value for n in LineName), "total", "difference", "amount"}
_RATE_COLUMNS = {"failure_rate"}


def header_row(columns: Sequence[str], header: Header = "zh") -> list[str]:
    """The header cells: Chinese labels, or the column keys themselves."""
    return [ZH_HEADERS[c] if header == "zh" else c for c in columns]


def payroll_table(view: JsonDict) -> Table:
    """One row per employee's latest payslip; a line the payslip lacks is left empty."""
    rows = []
    for payslip in view["payslips"]:
        amounts = {line["name"]: line["amount"] for line in payslip["lines"]}
        rows.append(
            [
                payslip["employee_id"],
                payslip.get("employee_name") or payslip["employee_id"],
                *(amounts.get(n.value) for n in LineName),
                payslip["total"],
                payslip["payslip_id"],
                payslip["supersedes"],
                payslip["difference"],
            ]
        )
    return PAYROLL_COLUMNS, rows


def _status(row: JsonDict, header: Header) -> str | None:
    """The row's status (R-33): in Chinese in a sheet with Chinese headers, else its key."""
    status = row.get("status")
    return ZH_STATUS.get(status, status) if header == "zh" and status else status


def fee_table(rows: list[JsonDict], header: Header = "zh") -> Table:
    return FEE_COLUMNS, [
        [
            r["branch_id"],
            r.get("branch_name_zh") or r["branch_id"],
            r.get("branch_name_en") or r["branch_id"],
            r["trainee_id"],
            r.get("trainee_name") or r["trainee_id"],
            r["days"],
            r["amount"],
            " ".join(r["dates"]),
            _status(r, header),
        ]
        for r in rows
    ]


def fine_table(rows: list[JsonDict], header: Header = "zh") -> Table:
    return FINE_COLUMNS, [
        [
            r["trainer_id"],
            r.get("trainer_name") or r["trainer_id"],
            r["session_id"],
            r.get("product_series"),
            r.get("content"),
            r["failure_rate"],
            r["amount"],
            _status(r, header),
        ]
        for r in rows
    ]


def to_csv(table: Table, header: Header = "zh") -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs open Chinese text correctly."""
    columns, rows = table
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header_row(columns, header))
    writer.writerows([[csv_field(v) for v in _typed(columns, row)] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, title: str, header: Header = "zh") -> bytes:
    """Money as numbers formatted ``0.00`` and rates as percentages, so the sheet can sum them."""
    columns, rows = table
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = title
    for cell in append_row(sheet, header_row(columns, header)):
        cell.font = Font(bold=True)
    for row in rows:
        cells = append_row(sheet, _typed(columns, row))
        for column, cell in zip(columns, cells, strict=True):
            if column in _MONEY_COLUMNS:
                cell.number_format = "0.00"
            elif column in _RATE_COLUMNS:
                cell.number_format = "0.0%"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _typed(columns: Sequence[str], row: list[Any]) -> list[Any]:
    """The row with money and rates as Decimal: a number, whichever the format (a negative amount
    in a CSV is then told apart from text that starts with a minus)."""
    return [
        Decimal(value) if column in _MONEY_COLUMNS | _RATE_COLUMNS and value is not None else value
        for column, value in zip(columns, row, strict=True)
    ]
