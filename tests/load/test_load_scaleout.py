"""The load tool over a consuming service with two worker replicas (issue 20, ADR 0019): the
four services, plus a second compensation process running only its consumer; the two spread
compensation's partitions, the second is killed with ``kill -9`` mid-load, and every proof of
the load tool still holds (every upstream event in the inbox exactly once, projections equal to
their rebuild, payslips equal to their recomputation)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from bench import consumer_replica
from bench.load import cluster
from ops import launcher
from shared import db
from tests.load.harness import LOG_DIR, config, failures, load_with_fault, running_cluster

pytestmark = pytest.mark.timeout(240)
TTL = str(consumer_replica.LIVE_SECONDS)
PARTITIONS = 4


@pytest.fixture(scope="module")
def services(pg_dsn: str, amqp_url: str) -> Iterator[cluster.Cluster]:
    yield from running_cluster(pg_dsn, amqp_url, {"GRADELINE_CONSUMER_LEASE_TTL_SECONDS": TTL})


def second_compensation(services: cluster.Cluster):
    """Another compensation process, on ports of its own, running its consumer only."""
    extra = services.settings.model_copy(update={"port_offset": cluster.free_port_offset()})
    env = {
        **cluster.child_env(services.settings),
        **services.env,
        "GRADELINE_PORT_OFFSET": str(extra.port_offset),
        "GRADELINE_WORKERS": "consumers",
    }
    log = LOG_DIR / f"{services.settings.namespace}-compensation-2.log"
    return extra, launcher.start_service("compensation", extra, env=env, log_path=log)


async def shares(pool: asyncpg.Pool) -> list[list[int]]:
    rows = await pool.fetch(
        "SELECT partitions FROM consumer_members WHERE service = 'compensation'"
        " AND last_seen > now() - make_interval(secs => $1) ORDER BY replica",
        float(TTL),
    )
    return [sorted(r["partitions"]) for r in rows]


async def spread_over(pool: asyncpg.Pool, replicas: int, seconds: float = 60) -> list[list[int]]:
    async with asyncio.timeout(seconds):
        while not consumer_replica.spread(held := await shares(pool), replicas, PARTITIONS):
            await asyncio.sleep(0.2)
    return held


async def test_two_compensation_workers_share_its_partitions_and_a_kill_loses_nothing(
    services: cluster.Cluster,
) -> None:
    settings = services.settings
    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name("compensation"))
    pool = await db.create_pool(dsn, size=2)
    extra, child = second_compensation(services)
    try:
        assert sorted(len(s) for s in await spread_over(pool, 2)) == [2, 2]
        async with httpx.AsyncClient(timeout=10) as client:
            scraped = await client.get(f"http://127.0.0.1:{extra.port('compensation')}/metrics")
        assert 'gradeline_consumer_partitions_owned{service="compensation"} 2.0' in scraped.text

        async def kill_the_second() -> None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)

        outcome, results = await load_with_fault(
            services, config(seed=2001, trainees=10), kill_the_second, strike_after_requests=150
        )

        assert failures(outcome, results) == []
        assert "inbox" in [r.name for r in results]
        assert await spread_over(pool, 1) == [[0, 1, 2, 3]]  # the first took it all back
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        await pool.close()
