"""The what-if answer as a spreadsheet (xlsx). Pure: the JSON answer and the branch names in,
bytes out. Three sheets: the changes, the counts before and after, the monthly cost; two header
rows, Chinese then English; branches named beside their ids; money as numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from shared.directory import BranchNames, branch_labels
from shared.spreadsheets import append_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Column = tuple[str, str, str]  # key, Chinese header, English header

BRANCH: tuple[Column, ...] = (
    ("branch_id", "分支机构编号", "Branch id"),
    ("branch_name_zh", "分支机构/网点", "Branch (Chinese)"),
    ("branch_name_en", "分支机构/网点（英文）", "Branch"),
)
CHANGES: tuple[Column, ...] = (
    ("trainee_id", "学员编号", "Trainee"),
    *BRANCH,
    ("score", "评定分数", "Grade score"),
    ("grade_before", "现行定级", "Grade in force"),
    ("grade_after", "草案定级", "Grade under draft"),
    ("pay_before", "现行工资", "Pay in force"),
    ("pay_after", "草案工资", "Pay under draft"),
    ("pay_delta", "工资差额", "Pay difference"),
)
BOARD: tuple[Column, ...] = (
    *BRANCH,
    ("position", "岗位", "Position"),
    ("level", "级别", "Level"),
    ("before", "现行人数", "Count in force"),
    ("after", "草案人数", "Count under draft"),
)
MONTHS: tuple[Column, ...] = (
    ("month", "月份", "Month"),
    ("payslips_before", "现行工资合计", "Payslips in force"),
    ("payslips_after", "草案工资合计", "Payslips under draft"),
    ("fines_before", "现行罚款", "Fines in force"),
    ("fines_after", "草案罚款", "Fines under draft"),
    ("fees_before", "现行培训费", "Fees in force"),
    ("fees_after", "草案培训费", "Fees under draft"),
    ("before", "现行合计", "Total in force"),
    ("after", "草案合计", "Total under draft"),
    ("delta", "差额", "Difference"),
)
MONEY = {"pay_before", "pay_after", "pay_delta"} | {c[0] for c in MONTHS[1:]}


def report(answer: Mapping[str, Any], names: Mapping[str, BranchNames]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook always has its first sheet
    book.remove(first)
    _sheet(book, "变化 Changes", CHANGES, [_change(c, names) for c in answer["changes"]])
    _sheet(book, "人数 Counts", BOARD, _board(answer, names))
    cost = answer["monthly_cost_delta"]
    total = {"month": "合计 Total", **{f"{k}": v for k, v in cost["total"].items()}}
    _sheet(book, "月度成本 Monthly cost", MONTHS, [*cost["months"], total])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(
    book: Workbook, title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]
) -> None:
    sheet = book.create_sheet(title)
    for header in (1, 2):
        for cell in append_row(sheet, [c[header] for c in columns]):
            cell.font = Font(bold=True)
    for row in rows:
        values = [_value(c[0], row.get(c[0])) for c in columns]
        for column, cell in zip(columns, append_row(sheet, values), strict=True):
            if column[0] in MONEY:
                cell.number_format = "0.00"


def _value(key: str, value: Any) -> Any:
    return Decimal(value) if key in MONEY and value is not None else value


def _grade(outcome: Mapping[str, Any]) -> str:
    if not outcome:
        return ""
    if not outcome.get("passed"):
        return "不及格 failed"
    if outcome.get("position") is None:
        return "无定级 no grade"
    return f"{outcome['position']} {outcome['level']}"


def _change(change: Mapping[str, Any], names: Mapping[str, BranchNames]) -> dict[str, Any]:
    before, after = change["before"], change["after"]
    return {
        "trainee_id": change["trainee_id"],
        "branch_id": change["branch_id"],
        **branch_labels(change["branch_id"], names),
        "score": before.get("grade_score"),
        "grade_before": _grade(before),
        "grade_after": _grade(after),
        "pay_before": before["pay"],
        "pay_after": after["pay"],
        "pay_delta": change["pay_delta"],
    }


def _board(answer: Mapping[str, Any], names: Mapping[str, BranchNames]) -> list[dict[str, Any]]:
    counts: dict[tuple[Any, Any, Any], list[int]] = {}
    for side, rows in enumerate((answer["board_before"], answer["board_after"])):
        for r in rows:
            counts.setdefault((r["branch_id"], r["position"], r["level"]), [0, 0])[side] = r[
                "count"
            ]
    return [
        {
            "branch_id": b,
            **branch_labels(b, names),
            "position": p or "无定级 none",
            "level": lv or "",
            "before": n[0],
            "after": n[1],
        }
        for (b, p, lv), n in sorted(counts.items(), key=lambda kv: tuple(x or "" for x in kv[0]))
    ]
