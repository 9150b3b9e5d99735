"""Relay to consumers over the real broker: exactly-once effects, per-stream order, no loss
across a relay restart or a broker-side close of every connection, dead letters and re-drive."""

from __future__ import annotations

import asyncio
import random
import subprocess

import pytest

from shared.consumer import Consumer, dlq_depth, queue_depths, redrive
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.relay import Relay

EFFECTS_DDL = """
CREATE TABLE IF NOT EXISTS effects (event_id uuid, stream_id text, version int,
                                    applied_at timestamptz DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS order_violations (stream_id text, version int, seen_before int);
"""


async def record_effect(conn, envelope) -> None:
    """The test's effect: one row per handled event, and any out-of-order arrival noted."""
    last = await conn.fetchval(
        "SELECT coalesce(max(version), 0) FROM effects WHERE stream_id = $1", envelope.stream_id
    )
    if last != envelope.version - 1:
        await conn.execute(
            "INSERT INTO order_violations VALUES ($1, $2, $3)",
            envelope.stream_id,
            envelope.version,
            last,
        )
    await conn.execute(
        "INSERT INTO effects (event_id, stream_id, version) VALUES ($1, $2, $3)",
        envelope.event_id,
        envelope.stream_id,
        envelope.version,
    )


@pytest.fixture
async def bus(settings, service_db, pg_pool, pg_store, amqp):
    """A producing service 'core' with its relay, and a consuming service's replicas."""
    await pg_pool.execute(EFFECTS_DDL)
    tasks: list[asyncio.Task] = []
    consumers: list[Consumer] = []

    def start_relay() -> asyncio.Task:
        task = asyncio.create_task(Relay(settings, "core", service_db).run())
        tasks.append(task)
        return task

    async def start_consumers(n: int, handler=record_effect, **options) -> list[Consumer]:
        new = [
            Consumer(settings, "sink", pg_pool, handler, ["core.#"], retry_delay=0.01, **options)
            for _ in range(n)
        ]
        consumers.extend(new)
        tasks.extend(asyncio.create_task(c.run()) for c in new)
        await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in new)), 30)
        return new

    yield start_relay, start_consumers
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def append_many(store, count: int, streams: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    names = [f"trainee-{i}" for i in range(streams)]

    async def writer(share: int) -> None:
        for n in range(share):
            await store.append(
                rng.choice(names), [NewEvent(type="Thing", data={"n": n})], ANY_VERSION
            )

    await asyncio.gather(*(writer(count // 8) for _ in range(8)))


async def wait_for_effects(pool, count: int, timeout: float = 120) -> int:
    async with asyncio.timeout(timeout):
        while await pool.fetchval("SELECT count(*) FROM effects") < count:
            await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # let any straggling duplicate show itself
    return int(await pool.fetchval("SELECT count(*) FROM effects"))


async def assert_exactly_once_in_order(pool, store) -> None:
    duplicates = await pool.fetchval(
        "SELECT count(*) FROM (SELECT event_id FROM effects GROUP BY 1 HAVING count(*) > 1) d"
    )
    assert duplicates == 0
    assert await pool.fetchval("SELECT count(*) FROM order_violations") == 0
    missing = await pool.fetchval(
        "SELECT count(*) FROM events e WHERE NOT EXISTS"
        " (SELECT 1 FROM effects f WHERE f.event_id = e.event_id)"
    )
    assert missing == 0
    assert await pool.fetchval("SELECT count(*) FROM inbox") == await store.head_position()


async def test_10000_events_three_replicas_each_effect_once_in_stream_order(bus, pg_pool, pg_store):
    start_relay, start_consumers = bus
    replicas = await start_consumers(3)
    start_relay()
    await append_many(pg_store, 10_000, streams=300)
    assert await wait_for_effects(pg_pool, 10_000) == 10_000
    await assert_exactly_once_in_order(pg_pool, pg_store)
    assert sum(c.handled for c in replicas) == 10_000


async def test_on_committed_hears_of_each_event_once_its_effect_is_visible(bus, pg_pool, pg_store):
    """The hook the delay metric and the latency benchmark use: called after the commit."""
    start_relay, start_consumers = bus
    told: list = []
    checks: list[asyncio.Task] = []

    async def visible(ids: list) -> int:
        return await pg_pool.fetchval(
            "SELECT count(*) FROM effects WHERE event_id = ANY($1::uuid[])", ids
        )

    def on_committed(envelopes) -> None:
        ids = [e.event_id for e in envelopes]
        told.extend(ids)
        checks.append(asyncio.create_task(visible(ids)))  # read on another connection

    await start_consumers(2, on_committed=on_committed)
    start_relay()
    await append_many(pg_store, 1_000, streams=50, seed=3)
    assert await wait_for_effects(pg_pool, 1_000) == 1_000
    async with asyncio.timeout(10):
        while len(told) < 1_000:
            await asyncio.sleep(0.01)
    events = await pg_pool.fetch("SELECT event_id FROM events")
    assert sorted(told) == sorted(r["event_id"] for r in events)  # each once
    counts = await asyncio.gather(*checks)
    assert sum(counts) == 1_000  # every told event's effect was already committed


async def test_one_consumer_batches_across_its_partitions_and_acks_every_one(
    bus, settings, pg_pool, pg_store
):
    """One applier takes all of a process's partitions: batches mix partitions, and each
    partition's deliveries are acked, so a consumer started afterwards gets nothing again."""
    start_relay, _ = bus
    batches: list[list] = []
    first = Consumer(
        settings,
        "sink",
        pg_pool,
        record_effect,
        ["core.#"],
        on_committed=lambda envelopes: batches.append(list(envelopes)),
    )
    running = asyncio.create_task(first.run())
    await asyncio.wait_for(first.ready.wait(), 30)
    await append_many(pg_store, 3_000, streams=200, seed=4)  # before the relay: a backlog
    start_relay()
    assert await wait_for_effects(pg_pool, 3_000) == 3_000
    await assert_exactly_once_in_order(pg_pool, pg_store)
    assert settings.consumer_partitions == 4
    # 200 streams hash to four partitions, ~50 each: a batch of one partition's deliveries
    # holds at most ~57 streams; a batch of 100 from all four, ~79 on average.
    assert max(len({e.stream_id for e in b}) for b in batches) > 65
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)  # unacked deliveries would requeue
    async with asyncio.timeout(10):
        while any((await queue_depths(settings, "sink")).values()):
            await asyncio.sleep(0.1)
    second = Consumer(settings, "sink", pg_pool, record_effect, ["core.#"])
    again = asyncio.create_task(second.run())
    await asyncio.wait_for(second.ready.wait(), 30)
    await asyncio.sleep(1.0)
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)
    assert (second.handled, second.duplicates) == (0, 0)


async def test_relay_cancelled_mid_way_and_restarted_loses_nothing(bus, pg_pool, pg_store):
    start_relay, start_consumers = bus
    await start_consumers(2)
    relay = start_relay()
    writing = asyncio.create_task(append_many(pg_store, 4_000, streams=100, seed=2))
    await asyncio.sleep(0.5)
    relay.cancel()
    await asyncio.gather(relay, return_exceptions=True)
    await writing
    assert await pg_pool.fetchval("SELECT count(*) FROM effects") < 4_000
    start_relay()
    assert await wait_for_effects(pg_pool, 4_000) == 4_000
    await assert_exactly_once_in_order(pg_pool, pg_store)


@pytest.mark.serial
async def test_broker_closing_every_connection_mid_stream_loses_and_duplicates_nothing(
    bus, pg_pool, pg_store
):
    start_relay, start_consumers = bus
    await start_consumers(3)
    start_relay()
    writing = asyncio.create_task(append_many(pg_store, 6_000, streams=200, seed=3))
    async with asyncio.timeout(60):
        while await pg_pool.fetchval("SELECT count(*) FROM effects") < 500:
            await asyncio.sleep(0.05)
    closed = await asyncio.to_thread(
        subprocess.run,
        ["rabbitmqctl", "close_all_connections", "test: mid-stream"],
        capture_output=True,
        text=True,
    )
    assert closed.returncode == 0, closed.stderr
    await writing
    assert await wait_for_effects(pg_pool, 6_000) == 6_000
    await assert_exactly_once_in_order(pg_pool, pg_store)


async def test_poison_message_is_dead_lettered_after_n_attempts_and_can_be_redriven(
    bus, settings, pg_pool, pg_store
):
    start_relay, start_consumers = bus
    attempts: dict[str, int] = {}
    healed = asyncio.Event()

    async def fragile(conn, envelope) -> None:
        attempts[envelope.stream_id] = attempts.get(envelope.stream_id, 0) + 1
        if envelope.data.get("poison") and not healed.is_set():
            raise ValueError("cannot handle this one")
        await record_effect(conn, envelope)

    await start_consumers(1, handler=fragile)
    start_relay()
    await pg_store.append("s-bad", [NewEvent(type="Thing", data={"poison": True})], 0)
    await pg_store.append("s-good", [NewEvent(type="Thing", data={})], 0)
    async with asyncio.timeout(30):
        while await dlq_depth(settings, "sink") < 1:
            await asyncio.sleep(0.1)
    # Its N attempts of its own, and one more when it arrived in a batch with the good one
    # (a failing batch is handled again one message at a time).
    assert attempts["s-bad"] in (settings.consumer_max_attempts, settings.consumer_max_attempts + 1)
    assert await wait_for_effects(pg_pool, 1) == 1  # the good one went through meanwhile
    healed.set()
    assert await redrive(settings, "sink") == 1
    assert await wait_for_effects(pg_pool, 2) == 2
    assert await dlq_depth(settings, "sink") == 0
    await assert_exactly_once_in_order(pg_pool, pg_store)
