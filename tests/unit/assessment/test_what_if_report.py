"""The what-if workbook (services/assessment/what_if_report.py): Given an answer and the branches'
names, Then three sheets with Chinese and English header rows, branches named, money as numbers."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from services.assessment.what_if_report import report
from shared.directory import BranchNames

SIDE = {"passed": True, "grade_score": "97.25"}
ANSWER = {
    "changes": [
        {
            "trainee_id": "t-1",
            "branch_id": "hq",
            "before": {**SIDE, "position": "engineer", "level": "senior", "pay": "3500.00"},
            "after": {**SIDE, "position": "engineer", "level": "intermediate", "pay": "3200.00"},
            "pay_delta": "-300.00",
        }
    ],
    "board_before": [{"branch_id": "hq", "position": "engineer", "level": "senior", "count": 1}],
    "board_after": [
        {"branch_id": "hq", "position": "engineer", "level": "intermediate", "count": 1}
    ],
    "monthly_cost_delta": {
        "months": [
            {
                "month": "2026-03", "before": "3500.00", "after": "3200.00", "delta": "-300.00",
                "payslips_before": "3500.00", "payslips_after": "3200.00",
                "fines_before": "0.00", "fines_after": "0.00",
                "fees_before": "0.00", "fees_after": "0.00",
            }
        ],
        "total": {"before": "3500.00", "after": "3200.00", "delta": "-300.00"},
    },
}  # fmt: skip
NAMES = {"hq": BranchNames("hq", "总部", "Head office", "open", None)}


def sheets() -> dict[str, list[tuple]]:
    book = load_workbook(BytesIO(report(ANSWER, NAMES)))
    return {name: list(book[name].values) for name in book.sheetnames}


def test_three_sheets_with_chinese_then_english_headers():
    found = sheets()
    assert list(found) == ["变化 Changes", "人数 Counts", "月度成本 Monthly cost"]
    changes = found["变化 Changes"]
    assert changes[0][:3] == ("学员编号", "分支机构编号", "分支机构/网点")
    assert changes[1][:3] == ("Trainee", "Branch id", "Branch (Chinese)")


def test_a_change_names_its_branch_and_keeps_money_as_numbers():
    row = sheets()["变化 Changes"][2]
    assert row[:4] == ("t-1", "hq", "总部", "Head office")
    assert row[-3:] == (Decimal("3500.00"), Decimal("3200.00"), Decimal("-300.00"))


def test_counts_put_both_sides_beside_each_other_and_the_months_end_with_the_total():
    found = sheets()
    counts = found["人数 Counts"][2:]
    assert [(r[3], r[4], r[5], r[6]) for r in counts] == [
        ("engineer", "intermediate", 0, 1),
        ("engineer", "senior", 1, 0),
    ]
    assert found["月度成本 Monthly cost"][-1][0] == "合计 Total"
    assert found["月度成本 Monthly cost"][-1][-1] == Decimal("-300.00")
