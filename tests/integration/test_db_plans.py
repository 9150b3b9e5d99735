"""Connections plan each statement when it runs (shared.db.SERVER_SETTINGS).

A cached generic plan, made while a table was empty, would otherwise be kept as the table grows
where no ANALYZE invalidates it (autovacuum off or behind): a sequential scan per append.
"""

from __future__ import annotations

from shared import db


async def test_pool_and_dedicated_connections_plan_each_statement_afresh(pg_pool, service_db):
    assert await pg_pool.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    conn = await db.connect(service_db)
    try:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    finally:
        await conn.close()


async def test_a_caller_may_add_server_settings_without_losing_the_plan_mode(service_db):
    pool = await db.create_pool(service_db, size=1, server_settings={"application_name": "t"})
    try:
        assert await pool.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        assert await pool.fetchval("SHOW application_name") == "t"
    finally:
        await pool.close()


async def plan_after_growth(conn) -> str:
    """EXPLAIN of a batched lookup (the shape of the Idempotency-Key lookup) run ten times while
    its table was empty, once the table holds 20,000 rows (no ANALYZE in between)."""
    await conn.execute(
        "PREPARE look (text[], text[]) AS SELECT i.o, h.request_hash"
        " FROM unnest($1, $2) WITH ORDINALITY AS i(s, k, o)"
        " JOIN http_idempotency h ON h.scope = i.s AND h.key = i.k"
    )
    probe = "EXECUTE look (ARRAY['scope-7'], ARRAY['key-7'])"
    for _ in range(10):
        await conn.execute(probe)
    await conn.execute(
        "INSERT INTO http_idempotency (scope, key, request_hash, status, body, headers)"
        " SELECT 'scope-' || g, 'key-' || g, 'h', 200, ''::bytea, '[]'::jsonb"
        " FROM generate_series(1, 20000) g"
    )
    rows = await conn.fetch(f"EXPLAIN {probe}")
    await conn.execute("DEALLOCATE look")
    return "\n".join(r[0] for r in rows)


async def test_a_lookup_prepared_on_an_empty_table_uses_the_index_once_it_has_grown(pg_pool):
    async with pg_pool.acquire() as conn, conn.transaction():
        plan = await plan_after_growth(conn)
    assert "Index" in plan and "Seq Scan" not in plan, plan


async def test_without_the_setting_the_empty_table_plan_is_kept(pg_pool):
    """The trap the setting avoids, shown on the same server (fails if PostgreSQL stops keeping
    such plans, and then the setting can go)."""
    async with pg_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = auto")
        plan = await plan_after_growth(conn)
    assert "Seq Scan" in plan, plan
