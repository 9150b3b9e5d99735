"""Trends for the management dashboard (issue 20): per month and branch, the trainees graded, the
assessments failed and the trainer fines (count and amount), ``GET /board/trends``.

The ``trends`` projection (schema ``proj_trends``) keeps one row per month and branch of
decisions, and one per month and trainer of fines, from the service's own events; a year of any
company's activity is a few hundred rows, so the route stays fast however many trainees there are.

What counts, and in which month (months are calendar months in UTC, as everywhere in Gradeline):

- graded: a ``GradeAssigned`` with a position (R-20/R-21), in the month of its ``assigned_at``;
  failed: an ``AssessmentFailed`` (R-18), in the month of its ``assessed_at``; each in the branch
  its event carries (the trainee's). A dispute's corrected decision (``supersedes`` set) is not
  counted again: the trends count sittings decided, the grade board shows where trainees stand.
- fined: a ``TrainerPenaltyAssessed`` with a fine above 0 (R-24), in the month of its
  ``assessed_on``, the month the fine is paid in (R-33). A fine is the trainer's, so it counts in
  the trainer's branch, as the organisation registers the trainer (its staff record, read when
  answering). A trainer whose registration has not arrived here has no branch yet: its fines
  count in the months' totals only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from shared import directory
from shared.auth import Principal
from shared.db import Conn
from shared.events import Envelope, JsonDict
from shared.problems import Problem, validation_failed
from shared.projections import Projection
from shared.requests import Now

from . import audiences
from .schemas import ID_PATTERN, money

TRENDS_DDL = """
CREATE TABLE monthly_decisions (
    month     date    NOT NULL,  -- the month's first day
    branch_id text    NOT NULL,  -- '' for a decision that carried none
    graded    integer NOT NULL DEFAULT 0,
    failed    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (month, branch_id)
);
CREATE TABLE monthly_fines (
    month      date    NOT NULL,
    trainer_id text    NOT NULL,
    fines      integer NOT NULL DEFAULT 0,
    amount     numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (month, trainer_id)
);
"""
TYPES = frozenset({"GradeAssigned", "AssessmentFailed", "TrainerPenaltyAssessed"})

_ADD_DECISIONS = """
INSERT INTO monthly_decisions SELECT * FROM unnest($1::date[], $2::text[], $3::int[], $4::int[])
ON CONFLICT (month, branch_id) DO UPDATE SET graded = monthly_decisions.graded + EXCLUDED.graded,
    failed = monthly_decisions.failed + EXCLUDED.failed
"""
_ADD_FINES = """
INSERT INTO monthly_fines SELECT * FROM unnest($1::date[], $2::text[], $3::int[], $4::numeric[])
ON CONFLICT (month, trainer_id) DO UPDATE SET fines = monthly_fines.fines + EXCLUDED.fines,
    amount = monthly_fines.amount + EXCLUDED.amount
"""


def month_of(moment: str) -> date:
    """The first day of the UTC month of an ISO 8601 moment (a date is taken as it stands)."""
    if len(moment) == 10:
        day = date.fromisoformat(moment)
    else:
        parsed = datetime.fromisoformat(moment)
        day = (parsed if parsed.tzinfo is None else parsed.astimezone(UTC)).date()
    return day.replace(day=1)


async def apply_trends(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """A batch's increments, one upsert per table."""
    decisions: Counter[tuple[date, str, str]] = Counter()
    fines: Counter[tuple[date, str]] = Counter()
    amounts: dict[tuple[date, str], Decimal] = {}
    for e in envelopes:
        d = e.data
        if d.get("supersedes"):  # a dispute's correction: the sitting was counted already
            continue
        if e.type == "GradeAssigned" and d.get("position"):
            decisions[month_of(d["assigned_at"]), e.branch_id or "", "graded"] += 1
        elif e.type == "AssessmentFailed":
            decisions[month_of(d["assessed_at"]), e.branch_id or "", "failed"] += 1
        elif e.type == "TrainerPenaltyAssessed" and Decimal(d["fine"]) > 0:
            key = month_of(d["assessed_on"]), d["trainer_id"]
            fines[key] += 1
            amounts[key] = amounts.get(key, Decimal(0)) + Decimal(d["fine"])
    if decisions:
        keys = sorted({(month, branch) for month, branch, _ in decisions})
        graded = [decisions[month, branch, "graded"] for month, branch in keys]
        failed = [decisions[month, branch, "failed"] for month, branch in keys]
        await conn.execute(_ADD_DECISIONS, *zip(*keys, strict=True), graded, failed)
    if fines:
        keys = sorted(fines)
        counts, sums = [fines[k] for k in keys], [amounts[k] for k in keys]
        await conn.execute(_ADD_FINES, *zip(*keys, strict=True), counts, sums)


async def apply_trend(conn: Conn, e: Envelope) -> None:
    await apply_trends(conn, [e])


TRENDS = Projection("trends", TRENDS_DDL, apply_trend, types=TYPES, apply_batch=apply_trends)


# --- the route ----------------------------------------------------------------------------------

router = APIRouter(tags=["boards"])
TrendsReader = Annotated[Principal, Depends(audiences.TRENDS.gate())]
# YYYY-MM, years 0001-9999 (compensation's months), spelt without a lookahead.
MONTH_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
)
FIRST_MONTH = 12  # the index of 0001-01
MAX_MONTHS = 24
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]

