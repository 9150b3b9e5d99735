"""The grade board at scale (issue 20), part of the assessment suite: the counts board, the
drill-down pages and the board as of past moments, each against raw SQL over plain tables of the
same rows measured in the same run, with the goals (p99 <= 20 ms for the counts and a page, <= 50
ms as of a past moment).

The history they read spans a year: after the consistency checks, the suite spreads the bulk
decisions' ``recorded_at`` evenly over the 365 days before the run (in store order), as a year of
operation records them, and only then builds the board (its daily closings come from those
days). Hash chains are not recomputed after that; nothing measured here checks them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.common import Row, Runs, comparison_row, log, percentile
from services.assessment.board_cells import cell_counts, cell_page
from services.assessment.projections import DECISIONS, GRADE_BOARD, PENDING
from shared.requests import encode_cursor

SUITE = "assessment"
GRADELINE = "Gradeline"
GOAL_NOW_MS = 20.0
GOAL_AS_OF_MS = 50.0
PAGE = 100  # the drill-down's default page size
SCHEMA = GRADE_BOARD.schema

SPREAD = """
UPDATE events SET recorded_at = $1::timestamptz + (position::float8 / $2) * interval '365 days'
WHERE position <= $2 AND type = ANY ($3::text[])
"""
PLAIN_COUNTS = (
    "SELECT branch_id, position, level, count(*)::integer AS count"
    " FROM plain_grades GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
PLAIN_PAGE_INDEX = (
    "CREATE INDEX plain_grades_cell ON plain_grades (branch_id, position, level, trainee_id)"
)
PLAIN_PAGE = (
    "SELECT trainee_id FROM plain_grades WHERE branch_id = $1 AND position = $2 AND level = $3"
    " AND trainee_id > $4 ORDER BY trainee_id LIMIT $5"
)
# The board as of a moment by brute force over a plain table of every decision (no index).
PLAIN_AS_OF_COUNTS = (
    "SELECT branch_id, position, level, count(*)::integer AS count FROM ("
    " SELECT DISTINCT ON (trainee_id) trainee_id, branch_id, position, level FROM plain_decisions"
    " WHERE recorded_at <= $1 ORDER BY trainee_id, seq DESC) latest"
    " WHERE position IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)

Call = Callable[[Any], Awaitable[object]]


async def spread_over_a_year(pool: asyncpg.Pool, bulk_head: int, end: datetime) -> datetime:
    """The bulk decisions (positions up to ``bulk_head``) recorded evenly over the year before
    ``end``, in store order; returns the year's start."""
    start = end - timedelta(days=366)
    started = time.perf_counter()
    done = await pool.execute(SPREAD, start, bulk_head, sorted(DECISIONS))
    elapsed = time.perf_counter() - started
    log(f"{SUITE}: {done.split()[-1]} decisions spread over a year in {elapsed:.1f} s")
    return start


def ignoring_argument(call: Callable[[], Awaitable[object]]) -> Call:
    async def called(_: Any) -> object:
        return await call()

    return called


async def timed(sides: Mapping[str, Call], args: Sequence[Any], warmup: int = 3) -> Runs:
    """Milliseconds of each side's call per argument, the sides taking turns argument by
    argument (every side answers the same question in a round)."""
    for arg in args[:warmup]:
        for call in sides.values():
            await call(arg)
    found: Runs = {name: [] for name in sides}
    for arg in args:
        for name, call in sides.items():
            started = time.perf_counter()
            await call(arg)
            found[name].append((time.perf_counter() - started) * 1000)
    return found


def rows_of(
    workload: str,
    runs: Runs,
    side: str,
    baseline: tuple[str, str],
    note: str,
    goal_ms: float | None,
) -> list[Row]:
    """p50 and p99 of ``side`` against the baseline side ``(label, key)``; the goal on p99."""
    label, key = baseline
    return [
        comparison_row(
            SUITE,
            f"{workload}, p{pct}",
            (GRADELINE, [percentile(runs[side], pct)]),
            (label, [percentile(runs[key], pct)]),
            unit="ms",
            higher_is_better=False,
            min_value=goal_ms if pct == 99 else None,
            note=note,
        )
        for pct in (50, 99)
    ]


