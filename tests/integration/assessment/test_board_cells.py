"""The grade board's counts and daily closings (``board_cells.py``) answer what a full replay of
the history answers (``shared.projections.as_of``), now and as of any moment: before any
decision, on a closing (00:00 UTC of a day holding decisions) and the microsecond before, within
a day, with decisions the projection has not applied yet, and with a decision recorded before a
closing already taken (its transaction began before midnight, committed after).

The decisions are appended through the real store; their ``recorded_at`` is then set to the
moment each scenario needs (the store stamps the transaction's start, which a test cannot
choose). Nothing here reads the hash chains that this leaves stale.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.assessment.board_cells import cell_counts, cell_page
from services.assessment.projections import GRADE_BOARD, PENDING, grade_rows
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.projections import ProjectionRunner, as_of, verify

DAY = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)
SCHEMA = GRADE_BOARD.schema


async def decide(pool, store, trainee, level, at, branch="dl-north"):
    """A grade decision (``level`` None: failed) recorded at ``at``."""
    graded = {"position": "engineer", "level": level, "grade_score": "95.5"} if level else {}
    data = {"trainee_id": trainee, "session_id": "s-1", **graded}
    type_ = "GradeAssigned" if level else "AssessmentFailed"
    await store.append(
        f"sit-{trainee}", [NewEvent(type=type_, data=data, branch_id=branch)], ANY_VERSION
    )
    await pool.execute(
        "UPDATE events SET recorded_at = $1 WHERE position = (SELECT max(position) FROM events)",
        at,
    )


async def replayed(pool, moment):
    """The board with its trainee ids, replayed from the history up to ``moment``."""
    async with as_of(pool, "core", GRADE_BOARD, moment) as scratch:
        rows = await grade_rows(pool, scratch, None)
    return [(r["branch_id"], r["position"], r["level"], r["trainee_ids"]) for r in rows]


async def paged(pool, cell, moment, size=2):
    """Every trainee of a cell, walking its drill-down pages."""
    found, after = [], ""
    while page := await cell_page(pool, SCHEMA, cell, after, size, moment, PENDING):
        found += page
        after = page[-1]
    return found


async def assert_as_replayed(pool, moment):
    expected = await replayed(pool, moment)
    counts = await cell_counts(pool, SCHEMA, None, moment, PENDING)
    shown = [(r["branch_id"], r["position"], r["level"], r["count"]) for r in counts]
    assert shown == [(b, p, lv, len(ids)) for b, p, lv, ids in expected], moment
    for branch, position, level, ids in expected:
        assert await paged(pool, (branch, position, level), moment) == ids, (moment, level)
    south = await cell_counts(pool, SCHEMA, "dl-south", moment, PENDING)
    assert [r["count"] for r in south] == [len(e[3]) for e in expected if e[0] == "dl-south"]
    return expected


async def story(pool, store):
    """Four days of decisions, one of them a correction on a closing's very first microsecond."""
    await decide(pool, store, "t1", "junior", DAY + 9 * HOUR)
    await decide(pool, store, "t2", "junior", DAY + 9 * HOUR, "dl-south")
    await decide(pool, store, "t3", "intermediate", DAY + 10 * HOUR)
    await decide(pool, store, "t4", "senior", DAY + 24 * HOUR - TICK)
    await decide(pool, store, "t1", "senior", DAY + 24 * HOUR)  # on day 2's closing
    await decide(pool, store, "t2", None, DAY + 34 * HOUR, "dl-south")  # failed: off the board
    await decide(pool, store, "t5", "junior", DAY + 35 * HOUR, "dl-south")
    await decide(pool, store, "t3", "senior", DAY + 80 * HOUR)
    await decide(pool, store, "t6", "junior", DAY + 81 * HOUR)


MOMENTS = [
    DAY - HOUR,  # before any decision
    DAY,  # day 1's closing: nothing decided yet
    DAY + 9 * HOUR,
    DAY + 9 * HOUR + TICK,
    DAY + 24 * HOUR - TICK,  # just before day 2's closing
    DAY + 24 * HOUR,  # on it: its first decision counts
    DAY + 40 * HOUR,
    DAY + 72 * HOUR,  # day 4's closing
    DAY + 80 * HOUR,
    DAY + 400 * HOUR,  # after everything
]


async def test_counts_and_pages_as_of_any_moment_equal_a_full_replay(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [GRADE_BOARD], batch_size=2)
    await runner.prepare()
    await story(pg_pool, pg_store)
    await runner.catch_up()
    closings = await pg_pool.fetch(f"SELECT closed_at FROM {SCHEMA}.grade_closing_days")
    assert sorted(r[0] for r in closings) == [DAY, DAY + 24 * HOUR, DAY + 72 * HOUR]
    for moment in MOMENTS:
        await assert_as_replayed(pg_pool, moment)
    assert await replayed(pg_pool, DAY + 40 * HOUR) == [
        ("dl-north", "engineer", "intermediate", ["t3"]),
        ("dl-north", "engineer", "senior", ["t1", "t4"]),
        ("dl-south", "engineer", "junior", ["t5"]),
    ]
    now = await cell_counts(pg_pool, SCHEMA, None, None, PENDING)
    whole = await grade_rows(pg_pool, SCHEMA, None)
    assert now == [{k: r[k] for k in ("branch_id", "position", "level", "count")} for r in whole]
    assert await verify(pg_pool, "core", GRADE_BOARD) == []  # batches of 2 == one rebuild


async def test_decisions_not_applied_yet_count_as_of_their_moment(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [GRADE_BOARD], batch_size=2)
    await runner.prepare()
    await story(pg_pool, pg_store)
    await runner.catch_up()
    await decide(pg_pool, pg_store, "t6", None, DAY + 82 * HOUR)  # failed after all
    await decide(pg_pool, pg_store, "t7", "senior", DAY + 83 * HOUR, "dl-south")
    await decide(pg_pool, pg_store, "t8", "junior", DAY + 150 * HOUR)  # a day with no closing
    assert await runner.lag() == {"grade_board": 3}
    late = [*MOMENTS, DAY + 82 * HOUR, DAY + 149 * HOUR, DAY + 150 * HOUR]
    for moment in late:
        await assert_as_replayed(pg_pool, moment)
    await runner.catch_up()
    for moment in late:
        await assert_as_replayed(pg_pool, moment)
    assert await verify(pg_pool, "core", GRADE_BOARD) == []


async def test_a_decision_recorded_before_a_closing_already_taken_corrects_it(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [GRADE_BOARD], batch_size=3)
    await runner.prepare()
    await story(pg_pool, pg_store)
    await runner.catch_up()
    # Stored after day 4's decisions, recorded on day 2 and on the day before the first.
    await decide(pg_pool, pg_store, "t9", "intermediate", DAY + 30 * HOUR, "dl-south")
    await decide(pg_pool, pg_store, "t4", "junior", DAY + 26 * HOUR)
    await decide(pg_pool, pg_store, "t10", "senior", DAY - 20 * HOUR)
    await runner.catch_up()
    days = await pg_pool.fetch(f"SELECT closed_at FROM {SCHEMA}.grade_closing_days ORDER BY 1")
    assert [r[0] for r in days] == [DAY - 24 * HOUR, DAY, DAY + 24 * HOUR, DAY + 72 * HOUR]
    for moment in [*MOMENTS, DAY - 20 * HOUR, DAY + 26 * HOUR, DAY + 30 * HOUR - TICK]:
        await assert_as_replayed(pg_pool, moment)
    assert await verify(pg_pool, "core", GRADE_BOARD) == []
