"""The http suite: enrolment commands over HTTP, the enrollment service against a bare FastAPI app.

Both servers run in subprocesses under the same uvicorn flags (1 worker, uvloop, httptools, no
access log, log level warning), so that the load generator (``bench.loadgen``, in this process)
does not share an event loop with them:

- Gradeline: the real enrollment app (``services.enrollment.app:create_app`` as a uvicorn
  factory, configured by ``GRADELINE_*`` variables for a namespace of its own), with everything
  it runs in production: its middleware, JWT check, decider and event store, the outbox relay
  publishing to RabbitMQ and the projection runner filling the trainee directory.
- Baseline: ``bench.http_baseline``, one route validating the same body and doing one INSERT.

Both get the same request bytes: ``POST /trainees`` with a valid body, a unique trainee id, a
branch clerk's token for the body's branch and an ``Idempotency-Key`` (the contract asks clients
for one on every POST; the baseline ignores the header and the token). 64 keep-alive connections
send requests back to back. After a warm-up of each side, the sides take turns for 3 rounds;
after each Gradeline run the suite waits until its relay and projection have caught up, so that
their backlog neither runs into the baseline's measurement nor into the next Gradeline run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aio_pika
import asyncpg
import orjson

from bench import http_baseline, loadgen
from bench.common import BenchConfig, Row, comparison_row, fresh_database, log, percentile
from services.enrollment.app import PROJECTIONS, SERVICE
from services.enrollment.domain.vocabulary import Category
from shared import db
from shared.auth import Role, mint_token
from shared.relay import checkpoint_name
from shared.settings import Settings

SUITE = "http"
HOST = "127.0.0.1"
CONNECTIONS = 64
REPS = 3
ROOT = Path(__file__).resolve().parent.parent
GRADELINE_APP = "services.enrollment.app:create_app"
BASELINE_APP = "bench.http_baseline:create_app"
# One command line for both servers: any difference would be measured as Gradeline's.
UVICORN_FLAGS = ("--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                 "--log-level", "warning")  # fmt: skip
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0
CATCH_UP_SECONDS = 120.0

# HQ staff are enrolled at the HQ; commissioned staff at a branch office or a dealer.
BRANCHES = {
    "hq": Category.HQ_FULL_TIME,
    "bo-east": Category.BRANCH_COMMISSIONED,
    "bo-west": Category.BRANCH_COMMISSIONED,
    "dl-north": Category.BRANCH_COMMISSIONED,
    "dl-south": Category.BRANCH_COMMISSIONED,
}
# Trainee ids have a fixed width, so that every request of a template has the same length and
# the pre-encoded Content-Length holds; the placeholder is replaced by the id at send time.
ID_WIDTH = 16
PLACEHOLDER = b"#" * ID_WIDTH


@dataclass(frozen=True, slots=True)
class Durations:
    """Seconds of load per run; scale 1 gives about 70 s of load in all."""

    warmup: float
    run: float

    @classmethod
    def of(cls, config: BenchConfig) -> Durations:
        return cls(warmup=max(1.0, 4.0 * config.scale), run=max(1.0, 10.0 * config.scale))


# --- requests ----------------------------------------------------------------------------------


def enrol_body(branch_id: str, category: Category) -> bytes:
    """A valid enrolment (R-3) with the placeholder as trainee id; about 300 bytes of JSON."""
    return orjson.dumps(
        {
            "trainee_id": PLACEHOLDER.decode(),
            "name": "Zhang Wei",
            "category": category.value,
            "branch_id": branch_id,
            "education": "junior_college",
            "experience_years": "3.5",
            "certificates": ["low-voltage electrician", "forklift operator"],
            "product_series": ["XG-200"],
            "enrolled_on": "2025-03-03",
        }
    )


def request_template(branch_id: str, category: Category, secret: str) -> list[bytes]:
    """The request for one branch, split around the two places the trainee id goes."""
    token = mint_token(secret, f"clerk-{branch_id}", [Role.BRANCH_CLERK], branch_id=branch_id,
                       ttl_seconds=24 * 3600)  # fmt: skip
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": f"enrol-{PLACEHOLDER.decode()}",
    }
    request = loadgen.post("/trainees", HOST, headers, enrol_body(branch_id, category))
    parts = request.split(PLACEHOLDER)
    assert len(parts) == 3, "the placeholder must appear in the key and the body only"
    return parts


class Enrolments:
    """An endless supply of enrolment requests, each with a trainee id never used before.

    One supply serves both sides for the whole suite, so ids stay unique across runs and servers.
    """

    def __init__(self, secret: str) -> None:
        self.templates = [request_template(b, c, secret) for b, c in BRANCHES.items()]
        self.counter = itertools.count()

    def __iter__(self) -> Iterator[bytes]:
        templates, count = self.templates, len(self.templates)
        for n in self.counter:
            trainee_id = f"t-{n:0{ID_WIDTH - 2}d}".encode()
            yield trainee_id.join(templates[n % count])


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A uvicorn subprocess serving ``app`` (a factory) on ``port``."""

    app: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    stderr: IO[bytes] = field(default_factory=tempfile.TemporaryFile)

    async def start(self) -> None:
        command = ["-m", "uvicorn", self.app, "--factory", "--host", HOST,
                   "--port", str(self.port), *UVICORN_FLAGS]  # fmt: skip
        # stdout is the services' JSON log (one line per request at INFO): read by nobody here.
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=ROOT, env={**os.environ, **self.env},
            stdout=asyncio.subprocess.DEVNULL, stderr=self.stderr,
        )  # fmt: skip
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        """Uvicorn accepts connections only once the lifespan (migrations, pools) has run."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.app} exited at start-up:\n{self.output()}")
            try:
                status, _ = await loadgen.get(HOST, self.port, "/health")
                if status == 200:
                    return
            except OSError:
                pass  # not listening yet
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.app} not up after {STARTUP_SECONDS} s:\n{self.output()}")

    async def stop(self) -> None:
        try:
            if self.process is not None and self.process.returncode is None:
                await self._terminate(self.process)
        finally:
            self.stderr.close()

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        process.terminate()  # SIGTERM: uvicorn runs the lifespan's shutdown
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            log(f"{SUITE}: {self.app} did not stop within {STOP_SECONDS} s; killing it")
            process.kill()
            await process.wait()

    def output(self, limit: int = 4000) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-limit:]


@asynccontextmanager
async def serving(app: str, env: dict[str, str]) -> AsyncIterator[Server]:
    server = Server(app, env)
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


def gradeline_env(settings: Settings) -> dict[str, str]:
    return {
        "GRADELINE_PG_DSN": settings.pg_dsn,
        "GRADELINE_AMQP_URL": settings.amqp_url,
        "GRADELINE_NAMESPACE": settings.namespace,
        "GRADELINE_ENVIRONMENT": settings.environment,
        "GRADELINE_JWT_SECRET": settings.jwt_secret,  # the bench signs its tokens with it
    }


# --- Gradeline's background work ---------------------------------------------------------------


@dataclass
class Background:
    """Watches the enrollment service's relay and projections through its database."""

    dsn: str
    backlogs: list[int] = field(default_factory=list)  # events behind at the end of each run
    catch_up_seconds: list[float] = field(default_factory=list)

    async def behind(self, conn: asyncpg.Connection) -> int:
        """Events stored but not yet published by the relay or applied by every projection."""
        names = [checkpoint_name(SERVICE), *(p.checkpoint("events") for p in PROJECTIONS)]
        lag = await conn.fetchval(
            "SELECT coalesce(max(position), 0) - coalesce((SELECT min(position) FROM checkpoints"
            " WHERE name = ANY($1::text[])), 0) FROM events",
            names,
        )
        return int(lag)

    async def catch_up(self) -> None:
        """Wait until the relay and the projections have handled every stored event."""
        conn = await asyncpg.connect(self.dsn)
        try:
            started = time.perf_counter()
            backlog = await self.behind(conn)
            async with asyncio.timeout(CATCH_UP_SECONDS):
                while await self.behind(conn) > 0:
                    await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            await conn.close()
        self.backlogs.append(backlog)
        self.catch_up_seconds.append(elapsed)
        log(f"{SUITE}: relay and projection were {backlog:,} events behind; caught up in "
            f"{elapsed:.2f} s")  # fmt: skip


