"""``GET /branches/{branch_id}/feedback``: every result and suggestion about a branch's trainees,
newest first (R-2, R-12b), from the read model of :mod:`.feed` (it lags the bus by a moment),
each entry with the trainee's name and the branch's names beside the ids.

Who reads it is :data:`.audiences.FEEDBACK_READERS`: the branch's own clerk, the after-sales
manager and management. A clerk asking for another branch gets 403, before anything is looked up.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from shared import directory
from shared.events import JsonDict
from shared.problems import forbidden, not_found, validation_failed
from shared.requests import KeyCursor, encode_cursor

from .audiences import FEEDBACK_READERS, FeedbackReader
from .domain.feed import FeedKind
from .names import employee_names

router = APIRouter()
BranchPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
UNTIL_KNOWN = "; its id until it has arrived"
EPOCH = datetime.fromtimestamp(0, UTC)
# A page's last key: microseconds since the epoch and the entry's seq (each fits a bigint).
_CURSOR_KEY = re.compile(r"[0-9]{1,18}\.[0-9]{1,18}")


class FeedItem(BaseModel):
    """One entry; the fields of its kind are set, the others are null."""

    event_id: str
    kind: FeedKind
    trainee_id: str
    trainee_name: str = Field(description="the trainee's name (its enrolment's)" + UNTIL_KNOWN)
    category: str | None = Field(description="the trainee's category (R-1); null until enrolled")
    branch_id: str
    branch_name_zh: str = Field(description="the branch's Chinese name" + UNTIL_KNOWN)
    branch_name_en: str = Field(description="the branch's English name" + UNTIL_KNOWN)
    occurred_at: datetime = Field(description="when the event was recorded upstream")
    occurred_on: date | None = Field(description="the day the event names (assigned, noted...)")
    position: str | None = None  # grade
    level: str | None = None
    grade_score: str | None = None
    capped_by: list[str] | None = None
    written: str | None = None  # grade, failure
    practical_mean: str | None = None
    corrects: str | None = Field(None, description="the decision a correction replaces (R-23)")
    failed_exams: list[str] | None = None  # failure
    outcome: str | None = None  # disposition
    reason: str | None = None
    concern_id: str | None = None  # concern, concern_handled (R-12b)
    stage_no: int | None = None
    text: str | None = None
    verified: bool | None = None
    handling: str | None = None
    by: str | None = Field(None, description="who decided, noted or handled it")


class FeedPage(BaseModel):
    branch_id: str
    items: list[FeedItem]
    next_cursor: str | None


_PAGE = (
    "SELECT e.event_id, e.trainee_id, e.branch_id, e.kind, e.occurred_at, e.occurred_on,"
    " e.details, e.seq, t.category FROM proj_branch_feed.entries e"
    " LEFT JOIN proj_branch_feed.trainees t USING (trainee_id)"
    " WHERE e.branch_id = $1 AND ($2::timestamptz IS NULL OR (e.occurred_at, e.seq) < ($2, $3))"
    " ORDER BY e.occurred_at DESC, e.seq DESC LIMIT $4"
)


def _cursor_of(row: Any) -> str:
    micros = (row["occurred_at"] - EPOCH) // timedelta(microseconds=1)  # exact, no float
    return encode_cursor(f"{micros}.{row['seq']}")


def _after(cursor: str | None) -> tuple[datetime | None, int]:
    """The (occurred_at, seq) a page continues after; 422 naming ``query.cursor`` otherwise."""
    if cursor is None:
        return None, 0
    micros, _, seq = cursor.partition(".")
    if _CURSOR_KEY.fullmatch(cursor):
        try:
            return EPOCH + timedelta(microseconds=int(micros)), int(seq)
        except OverflowError:  # an instant past year 9999: no page of this list
            pass
    message = "not a cursor from this list"
    raise validation_failed(
        f"Invalid request: query.cursor: {message}",
        [{"field": "query.cursor", "message": message, "type": "cursor"}],
    )


def _item(row: Any, names: dict[str, str], branches: dict[str, Any]) -> JsonDict:
    details = row["details"]
    return {
        **(details if isinstance(details, dict) else {}),
        "event_id": str(row["event_id"]),
        "kind": row["kind"],
        "trainee_id": row["trainee_id"],
        "trainee_name": directory.name_or_id(row["trainee_id"], names),
        "category": row["category"],
        "branch_id": row["branch_id"],
        **directory.branch_labels(row["branch_id"], branches),
        "occurred_at": row["occurred_at"],
        "occurred_on": row["occurred_on"],
    }


@router.get("/branches/{branch_id}/feedback", response_model=FeedPage, tags=["branches"])
async def get_feedback(
    branch_id: BranchPath,
    principal: FeedbackReader,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: KeyCursor | None = None,
) -> JsonDict:
    """Every result and suggestion about the branch's trainees, newest first (R-2, R-12b):
    grades (corrections included), failures, dispositions, the concerns trainers noted and how
    they are handled; every category of trainee the branch enrolled."""
    if not FEEDBACK_READERS.sees(principal, branch_id=branch_id, person_id=None):
        raise forbidden("a branch clerk reads its own branch's feedback only (R-2)")
    pool = request.app.state.pool
    branches = await directory.branch_names(pool, [branch_id])
    if branch_id not in branches and not await _known_branch(pool, branch_id):
        raise not_found(f"no branch {branch_id} is known here")
    after, seq = _after(cursor)
    rows = await pool.fetch(_PAGE, branch_id, after, seq, limit + 1)
    page = rows[:limit]
    names = await employee_names(pool, (r["trainee_id"] for r in page))
    return {
        "branch_id": branch_id,
        "items": [_item(r, names, branches) for r in page],
        "next_cursor": _cursor_of(page[-1]) if len(rows) > limit else None,
    }


async def _known_branch(pool: Any, branch_id: str) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT true FROM branches WHERE branch_id = $1 AND kind IS NOT NULL", branch_id
        )
    )
