"""Statements whose plans stay right as their tables grow without an ANALYZE.

PostgreSQL keeps, per connection, a generic plan of a prepared statement (and of each statement
of a PL/pgSQL function) after its fifth run. Made while a table was empty, such a plan may be a
sequential scan, and it is kept while the table grows wherever no ANALYZE invalidates it:
autovacuum off (as on the CI machine) or behind. These tests build exactly that history.
"""

from __future__ import annotations

import asyncpg

from shared import db
from shared.events import NewEvent
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.idempotency import _LOAD_SQL

# The Idempotency-Key lookup before it probed key by key: a join the planner hashes.
JOINED_LOOKUP = (
    "SELECT i.o, h.request_hash FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS"
    " i(scope, key, o) JOIN http_idempotency h ON h.scope = i.scope AND h.key = i.key"
)


async def lookup_plan_after_growth(conn: asyncpg.Connection, sql: str) -> str:
    """EXPLAIN of ``sql`` run ten times while http_idempotency was empty, once it holds 20,000
    rows (no ANALYZE in between). PostgreSQL's own plan choice (``auto``), not the connections'
    guard: the statement itself must be safe to cache."""
    await conn.execute("SET LOCAL plan_cache_mode = auto")
    await conn.execute(f"PREPARE look (text[], text[]) AS {sql}")
    probe = "EXECUTE look (ARRAY['scope-7'], ARRAY['key-7'])"
    for _ in range(10):
        await conn.execute(probe)
    await conn.execute(
        "INSERT INTO http_idempotency (scope, key, request_hash, status, body, headers)"
        " SELECT 'scope-' || g, 'key-' || g, 'h', 200, ''::bytea, '[]'::jsonb"
        " FROM generate_series(1, 20000) g"
    )
    rows = await conn.fetch(f"EXPLAIN {probe}")
    return "\n".join(r[0] for r in rows)


async def test_the_idempotency_lookup_stays_a_key_probe_as_its_table_grows(pg_pool):
    async with pg_pool.acquire() as conn, conn.transaction():
        plan = await lookup_plan_after_growth(conn, _LOAD_SQL)
    assert "Index Scan using http_idempotency_pkey" in plan and "Seq Scan" not in plan, plan


async def test_the_joined_lookup_it_replaced_kept_its_empty_table_scan(pg_pool):
    """The trap itself, on the same server: fails if PostgreSQL stops keeping such plans."""
    async with pg_pool.acquire() as conn, conn.transaction():
        plan = await lookup_plan_after_growth(conn, JOINED_LOOKUP)
    assert "Seq Scan on http_idempotency" in plan, plan


async def sequential_scans(conn: asyncpg.Connection, table: str) -> int:
    await conn.execute("SELECT pg_stat_force_next_flush()")
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(
        await conn.fetchval("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = $1", table)
    )


async def test_keyed_appends_do_not_scan_the_key_table_after_it_has_grown(service_db):
    """One connection (so the group commit's cached plans are the ones examined): ten keyed
    appends on an empty store, 20,000 keys stored behind its back, then five more appends."""
    pool = await db.create_pool(service_db, size=1)
    try:
        await db.migrate(pool, [db.CORE_MIGRATIONS])
        store = PostgresEventStore(pool, "core")
        for n in range(10):
            await store.append(f"s-{n}", [NewEvent("T", {})], NO_STREAM, idempotency_key=f"k-{n}")
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO idempotency_keys (key, stream_id, first_version, last_version,"
                " first_position, last_position)"
                " SELECT 'old-' || g, 'old-' || g, 1, 1, g, g FROM generate_series(1, 20000) g"
            )
            before = await sequential_scans(conn, "idempotency_keys")
        for n in range(10, 15):
            await store.append(f"s-{n}", [NewEvent("T", {})], NO_STREAM, idempotency_key=f"k-{n}")
        async with pool.acquire() as conn:
            assert await sequential_scans(conn, "idempotency_keys") == before
    finally:
        await pool.close()


async def test_connections_plan_each_statement_when_it_runs(pg_pool, service_db):
    """The general guard (shared.db.SERVER_SETTINGS): pools, dedicated connections, and a
    caller's own server settings added beside it."""
    assert await pg_pool.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    conn = await db.connect(service_db)
    try:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    finally:
        await conn.close()
    pool = await db.create_pool(service_db, size=1, server_settings={"application_name": "t"})
    try:
        assert await pool.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        assert await pool.fetchval("SHOW application_name") == "t"
    finally:
        await pool.close()
    baseline = await db.create_pool(service_db, size=1, server_settings=db.POSTGRES_DEFAULT_PLANS)
    try:  # what the benchmarks' raw baselines ask for
        assert await baseline.fetchval("SHOW plan_cache_mode") == "auto"
    finally:
        await baseline.close()


async def test_the_group_commit_function_keeps_its_cached_plans(pg_pool):
    config = await pg_pool.fetchval(
        "SELECT proconfig FROM pg_proc WHERE proname = 'gl_append_grouped'"
    )
    assert config == ["plan_cache_mode=auto"]