# --- measurement -------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    server: Server
    after_run: Callable[[], Awaitable[None]] | None = None  # settles the side's deferred work
    results: list[loadgen.LoadResult] = field(default_factory=list)


async def load(side: Side, requests: Enrolments, seconds: float) -> loadgen.LoadResult:
    result = await loadgen.run_load(HOST, side.server.port, iter(requests), seconds=seconds,
                                    connections=CONNECTIONS, expected=201)  # fmt: skip
    if result.failed:
        # Errors are cheaper than work: a run with any would flatter the side that failed.
        raise RuntimeError(
            f"{side.name}: {result.failed} requests failed ({dict(result.statuses)}); first: "
            f"{result.first_error[:500]!r}\n{side.server.output()}"
        )
    if side.after_run is not None:
        await side.after_run()
    p50, p99 = (percentile(result.latencies_ms, pct) for pct in (50, 99))
    log(f"{SUITE}: {side.name}: {result.throughput:,.0f} req/s, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms ({result.succeeded:,} requests)")  # fmt: skip
    return result


async def alternate_loads(sides: list[Side], requests: Enrolments, durations: Durations) -> None:
    """A warm-up run of each side, then ``REPS`` rounds taking turns (as ``common.alternate``,
    keeping each run's latencies as well as its throughput)."""
    log(f"{SUITE}: warm-up, {durations.warmup:.0f} s per side")
    for side in sides:
        await load(side, requests, durations.warmup)
    for rep in range(REPS):
        log(f"{SUITE}: round {rep + 1} of {REPS}, {durations.run:.0f} s per side")
        for side in sides:
            side.results.append(await load(side, requests, durations.run))


