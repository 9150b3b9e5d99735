"""The boards as workbooks (issue 20): the grade board and the trainer board as xlsx, from the
same reads as the JSON boards, for the same readers; two header rows (Chinese, English), the
branch's and trainer's names beside their ids, counts, rates and fines as numbers."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from .helpers import EXAMPLE_A

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows_of(content: bytes) -> list[tuple]:
    sheet = load_workbook(BytesIO(content)).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


async def test_the_grade_board_as_a_workbook_scoped_like_the_board(svc):
    await svc.open_session()
    for trainee, branch in (("t-x1", "dl-north"), ("t-x2", "dl-north"), ("t-x3", "dl-south")):
        await svc.enrol(trainee, branch=branch)
        await svc.sit("s-1", trainee)
    await svc.eventually(
        "/board/grades", svc.management(), lambda b: sum(r["count"] for r in b["rows"]) == 3
    )
    answer = await svc.client.get("/board/grades/export.xlsx", headers=svc.management())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["content-disposition"].startswith('attachment; filename="grades-')
    rows = rows_of(answer.content)
    assert rows[0][:6] == ("网点编号", "网点", "Branch (English)", "岗位", "级别", "人数")
    assert rows[1][:6] == (
        "Branch id",
        "Branch",
        "Branch (English)",
        "Position",
        "Level",
        "Trainees",
    )
    assert [(r[0], r[3], r[4], r[5], r[6]) for r in rows[2:]] == [
        ("dl-north", "工程师 engineer", "中级 intermediate", 2, "t-x1, t-x2"),
        ("dl-south", "工程师 engineer", "中级 intermediate", 1, "t-x3"),
    ]
    own = await svc.client.get("/board/grades/export.xlsx", headers=svc.clerk("dl-south"))
    assert [r[0] for r in rows_of(own.content)[2:]] == ["dl-south"]  # the clerk's branch only
    other = await svc.client.get(
        "/board/grades/export.xlsx?branch_id=dl-north", headers=svc.clerk("dl-south")
    )
    assert other.status_code == 403
    early = await svc.client.get(
        "/board/grades/export.xlsx",
        params={"as_of": "2020-01-01T00:00:00"},
        headers=svc.auditor(),
    )
    assert early.status_code == 200 and rows_of(early.content)[2:] == []


async def test_the_trainer_board_as_a_workbook_example_e(svc):
    """Example E: 4 of tr-1's 10 trainees fail on X1: 40 %, a fine of 150 (R-24)."""
    await svc.open_session("s-e", "X1")
    for n in range(10):
        trainee = f"t-e{n}"
        await svc.enrol(trainee)
        await svc.plan(trainee, [(1, "X1", "tr-1")])
        await svc.sit("s-e", trainee, written="79" if n < 4 else "90", practical=EXAMPLE_A)
    closed = await svc.client.post("/sessions/s-e/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text
    await svc.eventually("/board/trainers", svc.management(), lambda b: len(b["rows"]) == 1)
    answer = await svc.client.get("/board/trainers/export.xlsx", headers=svc.manager())
    assert answer.status_code == 200, answer.text
    header_zh, header_en, *rows = rows_of(answer.content)
    assert (header_zh[0], header_en[0], header_en[6], header_en[7]) == (
        "培训师编号",
        "Trainer id",
        "Failure rate",
        "Fine",
    )
    (row,) = rows
    assert (row[0], row[2], row[3], row[4], row[5]) == ("tr-1", "s-e", "X1", 10, 4)
    assert (Decimal(str(row[6])), Decimal(str(row[7]))) == (Decimal("0.4"), Decimal("150"))
    refused = await svc.client.get("/board/trainers/export.xlsx", headers=svc.auditor())
    assert refused.status_code == 403
