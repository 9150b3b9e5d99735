"""The boards as workbooks people take into a meeting (issue 20): ``GET /board/grades/export.xlsx``
and ``GET /board/trainers/export.xlsx``, from the same reads as the JSON boards, for the same
readers. Two header rows, Chinese then English; branches and trainers by name beside their ids;
counts, rates and fines as numbers so the sheet can sum them. Text is written through
:func:`shared.spreadsheets.append_row` (never a formula)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from shared import directory
from shared.requests import Now
from shared.spreadsheets import board_workbook

from . import reads
from .projections import trainer_rows
from .schemas import IsoDateTime

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the workbook",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}
POSITIONS = {"technician": "技术员", "engineer": "工程师", "reserve": "储备"}
LEVELS = {"junior": "初级", "intermediate": "中级", "senior": "高级"}

router = APIRouter(tags=["boards"])

GRADE_COLUMNS = (
    ("网点编号", "Branch id"),
    ("网点", "Branch"),
    ("Branch (English)", "Branch (English)"),
    ("岗位", "Position"),
    ("级别", "Level"),
    ("人数", "Trainees"),
    ("学员编号", "Trainee ids"),
)
TRAINER_COLUMNS = (
    ("培训师编号", "Trainer id"),
    ("培训师", "Trainer"),
    ("考核场次", "Session"),
    ("产品系列或培训内容", "Series or content"),
    ("参考人数", "Trainees"),
    ("不合格人数", "Failed"),
    ("不合格率", "Failure rate"),
    ("罚款", "Fine"),
    ("扣分次数", "Demerits"),
    ("须继续培训", "Retraining"),
)


def workbook(title: str, columns: Sequence[tuple[str, str]], rows: Sequence[list[Any]]) -> bytes:
    return board_workbook(title, columns, rows)


def file(body: bytes, name: str) -> Response:
    disposition = f'attachment; filename="{name}.xlsx"'
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


def grade_table(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["branch_id"],
            r["branch_name_zh"],
            r["branch_name_en"],
            f"{POSITIONS.get(r['position'], r['position'])} {r['position']}",
            f"{LEVELS[r['level']]} {r['level']}" if r.get("level") else "",
            r["count"],
            ", ".join(r["trainee_ids"]),
        ]
        for r in rows
    ]


def trainer_table(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["trainer_id"],
            r["trainer_name"],
            r["session_id"],
            r.get("product_series") or r.get("content") or "",
            r["trainees"],
            r["failed"],
            Decimal(str(r["failure_rate"])),
            Decimal(str(r["fine"])),
            r["demerits"],
            ", ".join(r["retraining"]),
        ]
        for r in rows
    ]


@router.get("/board/grades/export.xlsx", response_class=Response, responses=XLSX_FILE)
async def grade_board_xlsx(
    principal: reads.BoardReader,
    request: Request,
    now: Now,
    branch_id: reads.OptionalId = None,
    as_of: IsoDateTime | None = None,
) -> Response:
    """``GET /board/grades`` as a workbook (the same readers, branch and moment), every cell's
    trainee ids listed whatever the board's size."""
    board = await reads.grade_board(principal, request, now, branch_id, as_of, trainee_ids=True)
    stamp = board["as_of"].date().isoformat()
    body = workbook("定级 Grades", GRADE_COLUMNS, grade_table(board["rows"]))
    return file(body, f"grades-{stamp}")


@router.get(
    "/board/trainers/export.xlsx",
    response_class=Response,
    responses=XLSX_FILE,
    dependencies=[reads.TrainerBoardGate],
)
async def trainer_board_xlsx(request: Request, session_id: reads.OptionalId = None) -> Response:
    """``GET /board/trainers`` as a workbook: R-24 failure rates and fines per trainer."""
    pool = request.app.state.pool
    rows = await trainer_rows(pool, session_id)
    names = await directory.staff_names(pool, (row["trainer_id"] for row in rows))
    named = directory.with_names(rows, names, "trainer_id", "trainer_name")
    return file(workbook("培训师 Trainers", TRAINER_COLUMNS, trainer_table(named)), "trainers")
