"""Consumers apply each stream's events in version order whatever the delivery order (issue 14,
item 9): an event whose predecessor is not in the inbox yet is parked in the database and acked,
and applied, in the transaction that applies its predecessor."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace

import aio_pika
import pytest

from shared.consumer import Consumer, Topology
from shared.events import Envelope
from shared.inbox import SetwiseHandler
from shared.metrics import Metrics
from shared.ordering import handle_in_order, parked_summary, ready_parked_streams
from shared.relay import to_message
from shared.workers import refresh_parked
from tests.support import delivered


def event(stream: str, version: int, service: str = "core", type_: str = "Thing") -> Envelope:
    return delivered(service, type_, stream, {"v": version}, version)


class Recorder:
    """A handler noting (stream, version) in the order it applies them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    async def __call__(self, conn: object, envelope: Envelope) -> None:
        self.seen.append((envelope.stream_id, envelope.version))


async def test_a_batch_holding_v3_v1_v2_is_applied_v1_v2_v3(pg_pool):
    record = Recorder()
    v1, v2, v3 = (event("s-1", v) for v in (1, 2, 3))

    outcome = await handle_in_order(pg_pool, record, [v3, v1, v2])

    assert record.seen == [("s-1", 1), ("s-1", 2), ("s-1", 3)]
    assert (len(outcome.applied), len(outcome.parked), len(outcome.duplicates)) == (3, 0, 0)
    assert await pg_pool.fetchval("SELECT count(*) FROM inbox") == 3


async def test_an_early_event_is_parked_until_its_predecessor_comes_then_applied_with_it(pg_pool):
    record = Recorder()
    v1, v2, v3, v4 = (event("s-1", v) for v in (1, 2, 3, 4))
    other = event("s-2", 1)

    first = await handle_in_order(pg_pool, record, [v3, other])
    assert record.seen == [("s-2", 1)]
    assert [e.event_id for e in first.parked] == [v3.event_id]
    again = await handle_in_order(pg_pool, record, [v3])  # a parked duplicate is dropped
    assert [e.event_id for e in again.duplicates] == [v3.event_id]
    assert (await parked_summary(pg_pool)).count == 1

    await handle_in_order(pg_pool, record, [v1])
    assert record.seen[-1] == ("s-1", 1)
    await handle_in_order(pg_pool, record, [v4])  # v3 waits for v2, v4 for v3
    second = await handle_in_order(pg_pool, record, [v2])

    assert record.seen == [("s-2", 1), ("s-1", 1), ("s-1", 2), ("s-1", 3), ("s-1", 4)]
    assert [e.version for e in second.applied] == [2, 3, 4]
    assert (await parked_summary(pg_pool)).count == 0
    rows = await pg_pool.fetch("SELECT version FROM inbox WHERE stream_id = 's-1' ORDER BY seq")
    assert [r["version"] for r in rows] == [1, 2, 3, 4]


async def test_set_wise_runs_see_each_stream_in_version_order(pg_pool):
    """The set-wise path gets the reordered batch: stretches of one type still go together."""
    calls: list[list[tuple[str, int]]] = []

    async def one(conn: object, envelope: Envelope) -> None:
        calls.append([(envelope.stream_id, envelope.version)])

    async def many(conn: object, envelopes: Sequence[Envelope]) -> None:
        calls.append([(e.stream_id, e.version) for e in envelopes])

    handler = SetwiseHandler(one, {("core", "Thing"): many})
    batch = [event("a", 2), event("b", 1), event("a", 1), event("c", 1)]

    await handle_in_order(pg_pool, handler, batch)

    assert calls == [[("b", 1), ("a", 1), ("a", 2), ("c", 1)]]


async def test_a_failing_handler_applies_and_parks_nothing(pg_pool):
    async def broken(conn: object, envelope: Envelope) -> None:
        if envelope.version == 1:
            raise ValueError("cannot")

    with pytest.raises(ValueError):
        await handle_in_order(pg_pool, broken, [event("s", 2), event("s", 1)])
    assert await pg_pool.fetchval("SELECT count(*) FROM inbox") == 0
    assert (await parked_summary(pg_pool)).count == 0