_DECISIONS = """
SELECT month, branch_id, graded, failed FROM proj_trends.monthly_decisions
WHERE month BETWEEN $1 AND $2 AND ($3::text IS NULL OR branch_id = $3)
"""
# A fine counts in its trainer's branch as registered (NULL: the registration has not arrived).
_FINES = """
SELECT f.month, s.branch_id, sum(f.fines)::int AS fines, sum(f.amount) AS amount
FROM proj_trends.monthly_fines f LEFT JOIN staff s ON s.staff_id = f.trainer_id
WHERE f.month BETWEEN $1 AND $2 AND ($3::text IS NULL OR s.branch_id = $3)
GROUP BY 1, 2
"""
_BRANCHES = "SELECT branch_id FROM branches WHERE kind IS NOT NULL"


class TrendTotal(BaseModel):
    """One month's counts: trainees graded, assessments failed, trainer fines and their sum."""

    month: str = Field(description="YYYY-MM")
    graded: int
    failed: int
    fines: int
    amount: str = Field(description="the fines' sum, yuan, two decimals")


class TrendCell(TrendTotal):
    branch_id: str
    branch_name_zh: str = Field(description="the branch's Chinese name; its id until known")
    branch_name_en: str = Field(description="the branch's English name; its id until known")


class Trends(BaseModel):
    from_: str = Field(alias="from", description="the first month, YYYY-MM")
    to: str = Field(description="the last month, YYYY-MM")
    branch_id: str | None = Field(description="the branch shown; null: every branch")
    months: list[str]
    rows: list[TrendCell] = Field(description="every month x branch, months first")
    totals: list[TrendTotal] = Field(
        description="per month, every branch's and the fines of trainers not registered here yet"
    )


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def month_at(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def bad_range(field: str, message: str) -> Problem:
    return validation_failed(
        f"Invalid request: {field}: {message}",
        [{"field": field, "message": message, "type": "month_range"}],
    )


def months_asked(first: str | None, last: str | None, today: date) -> list[date]:
    """The months ``from`` to ``to``, both included; by default the twelve ending with ``to``
    (``to`` defaults to this month, ``from`` to eleven months before ``to``)."""
    end = month_index(month_of(last + "-01") if last else today.replace(day=1))
    start = month_index(month_of(first + "-01")) if first else max(end - 11, FIRST_MONTH)
    if start > end:
        raise bad_range("query.from", "the first month comes after the last (query.to)")
    if end - start + 1 > MAX_MONTHS:
        raise bad_range("query.to", f"at most {MAX_MONTHS} months at once")
    return [month_at(i) for i in range(start, end + 1)]


def _blank(month: date) -> JsonDict:
    return {"month": month_text(month), "graded": 0, "failed": 0, "fines": 0, "amount": Decimal(0)}


async def trend_cells(
    conn: Any, months: Sequence[date], branch: str | None
) -> tuple[dict[tuple[date, str], JsonDict], dict[date, JsonDict]]:
    """(cells by month and branch, totals by month): the counts, zeros where nothing happened."""
    first, last = months[0], months[-1]
    cells: dict[tuple[date, str], JsonDict] = {}
    totals = {month: _blank(month) for month in months}
    for row in await conn.fetch(_DECISIONS, first, last, branch):
        for column in ("graded", "failed"):
            totals[row["month"]][column] += row[column]
        if row["branch_id"]:
            cell = cells.setdefault((row["month"], row["branch_id"]), _blank(row["month"]))
            cell.update(graded=row["graded"], failed=row["failed"])
    for row in await conn.fetch(_FINES, first, last, branch):
        totals[row["month"]]["fines"] += row["fines"]
        totals[row["month"]]["amount"] += row["amount"]
        if row["branch_id"] is not None:
            cell = cells.setdefault((row["month"], row["branch_id"]), _blank(row["month"]))
            cell.update(fines=row["fines"], amount=row["amount"])
    return cells, totals


@router.get("/board/trends", response_model=Trends, response_model_by_alias=True)
async def trends(
    principal: TrendsReader,
    request: Request,
    now: Now,
    first: Annotated[MonthQuery, Query(alias="from")] = None,
    last: Annotated[MonthQuery, Query(alias="to")] = None,
    branch_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> JsonDict:
    """Per month (``from`` to ``to``, YYYY-MM, UTC months, at most 24; by default the twelve
    months ending with this one) and branch: trainees graded, assessments failed, trainer fines
    and their amount; every month of every branch shown, 0 where nothing happened. ``totals``
    per month also hold what no branch can be named for (a fined trainer not registered here
    yet). A branch clerk reads its own branch only."""
    branch = audiences.TRENDS.branch_of_list(principal, branch_id)
    months = months_asked(first, last, now.astimezone(UTC).date())
    pool = request.app.state.pool
    await directory.require_known_branch(pool, branch_id)
    cells, totals = await trend_cells(pool, months, branch)
    if branch is not None:
        branches = [branch]
    else:
        known = {row["branch_id"] for row in await pool.fetch(_BRANCHES)}
        branches = sorted(known | {b for _, b in cells})
    names = await directory.branch_names(pool, branches)
    rows = [
        {"branch_id": b, **cells.get((month, b), _blank(month))}
        for month in months
        for b in branches
    ]
    return {
        "from": month_text(months[0]),
        "to": month_text(months[-1]),
        "branch_id": branch,
        "months": [month_text(month) for month in months],
        "rows": [_shown(row) for row in directory.with_branch_names(rows, names)],
        "totals": [_shown(totals[month]) for month in months],
    }


def _shown(row: JsonDict) -> JsonDict:
    return {**row, "amount": money(row["amount"])}
