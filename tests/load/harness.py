"""The four services as child processes for the load and fault tests, and the load + checks.

One cluster per test module (starting four processes costs seconds on two cores); each test
posts a scenario of its own seed, so its trainees, sessions and keys are its own, while the checks
cover everything the namespace holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from bench.load import checks, cluster
from bench.load.http import Duplicates, Recorder
from bench.load.run import LoadConfig, LoadOutcome, run_load

LOG_DIR = Path(__file__).resolve().parents[2] / ".run" / "load"
CONVERGE_SECONDS = 10.0  # issue 7: projections converge within 10 s after recovery


def running_cluster(
    pg_dsn: str, amqp_url: str, env: dict[str, str] | None = None
) -> Iterator[cluster.Cluster]:
    """Body of a module-scoped fixture: the services up (``env`` added to their environment),
    then stopped and their data dropped."""
    settings = cluster.cluster_settings(pg_dsn, amqp_url)
    # Pools of four connections: enough for the load's eight offices, and the clusters of several
    # test workers stay inside PostgreSQL's connection limit together.
    services = cluster.Cluster(settings, LOG_DIR, env={"GRADELINE_POOL_SIZE": "4", **(env or {})})
    try:
        for name in cluster.SERVICES:
            services.start(name)
        asyncio.run(services.wait_ready())
        yield services
    finally:
        services.stop()
        asyncio.run(services.drop())  # databases, exchanges and queues


def config(seed: int, trainees: int, duplicates: float = 0.15) -> LoadConfig:
    return LoadConfig(
        offices=8,
        trainees=trainees,
        seed=seed,
        wait_seconds=45.0,
        duplicates=Duplicates(fraction=duplicates, concurrent=0.5, seed=seed),
    )


async def load_and_check(
    services: cluster.Cluster, load: LoadConfig
) -> tuple[LoadOutcome, list[checks.Check]]:
    outcome = await run_load(services.urls, services.settings.jwt_secret, load)
    return outcome, await _checks(services, outcome)


async def _checks(services: cluster.Cluster, outcome: LoadOutcome) -> list[checks.Check]:
    """The load tool's checks, and every service process still whole (no worker died)."""
    results = await checks.run_checks(
        services.settings, outcome.recorder.accepted, CONVERGE_SECONDS
    )
    dead = await services.unhealthy()
    return [*results, checks.Check("alive", not dead, "; ".join(dead) or "every worker runs")]


async def load_with_fault(
    services: cluster.Cluster,
    load: LoadConfig,
    fault: Callable[[], Awaitable[None]],
    strike_after_requests: int,
) -> tuple[LoadOutcome, list[checks.Check]]:
    """Start the load; once ``strike_after_requests`` answers are in (mid-load), run ``fault``
    (which returns once the fault is over); let the load finish, then converge and check."""
    recorder = Recorder()
    running = asyncio.create_task(
        run_load(services.urls, services.settings.jwt_secret, load, recorder)
    )
    deadline = time.monotonic() + 60
    while recorder.requests < strike_after_requests:
        assert not running.done(), "the load ended before the fault: make it longer"
        assert time.monotonic() < deadline, f"only {recorder.requests} requests in 60 s"
        await asyncio.sleep(0.05)
    await fault()
    outcome = await running
    assert outcome.recorder.requests > strike_after_requests  # the load went on after the fault
    return outcome, await _checks(services, outcome)


def failures(outcome: LoadOutcome, results: list[checks.Check]) -> list[str]:
    """Everything that went wrong, for one assert with a readable message."""
    failed = [f"{r.name}: {r.detail}" for r in results if not r.ok]
    return failed + [f"flow: {p}" for p in outcome.problems]