Measure = Callable[[loadgen.LoadResult], float]


def compare(gradeline: Side, baseline: Side, workload: str, measure: Measure, **extra: Any) -> Row:
    """A row of one measure of every run, Gradeline against the baseline."""
    return comparison_row(
        SUITE,
        f"POST /trainees, {CONNECTIONS} clients: {workload}",
        (gradeline.name, [measure(r) for r in gradeline.results]),
        (baseline.name, [measure(r) for r in baseline.results]),
        **extra,
    )


def latency(pct: float) -> Measure:
    return lambda result: percentile(result.latencies_ms, pct)


def rows(gradeline: Side, baseline: Side, background: Background, seconds: float) -> list[Row]:
    # The last REPS entries: the first one is the warm-up's.
    backlogs = ", ".join(f"{b:,}" for b in background.backlogs[-REPS:])
    catch_ups = ", ".join(f"{s:.1f}" for s in background.catch_up_seconds[-REPS:])
    note = (
        f"{CONNECTIONS} keep-alive connections sending back to back for {seconds:.0f} s per run; "
        f"valid enrolments with unique trainee ids over {len(BRANCHES)} branches, a branch "
        "clerk's JWT and an Idempotency-Key; the enrollment app with its middleware, event store, "
        "relay and projection runner, left to catch up after each run, outside the timing "
        f"(behind by {backlogs} events at run end, caught up in {catch_ups} s); baseline: a "
        "bare FastAPI route validating the same body and doing one asyncpg INSERT through "
        f"`db.create_pool`; both under uvicorn `{' '.join(UVICORN_FLAGS)}` in subprocesses."
    )
    return [
        compare(gradeline, baseline, "throughput", lambda r: r.throughput, unit="req/s",
                goal=0.60, note=note),
        compare(gradeline, baseline, "latency p50", latency(50), unit="ms",
                higher_is_better=False, note="the median latency of each run, as above."),
        compare(gradeline, baseline, "latency p99", latency(99), unit="ms",
                higher_is_better=False, min_value=150.0,
                note="the 99th percentile latency of each run, as above."),
    ]  # fmt: skip


# --- the suite ---------------------------------------------------------------------------------


async def create_baseline_table(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(http_baseline.DDL)
    finally:
        await conn.close()


async def remove_service_resources(settings: Settings) -> None:
    """The enrollment service's database and the exchange its relay declared."""
    await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        await channel.exchange_delete(settings.exchange_name())
    finally:
        await connection.close()


async def measure(settings: Settings, baseline_dsn: str, durations: Durations) -> list[Row]:
    service_dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(SERVICE))
    background = Background(service_dsn)
    async with AsyncExitStack() as servers:
        log(f"{SUITE}: starting the enrollment service and the baseline (uvicorn subprocesses)")
        gradeline_server = await servers.enter_async_context(
            serving(GRADELINE_APP, gradeline_env(settings))
        )
        baseline_server = await servers.enter_async_context(
            serving(BASELINE_APP, {http_baseline.DSN_VARIABLE: baseline_dsn})
        )
        gradeline = Side("Gradeline enrollment", gradeline_server, background.catch_up)
        baseline = Side("FastAPI + asyncpg INSERT", baseline_server)
        await alternate_loads([gradeline, baseline], Enrolments(settings.jwt_secret), durations)
    return rows(gradeline, baseline, background, durations.run)


async def run(config: BenchConfig) -> list[Row]:
    """The enrollment service's POST /trainees against a bare FastAPI + asyncpg endpoint."""
    durations = Durations.of(config)
    namespace = f"benchhttp{os.urandom(4).hex()}"
    settings = Settings(pg_dsn=config.pg_dsn, amqp_url=config.amqp_url, namespace=namespace,
                        environment="development")  # fmt: skip
    async with fresh_database(config.pg_dsn, SUITE) as baseline_dsn:
        await create_baseline_table(baseline_dsn)
        try:
            return await measure(settings, baseline_dsn, durations)
        finally:
            await remove_service_resources(settings)
