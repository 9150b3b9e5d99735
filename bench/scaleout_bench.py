"""The scale-out suite: events applied per second by 1, 2 and 3 consumer replicas (issue 20).

Each run: a fresh database and namespace, ``EVENTS`` events over ``STREAMS`` streams in the
producer's store, then R replica processes (``bench.consumer_replica``, each its own process,
connections and lease identity) started and left to share the partitions (the lease table shows
disjoint shares covering all). Then the relay, in this process, publishes the whole store, and
the run is timed from the relay's start to the last effect committed: events applied per second.
The effect is the replicas' test effect (a read of its stream's last version, an insert), in one
transaction with the inbox rows. Baseline: one replica, measured in the same run, in turn with
the others. Every replica, PostgreSQL and RabbitMQ share this machine's cores (docs/benchmarks.md
says what a machine per replica would give).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
from pathlib import Path

import aio_pika
import asyncpg

from bench import consumer_replica
from bench.common import BenchConfig, Row, comparison_row, fresh_database, log
from shared import db
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION, PostgresEventStore
from shared.relay import Relay
from shared.settings import Settings

SUITE = "scaleout"
EVENTS = 20_000
STREAMS = 400
PARTITIONS = 6  # shared evenly by 1, 2 and 3 replicas
REPLICAS = (1, 2, 3)


async def fill(store: PostgresEventStore, count: int) -> None:
    for start in range(0, count, 500):
        batch = [
            NewEvent(type="Thing", data={"n": n, "note": "x" * 120})
            for n in range(start, min(start + 500, count))
        ]
        for offset in range(0, len(batch), 25):  # 25 events per stream and append
            stream = f"trainee-{(start + offset) // 25 % STREAMS}"
            await store.append(stream, batch[offset : offset + 25], ANY_VERSION)


async def spread(pool: asyncpg.Pool, replicas: int, seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not consumer_replica.spread(
            await consumer_replica.shares(pool), replicas, PARTITIONS
        ):
            await asyncio.sleep(0.1)


async def one_run(config: BenchConfig, replicas: int, events: int, logs: Path) -> float:
    """Events applied per second by ``replicas`` replicas, from a fresh database."""
    namespace = f"bench{secrets.token_hex(4)}"
    settings = Settings(pg_dsn=config.pg_dsn, amqp_url=config.amqp_url, namespace=namespace)
    async with fresh_database(config.pg_dsn, SUITE) as dsn:
        pool = await db.create_pool(dsn, size=4)
        children = []
        relay: asyncio.Task[None] | None = None
        try:
            await db.migrate(pool, [db.CORE_MIGRATIONS])
            await pool.execute(consumer_replica.EFFECTS_DDL)
            await fill(PostgresEventStore(pool, "core"), events)
            env = {
                "GRADELINE_PG_DSN": dsn,
                "GRADELINE_AMQP_URL": config.amqp_url,
                "GRADELINE_NAMESPACE": namespace,
                "GRADELINE_CONSUMER_PARTITIONS": str(PARTITIONS),
                "GRADELINE_CONSUMER_LEASE_TTL_SECONDS": str(consumer_replica.LIVE_SECONDS),
            }
            for n in range(replicas):
                children.append(consumer_replica.start(f"r{n}", env, logs / f"{namespace}-r{n}"))
            await spread(pool, replicas)
            started = time.perf_counter()
            relay = asyncio.create_task(Relay(settings, "core", dsn).run())
            while await pool.fetchval("SELECT count(*) FROM effects") < events:
                await asyncio.sleep(0.05)
            return events / (time.perf_counter() - started)
        finally:
            if relay is not None:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
            await pool.close()
            await delete_queues(config.amqp_url, namespace)


async def delete_queues(amqp_url: str, namespace: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        names = [f"{namespace}.sink.p{i}" for i in range(PARTITIONS)] + [f"{namespace}.sink.dlq"]
        for name in names:
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                await channel.queue_delete(name)
        for name in ("sink.in", "sink.dlx", "events"):
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                await channel.exchange_delete(f"{namespace}.{name}")


async def run(config: BenchConfig) -> list[Row]:
    events = config.size(EVENTS, 1_000)
    reps = 3
    runs: dict[int, list[float]] = {r: [] for r in REPLICAS}
    with tempfile.TemporaryDirectory(prefix="scaleout-") as logs:
        for round_ in range(reps):  # each round starts one further along: 1 2 3, 2 3 1, 3 1 2
            for k in range(len(REPLICAS)):
                replicas = REPLICAS[(round_ + k) % len(REPLICAS)]
                rate = await one_run(config, replicas, events, Path(logs))
                log(f"{SUITE}: {replicas} replica(s): {rate:,.0f} events/s")
                runs[replicas].append(rate)
    one = ("1 replica", runs[1])
    note = (
        f"{events:,} events over {STREAMS} streams, {PARTITIONS} partitions, each replica its "
        "own process; from the relay's start to the last effect committed, median of "
        f"{reps} runs. All replicas, PostgreSQL and RabbitMQ on this machine's cores."
    )
    return [
        comparison_row(
            SUITE, f"consumption, {n} replicas", (f"{n} replicas", runs[n]), one, note=note
        )
        for n in REPLICAS[1:]
    ]