async def counts_phase(
    pool: asyncpg.Pool, client: httpx.AsyncClient, headers: dict[str, str], reps: int, graded: int
) -> list[Row]:
    """The board's counts now: the count table, and the whole route (counts and links)."""
    log(f"{SUITE}: counts board over {graded:,} graded trainees, {reps} reads a side")

    async def counts(_: object) -> object:
        return await cell_counts(pool, SCHEMA, None, None, PENDING)

    async def route(_: object) -> object:
        answer = await client.get("/board/grades", headers=headers)
        answer.raise_for_status()
        return answer.content

    async def plain(_: object) -> object:
        return [dict(row) for row in await pool.fetch(PLAIN_COUNTS)]

    if await counts(None) != await plain(None):
        raise RuntimeError(f"{SUITE}: the counts board differs from the plain GROUP BY")
    runs = await timed({GRADELINE: counts, "route": route, "raw": plain}, [None] * reps)
    note = (
        f"{graded:,} graded trainees over 5 branches: counts by branch x position x level "
        "without the trainee ids. Gradeline: `board_cells.cell_counts` (the projection's "
        "`grade_cells`, kept in the same transaction as the board rows); the route: `GET "
        "/board/grades` in process (ids not inline above GRADELINE_BOARD_INLINE_TRAINEES, a "
        "drill-down link per cell, branch names); baseline: `count(*) GROUP BY` over a plain "
        f"table (branch, position, level, trainee_id) of the same rows, no index; {reps} reads a "
        f"side, in turn. Goal: p99 <= {GOAL_NOW_MS:.0f} ms (issue 20)."
    )
    baseline = ("raw count GROUP BY, plain 4-column table", "raw")
    return [
        *rows_of("e) counts board (`cell_counts`)", runs, GRADELINE, baseline, note, GOAL_NOW_MS),
        *rows_of(
            "e) GET /board/grades counts in process", runs, "route", baseline, note, GOAL_NOW_MS
        ),
    ]


async def page_phase(
    pool: asyncpg.Pool,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    reps: int,
    moment: datetime,
) -> list[Row]:
    """Drill-down pages of 100 at random places in random cells, now and as of ``moment``."""
    await pool.execute(PLAIN_PAGE_INDEX)
    await pool.execute("ANALYZE plain_grades")
    starts = await pool.fetch(
        f"SELECT branch_id, position, level, trainee_id FROM {SCHEMA}.grades"
        " WHERE position IS NOT NULL ORDER BY random() LIMIT $1",
        reps,
    )
    places = [((r[0], r[1], r[2]), r[3]) for r in starts]
    log(f"{SUITE}: drill-down pages of {PAGE}, {reps} pages a side")

    async def page(place: Any) -> object:
        return await cell_page(pool, SCHEMA, place[0], place[1], PAGE + 1, None, PENDING)

    async def page_as_of(place: Any) -> object:
        return await cell_page(pool, SCHEMA, place[0], place[1], PAGE + 1, moment, PENDING)

    async def route(place: Any) -> object:
        (branch, position, level), after = place
        answer = await client.get(
            f"/board/grades/{branch}/{position}/{level}",
            params={"cursor": encode_cursor(after)},
            headers=headers,
        )
        answer.raise_for_status()
        return answer.content

    async def plain(place: Any) -> object:
        return [r[0] for r in await pool.fetch(PLAIN_PAGE, *place[0], place[1], PAGE + 1)]

    for place in places[:5]:
        if await page(place) != await plain(place):
            raise RuntimeError(f"{SUITE}: a drill-down page differs from the plain keyset page")
    sides = {GRADELINE: page, "route": route, "as of": page_as_of, "raw": plain}
    runs = await timed(sides, places)
    note = (
        f"A page of {PAGE} trainee ids of one cell after a cursor, at {reps} random places in "
        "random cells (a cell holds 1,000 to 9,000 trainees). Gradeline: "
        "`board_cells.cell_page` (keyset on the board's `(branch_id, position, level, "
        "trainee_id)` index); the route: `GET /board/grades/{branch}/{position}/{level}"
        "?cursor=` in process; as of: the same page as of the half-way moment (the history's "
        "cell index, each candidate's later decisions looked up); baseline: the same keyset "
        "query on a plain 4-column table with the same index. "
        f"Goal: p99 <= {GOAL_NOW_MS:.0f} ms a page (issue 20)."
    )
    baseline = ("raw keyset page, plain indexed table", "raw")
    return [
        *rows_of("f) drill-down page (`cell_page`)", runs, GRADELINE, baseline, note, GOAL_NOW_MS),
        *rows_of(
            "f) GET /board/grades/{cell} page in process",
            runs,
            "route",
            baseline,
            note,
            GOAL_NOW_MS,
        ),
        *rows_of(
            "f) drill-down page as of a past moment", runs, "as of", baseline, note, GOAL_NOW_MS
        ),
    ]


