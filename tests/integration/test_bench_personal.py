"""The personal-data benchmark (``python -m bench personal``, bench/personal_bench.py) at a tiny
size against the real PostgreSQL: issue 19's "a benchmark shows what encryption costs on append
and replay against the same path without it, measured in the same run". What is checked is the
report's shape and that both sides did their work, never the timing."""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg

from bench import personal_bench
from bench.__main__ import SUITES
from bench.common import BenchConfig, fresh_database, markdown_section
from shared import db
from shared.eventstore import PostgresEventStore
from shared.keystore import MIGRATIONS as KEY_MIGRATIONS
from shared.keystore import PostgresKeyStore
from shared.personal import PersonalData, is_token
from shared.settings import Settings


async def bench_databases(pg_dsn: str) -> set[str]:
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'bench_%'")
        return {r[0] for r in rows}
    finally:
        await conn.close()


async def test_the_suite_reports_append_and_both_reads_against_the_clear_path(
    settings: Settings,
) -> None:
    before = await bench_databases(settings.pg_dsn)

    rows = await personal_bench.run(BenchConfig(settings.pg_dsn, settings.amqp_url, scale=0.01))

    assert [row.workload for row in rows] == [
        "append 1 event, 16 writers, a new person each",
        "append 1 event, 16 writers, known people",
        "read_all, pages of 1,000, sealed rows not revealed",
        "read_all, pages of 1,000, revealing, cold key cache",
        "read_all, pages of 1,000, revealing, warm key cache",
        "read_all of histories (1 event in 20 personal), revealing, cold key cache",
        "read_all of histories (1 event in 20 personal), revealing, warm key cache",
    ]
    # The goal, set on the ratio to the same-run baseline; the unrevealed read only
    # explains the others.
    assert [row.goal for row in rows] == [0.85, 0.85, None, 0.85, 0.85, 0.85, 0.85]
    for row in rows:
        assert (row.suite, row.system, row.unit) == ("personal", "sealed", "ev/s")
        assert row.baseline == "clear, personal=None"
        assert row.value > 0 and row.baseline_value > 0
        assert [len(side) for side in row.runs] == [personal_bench.REPS, personal_bench.REPS]
        assert row.note
    # The suite is registered under its docs marker, and its section renders every row.
    assert SUITES["personal"][0] == "Personal data: sealing and revealing"
    section = markdown_section("Personal data", rows, (0.0, 0.0))
    assert all(f"| {row.workload} |" in section for row in rows)
    # Its databases (sealed events, clear events, keys) are dropped at the end.
    assert await bench_databases(settings.pg_dsn) == before


async def test_sealed_appends_hold_tokens_and_read_back_as_written(settings: Settings) -> None:
    """The sealed side does the work it is timed for: tokens in the table, values on read."""
    async with AsyncExitStack() as stack:
        dsns = [
            await stack.enter_async_context(fresh_database(settings.pg_dsn, n))
            for n in ("events", "keys")
        ]
        pool = await personal_bench.migrated_pool(stack, dsns[0], db.CORE_MIGRATIONS)
        keys = await personal_bench.migrated_pool(stack, dsns[1], KEY_MIGRATIONS)
        personal = PersonalData(PostgresKeyStore(keys), personal_bench.FIELDS)
        store = PostgresEventStore(pool, "personal", personal=personal)

        appended = await personal_bench.append_people(store, personal_bench.People("t"), 32)

        assert appended == 32
        stored = await pool.fetch("SELECT data FROM events ORDER BY position")
        assert len(stored) == 32
        assert all(is_token(r[0][f]) for r in stored for f in ("name", "certificates", "comment"))
        assert len({r[0]["trainee_id"] for r in stored}) == 32  # a new person each
        assert await keys.fetchval("SELECT count(*) FROM personal_keys") == 32
        known = personal_bench.People("k", known=4)
        assert await personal_bench.append_people(store, known, 32) == 32
        assert await keys.fetchval("SELECT count(*) FROM personal_keys") == 36  # 4 more only
        assert await pool.fetchval("SELECT count(DISTINCT stream_id) FROM events") == 64
        read = await store.read_all(0, 100)
        assert {e.data["name"] for e in read} == {"欧阳晓明"}
        assert read[0].data["certificates"] == ["低压电工作业证", "汽车维修工（中级）"]
