"""The grade board at any size (issue 20): the counts by branch x position x level from the
projection's count tables, the trainee ids inline only for a small board (or when asked), and
the trainees behind one cell as pages (``GET /board/grades/{branch_id}/{position}/{level}``),
for the same readers as the board, under the same visibility rule (``audiences.GRADE_BOARD``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from shared.auth import Principal
from shared.events import JsonDict
from shared.requests import KeyCursor, Now, encode_cursor

from . import audiences
from .board_cells import cell_counts, cell_page
from .domain.vocabulary import Level, Position
from .projections import GRADE_BOARD, PENDING, grade_rows
from .schemas import GradeCellPage, IdPath, IsoDateTime

router = APIRouter(tags=["assessment: reads"])
BoardReader = Annotated[Principal, Depends(audiences.GRADE_BOARD.gate())]
PageSize = Annotated[int, Query(ge=1, le=1000)]
InlineIds = Annotated[
    bool | None,
    Query(
        description="true: list every cell's trainee ids whatever the board's size; false: "
        "counts and drill-down links only; absent: ids inline when the board holds at most "
        "GRADELINE_BOARD_INLINE_TRAINEES trainees"
    ),
]


def moment_of(as_of: datetime | None) -> datetime | None:
    """``as_of`` as given (ISO 8601; without a zone, UTC)."""
    if as_of is None or as_of.tzinfo:
        return as_of
    return as_of.replace(tzinfo=UTC)


async def board(
    request: Request,
    branch: str | None,
    as_of: datetime | None,
    inline: bool | None,
) -> tuple[bool, list[dict[str, Any]]]:
    """The board's rows for a branch (None: all) now or as of a moment: counts by cell, with
    each cell's trainee ids when ``inline`` (None: when the board is small enough)."""
    pool, schema = request.app.state.pool, GRADE_BOARD.schema
    if inline is not True:
        counts = await cell_counts(pool, schema, branch, as_of, PENDING)
        small = (
            sum(row["count"] for row in counts) <= request.app.state.settings.board_inline_trainees
        )
        if inline is False or not small:
            return False, [{**row, "trainee_ids": None} for row in counts]
    return True, await grade_rows(pool, schema, branch, as_of)


def with_links(rows: list[dict[str, Any]], as_of: datetime | None) -> list[dict[str, Any]]:
    """Each row with its drill-down's path (and the board's moment)."""
    query = "" if as_of is None else "?" + urlencode({"as_of": as_of.isoformat()})
    return [
        {
            **row,
            "trainees": None
            if row["branch_id"] is None or row["level"] is None
            else f"/board/grades/{row['branch_id']}/{row['position']}/{row['level']}{query}",
        }
        for row in rows
    ]


@router.get("/board/grades/{branch_id}/{position}/{level}", response_model=GradeCellPage)
async def grade_cell(
    branch_id: IdPath,
    position: Position,
    level: Level,
    principal: BoardReader,
    request: Request,
    now: Now,
    as_of: IsoDateTime | None = None,
    limit: PageSize = 100,
    cursor: KeyCursor | None = None,
) -> JsonDict:
    """The trainees behind one cell of ``GET /board/grades``, in id order, a page at a time
    (``next_cursor`` until the last): those graded there now, or as of a past moment (ISO
    8601; without a zone, UTC). A branch clerk reads its own branch's cells only (403). A cell
    nobody is graded in, or a branch not registered here yet, is an empty page."""
    branch = audiences.GRADE_BOARD.branch_of_list(principal, branch_id)
    assert branch is not None  # asked in the path: kept, or refused
    pool = request.app.state.pool
    moment = moment_of(as_of)
    cell = (branch, str(position), str(level))
    ids = await cell_page(pool, GRADE_BOARD.schema, cell, cursor or "", limit + 1, moment, PENDING)
    more = len(ids) > limit
    return {
        "as_of": moment or now,
        "branch_id": branch,
        "position": position,
        "level": level,
        "items": [{"trainee_id": trainee_id} for trainee_id in ids[:limit]],
        "next_cursor": encode_cursor(ids[limit - 1]) if more else None,
    }
