"""The training-progress board as a workbook people take into a meeting (issue 20):
``GET /board/progress/export.xlsx``, from the same read as ``GET /board/progress``, for the same
readers and branch. Two sheets, branches and trainers; two header rows, Chinese then English;
branches and trainers by name beside their ids; counts as numbers, so the sheet can sum them.
Text is written through :mod:`shared.spreadsheets` (never a formula)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response

from shared.requests import BranchQuery, Now
from shared.spreadsheets import board_sheets

from .export import XLSX
from .reads import BoardReader, progress_board
from .schemas import BranchProgress, TrainerTally

router = APIRouter(tags=["boards"])

BRANCH_COUNTS = (
    ("学员人数", "Trainees", "trainees"),
    ("无计划", "Without plan", "without_plan"),
    ("计划草稿", "Draft plans", "draft"),
    ("计划已批准", "Approved plans", "approved"),
    ("已完成", "Completed", "completed"),
    ("已退出", "Withdrawn", "withdrawn"),
    ("逾期阶段", "Overdue stages", "overdue_stages"),
    ("争议", "Disputes", "disputes"),
    ("退回", "Send-backs", "send_backs"),
)
TRAINER_COUNTS = (
    ("争议阶段", "Disputed stages", "disputed_stages"),
    ("异议天数", "Dissenting days", "dissenting_days"),
    ("被退回次数", "Send-backs received", "send_backs_received"),
    ("扣分次数", "Demerits", "demerits"),
)
BRANCH_COLUMNS = (
    ("网点编号", "Branch id"),
    ("网点", "Branch"),
    ("Branch (English)", "Branch (English)"),
    *((zh, en) for zh, en, _ in BRANCH_COUNTS),
)
TRAINER_COLUMNS = (
    ("培训师编号", "Trainer id"),
    ("培训师", "Trainer"),
    *((zh, en) for zh, en, _ in TRAINER_COUNTS),
)
XLSX_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the workbook",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def branch_table(rows: Sequence[BranchProgress]) -> list[list[Any]]:
    return [
        [r.branch_id, r.branch_name_zh, r.branch_name_en]
        + [getattr(r, key) for _, _, key in BRANCH_COUNTS]
        for r in rows
    ]


def trainer_table(rows: Sequence[TrainerTally]) -> list[list[Any]]:
    return [
        [r.trainer_id, r.trainer_name] + [getattr(r, key) for _, _, key in TRAINER_COUNTS]
        for r in rows
    ]


@router.get("/board/progress/export.xlsx", response_class=Response, responses=XLSX_FILE)
async def progress_board_xlsx(
    principal: BoardReader, request: Request, now: Now, branch_id: BranchQuery = None
) -> Response:
    """``GET /board/progress`` as a workbook (the same readers and branch): a sheet of branches
    and one of trainers."""
    board = await progress_board(principal, request, now, branch_id)
    body = board_sheets(
        [
            ("培训进度 Progress", BRANCH_COLUMNS, branch_table(board.rows)),
            ("培训师 Trainers", TRAINER_COLUMNS, trainer_table(board.trainers)),
        ]
    )
    name = f"progress-{board.branch_id or 'all'}-{board.as_of.isoformat()}.xlsx"
    disposition = f'attachment; filename="{name}"'
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})
