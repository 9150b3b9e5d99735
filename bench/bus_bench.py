"""The bus suite: the outbox relay and the append-to-effect latency, against bare aio-pika.

1. Relay throughput: 20,000 stored events published by :class:`shared.relay.Relay` (read in
   position order, JSON-encoded, persistent, confirms pipelined per batch, checkpoint written
   after each batch's confirms) against a bare aio-pika loop publishing the same bodies with
   confirms pipelined in windows of the same size. Both publish to the same exchange and queue.
2. Latency at 1,000 events/s: one event appended every millisecond through the store; the
   relay publishes it; a partitioned :class:`shared.consumer.Consumer` applies it (inbox row and
   effect in one transaction). Latency = effect time - append time. Baseline: the same rate of
   bare aio-pika publishes (with confirms) consumed from a plain queue, latency = receive time -
   publish time.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aio_pika

from bench.common import BenchConfig, Row, comparison_row, fresh_database, log, percentile
from shared import db
from shared.consumer import Consumer
from shared.events import Envelope, NewEvent
from shared.eventstore import ANY_VERSION, PostgresEventStore
from shared.relay import Relay, checkpoint_name, to_message
from shared.settings import Settings

SUITE = "bus"
SERVICE = "bench"
RATE = 1_000  # events per second in the latency phase


def bench_settings(config: BenchConfig, namespace: str) -> Settings:
    return Settings(
        pg_dsn=config.pg_dsn,
        amqp_url=config.amqp_url,
        namespace=namespace,
        poll_interval_seconds=0.01,
    )


async def fill(store: PostgresEventStore, count: int) -> None:
    body = {"trainee_id": "t-1", "score": "95.5", "note": "x" * 120}
    for start in range(0, count, 500):
        batch = [
            NewEvent(type="ExamScored", data={**body, "n": n}) for n in range(start, start + 500)
        ]
        await store.append(f"trainee-{start}", batch[: min(500, count - start)], ANY_VERSION)


async def relay_once(settings: Settings, dsn: str, pool: Any, count: int) -> float:
    """Publish everything from position 0 with a fresh relay; events per second."""
    await pool.execute(
        "UPDATE checkpoints SET position = 0 WHERE name = $1", checkpoint_name(SERVICE)
    )
    relay = Relay(settings, SERVICE, dsn)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    while relay.published < count:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return count / elapsed


async def bare_publish_once(
    amqp_url: str, exchange_name: str, bodies: list[aio_pika.Message], window: int
) -> float:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name)
        started = time.perf_counter()
        for start in range(0, len(bodies), window):
            await asyncio.gather(
                *(exchange.publish(m, "bench.ExamScored") for m in bodies[start : start + window])
            )
        return len(bodies) / (time.perf_counter() - started)
    finally:
        await connection.close()


async def relay_phase(config: BenchConfig, settings: Settings, dsn: str, pool: Any) -> Row:
    count = config.size(20_000, 1_000)
    store = PostgresEventStore(pool, SERVICE)
    await fill(store, count)
    await pool.execute(
        "INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING",
        checkpoint_name(SERVICE),
    )
    envelopes: list[Envelope] = []
    while batch := await store.read_all(envelopes[-1].position if envelopes else 0, 5_000):
        envelopes.extend(batch)
    messages = [to_message(e) for e in envelopes]
    connection = await aio_pika.connect(config.amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(settings.exchange_name(), "topic", durable=True)
    sink = await channel.declare_queue(f"{settings.namespace}.sink", durable=True)
    await sink.bind(exchange, "#")
    system: list[float] = []
    baseline: list[float] = []
    log(f"{SUITE}: relay {count} events vs bare publish loop")
    for rep in range(4):  # the first round warms up both sides
        relayed = await relay_once(settings, dsn, pool, count)
        await sink.purge()
        bare = await bare_publish_once(
            config.amqp_url, settings.exchange_name(), messages, settings.relay_batch_size
        )
        await sink.purge()
        if rep:
            system.append(relayed)
            baseline.append(bare)
    await sink.delete(if_unused=False, if_empty=False)
    await connection.close()
    return comparison_row(
        SUITE,
        "relay throughput",
        ("Gradeline relay", system),
        ("aio-pika publish loop, confirms pipelined", baseline),
        goal=0.9,
        note=f"{count:,} stored events published from position 0 in batches of "
        f"{settings.relay_batch_size}, persistent, confirms pipelined per batch, checkpoint "
        "after each batch; baseline: the same message bodies, prebuilt, published in windows of "
        "the same size with confirms.",
    )


async def latency_phase(config: BenchConfig, settings: Settings, dsn: str, pool: Any) -> list[Row]:
    seconds = max(2.0, 6.0 * config.scale)
    system = await gradeline_latencies(settings, dsn, pool, seconds)
    baseline = await bare_latencies(
        config.amqp_url, f"{settings.namespace}.latency", int(seconds * RATE)
    )
    rows = []
    for pct in (50, 99):
        ours, theirs = percentile(system, pct), percentile(baseline, pct)
        rows.append(
            comparison_row(
                SUITE,
                f"append → consumer effect, p{pct}",
                ("Gradeline", [ours]),
                ("aio-pika publish → consume", [theirs]),
                unit="ms",
                higher_is_better=False,
                min_value=100.0 if pct == 99 else None,
                note=f"{RATE} events/s for {seconds:.0f} s ({len(system)} events): append through "
                "the store, relay (woken by each commit, as in a service), partitioned consumer "
                "applying inbox row + effect in one transaction, latency to that transaction's "
                "commit; baseline: bare publishes with confirms at the same rate into a plain "
                "queue, latency to receipt.",
            )
        )
    return rows


async def paced(
    rate: float, count: int, action: Callable[[int], Coroutine[Any, Any, None]]
) -> None:
    """Start ``action(n)`` ``rate`` times a second, on schedule, ``count`` times; wait for all."""
    started = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(action(n)))
    await asyncio.gather(*tasks)


async def gradeline_latencies(
    settings: Settings, dsn: str, pool: Any, seconds: float
) -> list[float]:
    store = PostgresEventStore(pool, SERVICE)
    await pool.execute(
        "UPDATE checkpoints SET position = (SELECT max(position) FROM events) WHERE name = $1",
        checkpoint_name(SERVICE),
    )
    latencies: list[float] = []

    async def effect(conn: Any, envelope: Envelope) -> None:
        pass  # the effect is the inbox row, in the consumer's transaction

    def committed(envelopes: Sequence[Envelope]) -> None:
        # An effect exists once its transaction committed, not when the handler runs.
        now = time.time()
        latencies.extend((now - e.data["t0"]) * 1000 for e in envelopes)

    consumer = Consumer(
        settings, "sink", pool, effect, [f"{SERVICE}.Latency"], on_committed=committed
    )
    relay = Relay(settings, SERVICE, dsn)
    store.on_commit.append(relay.wake)  # as a service wires its relay (shared.workers.relay)
    tasks = [asyncio.create_task(consumer.run()), asyncio.create_task(relay.run())]
    await asyncio.wait_for(consumer.ready.wait(), 30)

    async def append(n: int) -> None:
        event = NewEvent(type="Latency", data={"t0": time.time(), "n": n})
        await store.append(f"lat-{n % 200}", [event], ANY_VERSION)

    total = int(seconds * RATE)
    await paced(RATE, total, append)
    async with asyncio.timeout(60):
        while len(latencies) < total:
            await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


async def bare_latencies(
    amqp_url: str, queue_name: str, count: int, rate: float = RATE
) -> list[float]:
    """Bare aio-pika: ``count`` persistent publishes with confirms at ``rate`` a second into a
    plain queue, each message's latency to its receipt in ms (the bus baselines)."""
    connection = await aio_pika.connect(amqp_url)
    latencies: list[float] = []
    try:
        publisher = await connection.channel(publisher_confirms=True)
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=64)
        queue = await consumer.declare_queue(queue_name, exclusive=True)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            latencies.append((time.perf_counter() - float(message.body)) * 1000)
            await message.ack()

        await queue.consume(on_message)

        async def publish(n: int) -> None:
            body = repr(time.perf_counter()).encode()
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await publisher.default_exchange.publish(message, queue.name)

        await paced(rate, count, publish)
        async with asyncio.timeout(60):
            while len(latencies) < count:
                await asyncio.sleep(0.01)
    finally:
        await connection.close()
    return latencies


async def run(config: BenchConfig) -> list[Row]:
    namespace = f"bench{secrets.token_hex(4)}"
    settings = bench_settings(config, namespace)
    async with fresh_database(config.pg_dsn, SUITE) as dsn:
        pool = await db.create_pool(dsn, size=16)
        try:
            await db.migrate(pool, [db.CORE_MIGRATIONS])
            relay_row = await relay_phase(config, settings, dsn, pool)
            latency_rows = await latency_phase(config, settings, dsn, pool)
        finally:
            await pool.close()
            await delete_queues(config.amqp_url, namespace)
    return [relay_row, *latency_rows]


async def delete_queues(amqp_url: str, namespace: str) -> None:
    """The queues and exchanges of this run (names are namespaced)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for name in [f"{namespace}.sink.p{i}" for i in range(16)] + [f"{namespace}.sink.dlq"]:
            await channel.queue_delete(name)
        for name in ("sink.in", "sink.dlx", "events"):
            await channel.exchange_delete(f"{namespace}.{name}")
    except aio_pika.exceptions.ChannelClosed:
        pass
    finally:
        await connection.close()
