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


async def test_two_replicas_starting_on_a_new_version_rebuild_it_once(pg_pool, pg_store):
    """Both find the stored version stale; one rebuilds, the other waits and finds it done
    (they shared a scratch schema: the second's start crashed on it before)."""
    await pg_store.append("a", [NewEvent(type="Paid", data={}) for _ in range(3)], 0)
    applied: list[str] = []

    async def apply(conn, envelope) -> None:
        applied.append(str(envelope.event_id))
        await asyncio.sleep(0.05)  # a rebuild long enough for the other start to meet it
        await conn.execute("INSERT INTO seen VALUES ($1)", envelope.event_id)

    projection = Projection("twice", DDL, apply)
    runners = [ProjectionRunner(pg_pool, "core", [projection]) for _ in range(2)]
    await asyncio.gather(*(r.prepare() for r in runners))
    assert len(applied) == 3  # one rebuild, not two
    assert await pg_pool.fetchval("SELECT count(*) FROM proj_twice.seen") == 3
    assert (
        await pg_pool.fetchval("SELECT version FROM projection_versions WHERE name = 'twice'")
        == projection.version
    )
    assert (
        await pg_pool.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'proj_twice__new'"
        )
        == 0
    )
