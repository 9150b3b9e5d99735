"""Replicas of a consumer share its partitions (issue 20, ADR 0019): each replica an OS process
of its own (``bench.consumer_replica``) with its own connections and lease identity. With 2 and
3 replicas each consumes its share; a replica killed with ``kill -9`` loses its partitions to the
others within seconds; replicas joining and dying under load lose, duplicate and reorder
nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import aio_pika
import pytest

from bench import consumer_replica
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.relay import Relay
from tests.integration.test_bus import append_many, assert_exactly_once_in_order, wait_for_effects

pytestmark = pytest.mark.timeout(150)
PARTITIONS = 6
TTL = consumer_replica.LIVE_SECONDS  # a beat every second


class Replicas:
    """Consumer replica processes of service ``sink`` on the test's database and namespace."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, *labels: str) -> None:
        for label in labels:
            self.running[label] = consumer_replica.start(label, self.env, self.logs / label)

    def kill(self, label: str) -> None:
        """``kill -9``: no goodbye, its lease row simply stops being renewed."""
        child = self.running.pop(label)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)

    def check_alive(self) -> None:
        for label, child in self.running.items():
            if child.poll() is not None:
                tail = (self.logs / label).read_text(errors="replace")[-2000:]
                raise AssertionError(f"replica {label} exited ({child.returncode}):\n{tail}")

    def stop(self) -> None:
        for child in self.running.values():
            child.terminate()
        for child in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
            if child.poll() is None:
                child.kill()


@pytest.fixture
async def replicas(settings, service_db, pg_pool, tmp_path):
    await pg_pool.execute(consumer_replica.EFFECTS_DDL)
    env = {
        "GRADELINE_PG_DSN": service_db,
        "GRADELINE_AMQP_URL": settings.amqp_url,
        "GRADELINE_NAMESPACE": settings.namespace,
        "GRADELINE_CONSUMER_PARTITIONS": str(PARTITIONS),
        "GRADELINE_CONSUMER_LEASE_TTL_SECONDS": str(TTL),
        "GRADELINE_CONSUMER_SWEEP_SECONDS": "1",
    }
    group = Replicas(env, tmp_path)
    relay = asyncio.create_task(Relay(settings, "core", service_db).run())
    yield group
    relay.cancel()
    await asyncio.gather(relay, return_exceptions=True)
    group.stop()
    await _delete_partitions(settings)


async def _delete_partitions(settings) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        for index in range(PARTITIONS):
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                await channel.queue_delete(f"{settings.namespace}.sink.p{index}")


async def spread_over(pool, group: Replicas, replicas: int, timeout: float = 30) -> list[list[int]]:
    """Until ``replicas`` live replicas consume disjoint shares covering every partition."""
    async with asyncio.timeout(timeout):
        while True:
            group.check_alive()
            held = await consumer_replica.shares(pool)
            if consumer_replica.spread(held, replicas, PARTITIONS):
                return held
            await asyncio.sleep(0.1)


async def applied_by(pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT replica, count(*) AS n FROM effects GROUP BY replica")
    return {r["replica"]: r["n"] for r in rows}


@pytest.mark.parametrize("count", [2, 3])
async def test_each_of_n_replicas_consumes_about_one_nth_of_the_partitions(
    replicas, pg_pool, pg_store, count
):
    labels = [f"r{i}" for i in range(1, count + 1)]
    replicas.start(*labels)

    held = await spread_over(pg_pool, replicas, count)
    assert sorted(len(share) for share in held) == [PARTITIONS // count] * count

    await append_many(pg_store, 1_600, streams=200, seed=count)
    assert await wait_for_effects(pg_pool, 1_600, timeout=60) == 1_600
    await assert_exactly_once_in_order(pg_pool, pg_store)
    by_replica = await applied_by(pg_pool)
    assert sorted(by_replica) == labels  # every replica applied some
    assert min(by_replica.values()) > 1_600 / count / 3  # about its share (hashing varies)


async def test_a_killed_replicas_partitions_move_to_the_others_within_seconds(
    replicas, pg_pool, pg_store
):
    replicas.start("r1", "r2", "r3")
    await spread_over(pg_pool, replicas, 3)

    replicas.kill("r3")
    killed_at = time.monotonic()
    held = await spread_over(pg_pool, replicas, 2, timeout=20)
    moved_after = time.monotonic() - killed_at

    assert sorted(len(share) for share in held) == [3, 3]
    # Its row goes stale after the TTL; the others see that at their next beat (TTL / 3) and
    # record their new share at the beat after.
    assert moved_after < TTL + 2 * TTL / 3 + 2.0
    await append_many(pg_store, 800, streams=120, seed=7)
    assert await wait_for_effects(pg_pool, 800, timeout=60) == 800
    await assert_exactly_once_in_order(pg_pool, pg_store)
    assert set(await applied_by(pg_pool)) == {"r1", "r2"}


async def produce(store, events: int, streams: int, seconds: float) -> None:
    """``events`` events round the ``streams`` streams, spread over about ``seconds``."""
    writers = 6
    per_writer = events // writers

    async def writer(first: int) -> None:
        for n in range(first, events, writers):
            await store.append(
                f"trainee-{n % streams}", [NewEvent(type="Thing", data={"n": n})], ANY_VERSION
            )
            await asyncio.sleep(seconds / per_writer)

    await asyncio.gather(*(writer(w) for w in range(writers)))


async def working(pool, group: Replicas, label: str, among: int) -> None:
    """Until the partitions are spread over ``among`` replicas and ``label`` applied some."""
    await spread_over(pool, group, among)
    async with asyncio.timeout(20):
        while label not in await applied_by(pool):
            await asyncio.sleep(0.05)


async def test_replicas_joining_and_dying_under_load_lose_duplicate_and_reorder_nothing(
    replicas, pg_pool, pg_store
):
    """A steady stream of appends while the set of replicas changes five times, two of them
    kill -9: every event applied once, each stream in version order, nothing left parked."""
    events = 4_000
    replicas.start("r1")
    await spread_over(pg_pool, replicas, 1)
    producing = asyncio.create_task(produce(pg_store, events, streams=150, seconds=15))

    replicas.start("r2")
    await working(pg_pool, replicas, "r2", among=2)
    replicas.start("r3")
    await working(pg_pool, replicas, "r3", among=3)
    replicas.kill("r2")  # mid-batch, probably: its transaction rolls back, messages go back
    replicas.start("r4")
    await working(pg_pool, replicas, "r4", among=3)
    replicas.kill("r1")
    assert not producing.done(), "the load ended before the last change: make it longer"
    await producing

    assert await wait_for_effects(pg_pool, events, timeout=60) == events
    await assert_exactly_once_in_order(pg_pool, pg_store)
    assert await pg_pool.fetchval("SELECT count(*) FROM inbox_parked") == 0
    assert {"r1", "r2", "r3", "r4"} <= set(await applied_by(pg_pool))
    held = await spread_over(pg_pool, replicas, 2)
    assert sorted(len(share) for share in held) == [3, 3]
