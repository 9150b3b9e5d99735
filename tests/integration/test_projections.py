"""Projection runner: checkpointed application, rebuild and swap, verify, replay as of a moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.projections import Projection, ProjectionRunner, as_of, rebuild, verify
from tests.support import delivered

DDL = (
    "CREATE TABLE totals (stream_id text PRIMARY KEY, events int NOT NULL, amount numeric NOT NULL)"
)


async def apply_total(conn, envelope) -> None:
    await conn.execute(
        "INSERT INTO totals VALUES ($1, 1, $2) ON CONFLICT (stream_id)"
        " DO UPDATE SET events = totals.events + 1, amount = totals.amount + $2",
        envelope.stream_id,
        envelope.data["amount"],
    )


TOTALS = Projection("totals", DDL, apply_total)


def amount(value: str) -> NewEvent:
    return NewEvent(type="Paid", data={"amount": value})


async def live_rows(pool):
    return [tuple(r) for r in await pool.fetch("SELECT * FROM proj_totals.totals ORDER BY 1")]


async def test_runner_applies_each_event_once_and_checkpoints(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [TOTALS])
    await runner.prepare()
    await pg_store.append("a", [amount("1.10"), amount("2.25")], 0)
    await pg_store.append("b", [amount("5")], 0)
    await runner.catch_up()
    await runner.catch_up()  # nothing new: nothing applied twice
    assert [(s, n, str(a)) for s, n, a in await live_rows(pg_pool)] == [
        ("a", 2, "3.35"),
        ("b", 1, "5"),
    ]
    assert await runner.lag() == {"totals": 0}
    await pg_store.append("b", [amount("1")], 1)
    assert await runner.lag() == {"totals": 1}


async def test_two_runners_in_parallel_never_double_apply(pg_pool, pg_store):
    runners = [ProjectionRunner(pg_pool, "core", [TOTALS], batch_size=7) for _ in range(2)]
    await runners[0].prepare()
    for i in range(40):
        await pg_store.append(f"s{i % 4}", [amount("1")], ANY_VERSION)
    await asyncio.gather(*(r.catch_up() for r in runners))
    assert sum(n for _, n, _ in await live_rows(pg_pool)) == 40


async def test_rebuild_equals_live_and_swaps_in(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [TOTALS])
    await runner.prepare()
    for i in range(30):
        await pg_store.append(f"s{i % 3}", [amount(f"{i}.5")], ANY_VERSION)
    await runner.catch_up()
    before = await live_rows(pg_pool)
    assert await rebuild(pg_pool, "core", TOTALS) == 30
    assert await live_rows(pg_pool) == before
    assert await verify(pg_pool, "core", TOTALS) == []
    await pg_store.append("s0", [amount("1")], ANY_VERSION)
    await runner.catch_up()  # the swapped-in tables carry on from the rebuild's checkpoint
    assert dict((s, n) for s, n, _ in await live_rows(pg_pool))["s0"] == 11


async def test_verify_catches_a_tampered_read_model_row(pg_pool, pg_store):
    runner = ProjectionRunner(pg_pool, "core", [TOTALS])
    await runner.prepare()
    await pg_store.append("a", [amount("1"), amount("2")], 0)
    await runner.catch_up()
    await pg_pool.execute("UPDATE proj_totals.totals SET amount = 99 WHERE stream_id = 'a'")
    differences = await verify(pg_pool, "core", TOTALS)
    assert len(differences) == 2
    assert any("only in live" in d and "99" in d for d in differences)


async def test_version_change_rebuilds_at_start(pg_pool, pg_store):
    await ProjectionRunner(pg_pool, "core", [TOTALS]).prepare()
    await pg_store.append("a", [amount("1")], 0)
    await pg_pool.execute("INSERT INTO proj_totals.totals VALUES ('stale', 1, 1)")
    newer = Projection("totals", DDL, apply_total, version=2)
    await ProjectionRunner(pg_pool, "core", [newer]).prepare()
    assert [s for s, _, _ in await live_rows(pg_pool)] == ["a"]


async def test_as_of_replays_up_to_a_moment(pg_pool, pg_store):
    await pg_store.append("a", [amount("1")], 0)
    first = (await pg_store.read_stream("a"))[0].recorded_at
    await asyncio.sleep(0.05)
    await pg_store.append("a", [amount("2")], 1)
    async with as_of(pg_pool, "core", TOTALS, first) as schema:
        rows = await pg_pool.fetch(f"SELECT events, amount FROM {schema}.totals")
    assert [(r[0], str(r[1])) for r in rows] == [(1, "1")]
    async with as_of(pg_pool, "core", TOTALS, first - timedelta(seconds=1)) as schema:
        assert await pg_pool.fetch(f"SELECT * FROM {schema}.totals") == []
    leftover = await pg_pool.fetchval(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE '%asof%'"
    )
    assert leftover == 0


async def test_inbox_source_feeds_a_projection(pg_pool, pg_store):
    from shared.consumer import handle_once

    async def noop(conn, envelope):
        return None

    for n in range(3):
        upstream = delivered("upstream", "Paid", "up-1", {"amount": "2"}, n + 1)
        assert await handle_once(pg_pool, noop, upstream)
        assert not await handle_once(pg_pool, noop, upstream)  # duplicate: no second inbox row
    inbox_totals = Projection("inbox_totals", DDL, apply_total, sources=("inbox",))
    runner = ProjectionRunner(pg_pool, "core", [inbox_totals])
    await runner.prepare()
    await runner.catch_up()
    row = await pg_pool.fetchrow("SELECT events, amount FROM proj_inbox_totals.totals")
    assert (row[0], str(row[1])) == (3, "6")


async def test_a_typed_projection_reads_only_its_types_and_still_reaches_the_head(
    pg_pool, pg_store
):
    seen: list[str] = []

    async def apply_paid(conn, envelope) -> None:
        seen.append(envelope.type)
        await apply_total(conn, envelope)

    paid_only = Projection("paid", DDL, apply_paid, types=frozenset({"Paid"}))
    runner = ProjectionRunner(pg_pool, "core", [paid_only], batch_size=3)
    await runner.prepare()
    await pg_store.append("a", [amount("1"), NewEvent(type="Noise", data={}), amount("2")], 0)
    for i in range(7):
        await pg_store.append(f"n{i}", [NewEvent(type="Noise", data={})], 0)
    await runner.catch_up()
    assert seen == ["Paid", "Paid"]
    assert await runner.lag() == {"paid": 0}  # the checkpoint moved past the skipped noise
    assert await pg_pool.fetchval("SELECT amount FROM proj_paid.totals") == 3
    assert await rebuild(pg_pool, "core", paid_only, batch_size=2) == 2
    assert await verify(pg_pool, "core", paid_only) == []
