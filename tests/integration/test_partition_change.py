"""Changing GRADELINE_CONSUMER_PARTITIONS under load (issue 14, item 10), on the real broker:
the consumer restarted with the new count while the producer keeps appending to many streams.
Nothing is lost, nothing applied twice, each stream applied in version order, in bounded time.

4 -> 8: streams move to the new queues while their earlier events still wait in the old ones (the
later ones are parked until those are applied). 8 -> 4: p4..p7 are unbound, drained and deleted."""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
import pytest

from shared.consumer import Consumer
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.partitions import surplus_queues
from shared.relay import Relay
from tests.integration.test_bus import (
    EFFECTS_DDL,
    assert_exactly_once_in_order,
    record_effect,
    wait_for_effects,
)

pytestmark = pytest.mark.timeout(90)
EVENTS = 2_400
STREAMS = 120


async def produce(store, seconds: float) -> None:
    """EVENTS events over STREAMS streams, spread over about ``seconds``: still appending
    when the consumer comes back with its new partition count."""
    writers = 8
    share = EVENTS // writers

    async def writer(first: int) -> None:
        for n in range(first, EVENTS, writers):
            await store.append(
                f"trainee-{n % STREAMS}", [NewEvent(type="Thing", data={"n": n})], ANY_VERSION
            )
            await asyncio.sleep(seconds / share)

    await asyncio.gather(*(writer(w) for w in range(writers)))


@pytest.fixture
async def bus(settings, service_db, pg_pool):
    """The producer's relay; consumers started with a given partition count."""
    await pg_pool.execute(EFFECTS_DDL)
    relay = asyncio.create_task(Relay(settings, "core", service_db).run())
    running: list[asyncio.Task] = []

    async def start(partitions: int) -> Consumer:
        options = {"consumer_partitions": partitions, "consumer_sweep_seconds": 0.5}
        consumer = Consumer(
            settings.model_copy(update=options),
            "sink",
            pg_pool,
            record_effect,
            ["core.#"],
            retry_delay=0.01,
        )
        running.append(asyncio.create_task(consumer.run()))
        await asyncio.wait_for(consumer.ready.wait(), 30)
        return consumer

    async def stop() -> None:
        task = running.pop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    yield start, stop
    for task in [relay, *running]:
        task.cancel()
    await asyncio.gather(relay, *running, return_exceptions=True)
    await _delete_partitions(settings, count=16)


async def _delete_partitions(settings, count: int) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        for index in range(count):
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                await channel.queue_delete(f"{settings.namespace}.sink.p{index}")


async def switch_mid_stream(pg_pool, pg_store, start, stop, before: int, after: int) -> None:
    """Consume with ``before`` partitions, stop while the producer goes on (a backlog builds in
    the old queues), then consume with ``after``; until every event is applied."""
    await start(before)
    producing = asyncio.create_task(produce(pg_store, seconds=5))
    async with asyncio.timeout(30):
        while await pg_pool.fetchval("SELECT count(*) FROM effects") < EVENTS // 6:
            await asyncio.sleep(0.02)
    await stop()
    await asyncio.sleep(1.0)  # a backlog of every stream in the old queues
    await start(after)
    await producing
    assert await wait_for_effects(pg_pool, EVENTS, timeout=45) == EVENTS
    await assert_exactly_once_in_order(pg_pool, pg_store)


async def test_raising_partitions_4_to_8_under_load_keeps_each_stream_in_order(
    bus, pg_pool, pg_store
):
    start, stop = bus
    await switch_mid_stream(pg_pool, pg_store, start, stop, before=4, after=8)
    parked = await pg_pool.fetchval("SELECT count(*) FROM inbox_parked")
    assert parked == 0


async def test_lowering_partitions_8_to_4_under_load_drains_and_deletes_the_surplus_queues(
    bus, settings, amqp, pg_pool, pg_store
):
    start, stop = bus
    await switch_mid_stream(pg_pool, pg_store, start, stop, before=8, after=4)
    async with asyncio.timeout(15):
        while await surplus_queues(amqp, settings.namespace, "sink", 4):
            await asyncio.sleep(0.2)


async def test_a_partition_deleted_under_a_consumer_is_declared_again(bus, settings, amqp):
    """A replica still running with fewer partitions may drain and delete one of ours (it was
    its active consumer): the broker cancels our consumer of it, and we reconnect and declare
    it again rather than go on without it."""
    start, _ = bus
    await start(8)
    channel = await amqp.channel()
    await channel.queue_delete(f"{settings.namespace}.sink.p5")
    async with asyncio.timeout(10):
        while len(await surplus_queues(amqp, settings.namespace, "sink", 4)) < 4:
            await asyncio.sleep(0.1)