async def test_v2_delivered_before_v1_by_the_broker_is_applied_after_it(settings, pg_pool):
    """The real broker: v2 published to the partition exchange before v1 (as a nack and
    republish of the relay can do); the consumer applies v1, then v2."""
    record = Recorder()
    consumer = Consumer(settings, "sink", pg_pool, record, ["core.#"], retry_delay=0.01)
    running = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.ready.wait(), 30)
        v1, v2 = event("trainee-1", 1), event("trainee-1", 2)
        topology = Topology(settings.namespace, "sink", settings.consumer_partitions)
        connection = await aio_pika.connect(settings.amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(topology.partition_exchange)
            await exchange.publish(to_message(v2), routing_key="core.Thing")
            async with asyncio.timeout(10):
                while consumer.parked < 1:
                    await asyncio.sleep(0.02)
            assert record.seen == []
            await exchange.publish(to_message(v1), routing_key="core.Thing")
            # The counters move once each effect is committed, a moment after the handler ran.
            async with asyncio.timeout(10):
                while len(record.seen) < 2 or consumer.handled < 2:
                    await asyncio.sleep(0.02)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert record.seen == [("trainee-1", 1), ("trainee-1", 2)]
    assert (consumer.handled, consumer.parked) == (2, 1)


async def test_parked_events_show_in_the_metrics_and_the_stale_ones_apart(settings, pg_pool):
    await handle_in_order(pg_pool, Recorder(), [event("s-1", 3), event("s-2", 5)])
    await pg_pool.execute(
        "UPDATE inbox_parked SET parked_at = now() - interval '1 hour' WHERE stream_id = 's-2'"
    )
    metrics = Metrics("sink")
    context = SimpleNamespace(pool=pg_pool, settings=settings, metrics=metrics, service="sink")

    await refresh_parked(context)

    text = metrics.render().decode()
    assert 'gradeline_consumer_parked_events{service="sink"} 2.0' in text
    assert 'gradeline_consumer_parked_stale_events{service="sink"} 1.0' in text
    oldest = metrics.parked_oldest.labels("sink")._value.get()
    assert 3590 < oldest < 3700


async def test_a_parked_event_left_behind_is_found_and_applied_by_the_sweep(pg_pool):
    """Applied alone (``unpark=False``, the one-by-one path), v1 leaves v2 parked: the sweep
    finds the stream ready and applies it."""
    record = Recorder()
    v1, v2 = event("s-1", 1), event("s-1", 2)
    await handle_in_order(pg_pool, record, [v2])
    alone = await handle_in_order(pg_pool, record, [v1], unpark=False)
    assert alone.left_parked == {("core", "s-1")}
    assert await ready_parked_streams(pg_pool) == [("core", "s-1")]

    swept = await handle_in_order(pg_pool, record, [], streams=await ready_parked_streams(pg_pool))

    assert [e.event_id for e in swept.applied] == [v2.event_id] and swept.unparked == 1
    assert record.seen == [("s-1", 1), ("s-1", 2)]
    assert await ready_parked_streams(pg_pool) == []


async def test_v2_parked_while_v1_is_being_applied_elsewhere_is_not_left_behind(pg_pool):
    """Two queues hold one stream (the partition count changed): v2 is parked by one consumer
    after the other looked for parked successors of v1 and before it commits. The check under
    the inbox lock sees it, and the transaction runs again, applying v2 after v1."""
    v1, v2 = event("s-1", 1), event("s-1", 2)
    looking = asyncio.Event()
    go_on = asyncio.Event()
    record = Recorder()

    async def slow_first_time(conn: object, envelope: Envelope) -> None:
        if not go_on.is_set():
            looking.set()
            await go_on.wait()
        await record(conn, envelope)

    applying = asyncio.create_task(handle_in_order(pg_pool, slow_first_time, [v1]))
    await asyncio.wait_for(looking.wait(), 5)
    parking = await handle_in_order(pg_pool, record, [v2])
    assert [e.event_id for e in parking.parked] == [v2.event_id]
    go_on.set()
    outcome = await asyncio.wait_for(applying, 5)

    assert [e.event_id for e in outcome.applied] == [v1.event_id, v2.event_id]
    assert (await parked_summary(pg_pool)).count == 0