async def as_of_counts_phase(
    pool: asyncpg.Pool,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    reps: int,
    year: tuple[datetime, datetime],
) -> list[Row]:
    """The counts as of random moments of the year, checked against brute force first at
    moments that matter (a closing, just before one, before any decision, the end)."""
    start, end = year
    closings = [
        r[0]
        for r in await pool.fetch(f"SELECT closed_at FROM {SCHEMA}.grade_closing_days ORDER BY 1")
    ]
    log(f"{SUITE}: counts as of past moments ({len(closings)} daily closings), {reps} reads a side")

    async def counts(moment: Any) -> object:
        return await cell_counts(pool, SCHEMA, None, moment, PENDING)

    async def route(moment: Any) -> object:
        params = {"as_of": moment.isoformat()}
        answer = await client.get("/board/grades", params=params, headers=headers)
        answer.raise_for_status()
        return answer.content

    async def plain(moment: Any) -> object:
        return [dict(row) for row in await pool.fetch(PLAIN_AS_OF_COUNTS, moment)]

    middle = closings[len(closings) // 2]
    checked = [start, middle, middle - timedelta(microseconds=1), end, closings[-1]]
    for moment in checked:
        if await counts(moment) != await plain(moment):
            raise RuntimeError(f"{SUITE}: the counts as of {moment} differ from brute force")
    rng = random.Random(20)
    span = (end - start).total_seconds()
    moments = [start + timedelta(seconds=rng.uniform(0, span)) for _ in range(reps)]
    runs = await timed({GRADELINE: counts, "route": route, "raw": plain}, moments)
    note = (
        f"The counts as of {reps} random moments of the year the decisions span, the same "
        "moment for every side in a round. Gradeline: `board_cells.cell_counts` with `as_of` "
        f"(the last of the projection's {len(closings)} daily closings before the moment, "
        "corrected by the decisions recorded since it and any not applied yet); the route: `GET "
        "/board/grades?as_of=` in process; baseline: each trainee's latest decision by then "
        "(`DISTINCT ON`) counted over a plain table of the decisions, no index. Before timing, "
        "the answers equal the baseline's at the year's start, a closing, the microsecond "
        f"before it, the last closing and the end. Goal: p99 <= {GOAL_AS_OF_MS:.0f} ms (issue 20)."
    )
    baseline = ("raw DISTINCT ON count, plain decisions table", "raw")
    return [
        *rows_of(
            "g) counts as of a past moment (`cell_counts`)",
            runs,
            GRADELINE,
            baseline,
            note,
            GOAL_AS_OF_MS,
        ),
        *rows_of(
            "g) GET /board/grades?as_of= counts in process",
            runs,
            "route",
            baseline,
            note,
            GOAL_AS_OF_MS,
        ),
    ]
