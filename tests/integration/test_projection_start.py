"""A projection's first build: its live tables exist, empty, from the start, so a read during the
build finds an empty board rather than failing on a missing table (a 500 before)."""

from __future__ import annotations

import asyncio

from shared.events import NewEvent
from shared.projections import Projection, ProjectionRunner

DDL = "CREATE TABLE seen (event_id uuid PRIMARY KEY)"


async def test_first_build_shows_empty_tables_then_swaps_the_full_ones_in(pg_pool, pg_store):
    await pg_store.append("a", [NewEvent(type="Paid", data={}) for _ in range(3)], 0)
    building, release = asyncio.Event(), asyncio.Event()

    async def slow_apply(conn, envelope) -> None:
        building.set()
        await release.wait()
        await conn.execute("INSERT INTO seen VALUES ($1)", envelope.event_id)

    runner = ProjectionRunner(pg_pool, "core", [Projection("slow", DDL, slow_apply)])
    prepared = asyncio.create_task(runner.prepare())
    async with asyncio.timeout(10):
        await building.wait()
    assert await pg_pool.fetchval("SELECT count(*) FROM proj_slow.seen") == 0  # not a 500
    release.set()
    await prepared
    assert await pg_pool.fetchval("SELECT count(*) FROM proj_slow.seen") == 3
    await runner.prepare()  # built now: nothing to redo
    assert await runner.lag() == {"slow": 0}
