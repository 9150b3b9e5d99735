"""The http suite: one representative command per service over HTTP, against a bare FastAPI app.

The four services run as uvicorn subprocesses (``bench.http_servers``: 1 worker, uvloop,
httptools, no access log), each with everything it runs in production: middleware, JWT check,
idempotency, decider and event store, outbox relay, consumers and projection runners, all in one
namespace so that events flow between them over RabbitMQ as in a deployment. The baseline,
``bench.http_baseline``, runs under the same flags: one route validating an enrolment body and
doing one INSERT; and the same route publishing each enrolment on RabbitMQ the naive way (a
confirmed publish after the INSERT, routed like Gradeline's events), which shows what the bus
itself costs on this machine. The load generator (``bench.loadgen``, in this process) keeps 64
keep-alive connections sending back to back.

Before measuring, the suite seeds what the commands act on (``bench.http_commands``): trainees
enrolled over HTTP, known to training, assessment and compensation through the bus, and exam
sessions. Then a warm-up run of each side, and 3 rounds taking turns (baseline and the four
services, each round starting one side further along).

During a service's run the other three are paused (SIGSTOP), as if they ran on machines of their
own: on these two shared cores their work (consuming the measured service's events) would
otherwise be measured as the command's cost. The measured service's own relay and projection
runners work within the timing, in its process; the broker routes and stores every message it
publishes within the timing too. After each run every service resumes and the suite waits until
all have caught up (relays, consumers, projections), outside the timing; the backlog and the time
to drain it are reported. One more side, "enrollment (all live)", repeats the enrolment command
with nothing paused: the whole system on two cores. Each side's resident memory is read from
``/proc/PID/status`` at the end of each of its runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg

from bench import cpu, http_baseline, http_commands, loadgen
from bench.common import BenchConfig, Row, comparison_row, fresh_database, log, percentile
from bench.http_servers import (
    CONSUMERS,
    HOST,
    SERVICES,
    Memory,
    Server,
    bench_settings,
    catch_up,
    gradeline,
    purge_queues,
    remove_namespace,
    serving,
)
from shared import db
from shared.settings import Settings

SUITE = "http"
CONNECTIONS = 64
REPS = 3
BASELINE = "FastAPI + asyncpg INSERT"
PUBLISHED = "FastAPI + asyncpg INSERT + aio-pika publish"
# Issue 15: enrolment at least as fast as the naive route that INSERTs and publishes (the bare
# INSERT's 0.60x of issue 3 is retired: on two cores the broker alone costs more than that).
GOAL_PUBLISHED_RATIO = 1.0
GOAL_P99_MS = 150.0
OWN_PROCESS_BARE = "bare app"
OWN_PROCESS_PUBLISHED = "bare app + publish"
SEED_SECONDS = 600.0
KNOWN_SECONDS = 180.0
# Where each consuming service keeps the trainees it learnt from enrollment's events.
KNOWN = {
    "training": "SELECT count(*) FROM known_trainees WHERE branch_id IS NOT NULL",
    "assessment": "SELECT count(*) FROM trainee_facts WHERE branch_id IS NOT NULL",
    "compensation": "SELECT count(*) FROM known_employees WHERE category IS NOT NULL",
}


@dataclass(frozen=True, slots=True)
class Durations:
    """Seconds of load per run; scale 1 gives about 135 s of load in all."""

    warmup: float
    run: float

    @classmethod
    def of(cls, config: BenchConfig) -> Durations:
        return cls(warmup=max(1.0, 3.0 * config.scale), run=max(1.0, 8.0 * config.scale))


@dataclass
class Side:
    name: str
    route: str
    server: Server
    requests: Iterator[bytes]
    expected: int
    about: str = ""
    settings: Settings | None = None  # Gradeline's: wait for its services after each run
    paused: list[Server] = field(default_factory=list)  # stopped during each run of this side
    kinds: dict[int, str] = field(default_factory=dict)  # pid -> process kind, for CPU accounting
    cpu: list[dict[str, float]] = field(default_factory=list)  # CPU seconds by kind, per run
    results: list[loadgen.LoadResult] = field(default_factory=list)
    memory: list[Memory] = field(default_factory=list)
    backlogs: list[tuple[int, float]] = field(default_factory=list)
    after_run: Callable[[], Awaitable[object]] | None = None  # outside the timing


async def load(side: Side, seconds: float) -> loadgen.LoadResult:
    for server in side.paused:
        server.pause()
    try:
        before = cpu.snapshot(side.kinds)
        result = await loadgen.run_load(
            HOST,
            side.server.port,
            side.requests,
            seconds=seconds,
            connections=CONNECTIONS,
            expected=side.expected,
        )
        side.cpu.append(cpu.spent(before, cpu.snapshot(side.kinds)))
    finally:
        for server in side.paused:
            server.resume()
    side.memory.append(side.server.memory())
    if result.failed:
        # Errors are cheaper than work: a run with any would flatter the side that failed.
        raise RuntimeError(
            f"{side.name}: {result.failed} requests failed ({dict(result.statuses)}); first: "
            f"{result.first_error[:500]!r}\n{side.server.output()}"
        )
    if side.after_run is not None:
        await side.after_run()
    if side.settings is not None:
        side.backlogs.append(await catch_up(side.settings, SERVICES))
    p50, p99 = (percentile(result.latencies_ms, pct) for pct in (50, 99))
    log(
        f"{SUITE}: {side.name}: {result.throughput:,.0f} req/s, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms ({result.succeeded:,} requests)"
    )
    return result


async def alternate_loads(sides: list[Side], durations: Durations) -> None:
    """A warm-up run of each side, then ``REPS`` rounds taking turns, each round starting one
    side further along (as ``common.alternate``), keeping each run's latencies and memory."""
    log(f"{SUITE}: warm-up, {durations.warmup:.0f} s per side")
    for side in sides:
        await load(side, durations.warmup)
    for rep in range(REPS):
        log(f"{SUITE}: round {rep + 1} of {REPS}, {durations.run:.0f} s per side")
        for k in range(len(sides)):
            side = sides[(rep + k) % len(sides)]
            side.results.append(await load(side, durations.run))


# --- seeding -----------------------------------------------------------------------------------


async def send_all(server: Server, requests: list[bytes], expected: int, what: str) -> None:
    result = await loadgen.run_load(
        HOST,
        server.port,
        iter(requests),
        seconds=SEED_SECONDS,
        connections=CONNECTIONS,
        expected=expected,
    )
    if result.failed or result.succeeded != len(requests):
        raise RuntimeError(
            f"seeding {what}: {dict(result.statuses)} of {len(requests)}; first: "
            f"{result.first_error[:500]!r}\n{server.output()}"
        )


async def wait_known(settings: Settings, count: int) -> None:
    """Until training, assessment and compensation know every seeded trainee (from the bus)."""
    for service, query in KNOWN.items():
        conn = await asyncpg.connect(
            db.dsn_for_database(settings.pg_dsn, settings.database_name(service))
        )
        try:
            async with asyncio.timeout(KNOWN_SECONDS):
                while await conn.fetchval(query) < count:
                    await asyncio.sleep(0.1)
        finally:
            await conn.close()


async def seed(
    settings: Settings, servers: dict[str, Server], trainees: int, sessions: int
) -> None:
    secret = settings.jwt_secret
    log(f"{SUITE}: seeding {trainees:,} trainees and {sessions} exam sessions")
    await send_all(
        servers["enrollment"], http_commands.branch_registrations(secret), 201, "branches"
    )
    await send_all(
        servers["enrollment"], http_commands.seed_enrolments(secret, trainees), 201, "enrolments"
    )
    await send_all(
        servers["assessment"], http_commands.open_sessions(secret, sessions), 201, "sessions"
    )
    await wait_known(settings, trainees)
    await catch_up(settings, SERVICES)


# --- rows --------------------------------------------------------------------------------------


def compare(
    side: Side, baseline: Side, measure: str, values: Any, *, against: str = BASELINE, **extra: Any
) -> Row:
    """A row of one measure of every run of ``side`` against the baseline's runs."""
    return comparison_row(
        SUITE,
        f"{side.name} {side.route}, {CONNECTIONS} clients: {measure}",
        (f"Gradeline {side.name}", [values(r) for r in side.results]),
        (against, [values(r) for r in baseline.results]),
        **extra,
    )


def published_rows(side: Side, published: Side) -> list[Row]:
    """Enrolment against the bare route that also publishes: throughput's goal is 1.0x."""
    note = (
        "The same runs as above, against `bench.http_baseline` with "
        f"{http_baseline.PUBLISH_VARIABLE}=1: the bare route, then one persistent message of an "
        "enrolment event's size published on a confirming channel and awaited, routed like "
        "Gradeline's events to the three consuming services' partition quorum queues (nobody "
        "consuming; purged after each run). That naive dual write loses the announcement if the "
        "process dies between INSERT and publish, which Gradeline's outbox does not; it shows "
        "what the broker alone costs here."
    )
    cpu_note = "user + system CPU time of every process (/proc) during each run, per request."
    return [
        compare(
            side,
            published,
            "throughput against INSERT + publish",
            lambda r: r.throughput,
            against=PUBLISHED,
            unit="req/s",
            goal=GOAL_PUBLISHED_RATIO,
            note=note,
        ),
        cpu_row(
            side,
            (PUBLISHED, published),
            "CPU per request, all processes, against INSERT + publish",
            None,
            None,
            cpu_note,
        ),
    ]


def latency(pct: float) -> Any:
    return lambda result: percentile(result.latencies_ms, pct)


def service_rows(side: Side, baseline: Side, seconds: float) -> list[Row]:
    backlogs = ", ".join(f"{b:,}" for b, _ in side.backlogs[-REPS:])
    catch_ups = ", ".join(f"{s:.1f}" for _, s in side.backlogs[-REPS:])
    others = (
        "the other three services paused during the run (as if on machines of their own); this "
        "service's relay and projections working within the timing"
        if side.paused
        else "nothing paused: training, assessment and compensation consume each enrolment as it "
        "is published, on the same two cores"
    )
    note = (
        f"{CONNECTIONS} keep-alive connections sending back to back for {seconds:.0f} s per run: "
        f"{side.about}; every request with an Idempotency-Key; {others}. What was left (relays, "
        f"consumers, projections) caught up after each run, outside the timing (behind by "
        f"{backlogs} events or messages at run end, caught up in {catch_ups} s)."
    )
    peak = max(m.peak_mib for m in side.memory)
    # The p99 goal is the command's; the all-live side shows what the rest of the system costs
    # beside it on the same two cores, for information.
    p99_goal: dict[str, Any] = {"min_value": GOAL_P99_MS} if side.paused else {}
    return [
        compare(side, baseline, "throughput", lambda r: r.throughput, unit="req/s", note=note),
        compare(
            side,
            baseline,
            "latency p50",
            latency(50),
            unit="ms",
            higher_is_better=False,
            note="the median latency of each run, as above.",
        ),
        compare(
            side,
            baseline,
            "latency p99",
            latency(99),
            unit="ms",
            higher_is_better=False,
            note="the 99th percentile latency of each run, as above.",
            **p99_goal,
        ),
        comparison_row(
            SUITE,
            f"{side.name}: RSS after load",
            (f"Gradeline {side.name}", [m.rss_mib for m in side.memory]),
            (BASELINE, [m.rss_mib for m in baseline.memory]),
            unit="MiB",
            higher_is_better=False,
            note=f"VmRSS of the service process at the end of each of its runs (peak VmHWM "
            f"{peak:.0f} MiB, seeding included); baseline: the bare app's after its runs.",
        ),
    ]


def per_request(side: Side, kinds: tuple[str, ...] | None) -> list[float]:
    """Milliseconds of CPU per request answered in each measured run, of the processes of
    ``kinds`` (every process when None)."""
    return [
        1000
        * (sum(spent.values()) if kinds is None else sum(spent.get(k, 0.0) for k in kinds))
        / result.succeeded
        # the last runs are the measured ones: the first was the warm-up
        for spent, result in zip(side.cpu[-len(side.results) :], side.results, strict=True)
    ]


def cpu_rows(side: Side, baseline: Side) -> list[Row]:
    """CPU per request during the runs (load window only), by process, against the bare app's:
    the service's own process, and every process of the machine together; for the enrolment
    command also PostgreSQL's and RabbitMQ's share."""
    own, bare = side.kinds[side.server.pid], baseline.kinds[baseline.server.pid]
    measures: list[tuple[str, tuple[str, ...] | None, tuple[str, ...] | None]] = [
        (f"CPU per request, {own} process", (own,), (bare,)),
        ("CPU per request, all processes", None, None),
    ]
    if side.name == "enrollment":
        measures += [
            ("CPU per request, PostgreSQL", (cpu.POSTGRESQL,), (cpu.POSTGRESQL,)),
            ("CPU per request, RabbitMQ", (cpu.RABBITMQ,), (cpu.RABBITMQ,)),
        ]
    note = (
        "user + system CPU time of the processes (/proc) during each measured run, divided by the "
        "requests it answered; the load generator counts among all processes."
    )
    return [
        cpu_row(side, (BASELINE, baseline), measure, mine, theirs, note)
        for measure, mine, theirs in measures
    ]


def cpu_row(
    side: Side,
    against: tuple[str, Side],
    measure: str,
    mine: tuple[str, ...] | None,
    theirs: tuple[str, ...] | None,
    note: str,
) -> Row:
    """CPU per request of ``side``'s processes of kinds ``mine`` against those of ``theirs`` on
    the other side, named as ``against`` says (every process when None)."""
    name, other = against
    return comparison_row(
        SUITE,
        f"{side.name}: {measure}",
        (f"Gradeline {side.name}", per_request(side, mine)),
        (name, per_request(other, theirs)),
        unit="ms",
        higher_is_better=False,
        note=note,
    )


def baseline_note(baseline: Side) -> str:
    """The one baseline every service is compared with, said once."""
    return (
        "Baseline of every service: `bench.http_baseline`, a bare FastAPI route validating an "
        "enrolment body as strictly as the enrollment service and doing one asyncpg INSERT "
        f"through `db.create_pool`, {len(baseline.results)} runs in the same rounds."
    )


# --- the suite ---------------------------------------------------------------------------------


async def create_baseline_table(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(http_baseline.DDL)
    finally:
        await conn.close()


async def measure(config: BenchConfig, settings: Settings, baseline_dsn: str) -> list[Row]:
    durations = Durations.of(config)
    trainees = config.size(2000, minimum=200)
    sessions = 8  # 6 scores per sitting: 8 x 6 x 2,000 requests, more than any run sends
    log(f"{SUITE}: starting the four services and the baselines (uvicorn subprocesses)")
    baseline_env = {http_baseline.DSN_VARIABLE: baseline_dsn}
    # The publishing baseline's exchange and queues: a namespace of their own, nobody consuming.
    bus = Settings(
        pg_dsn=settings.pg_dsn,
        amqp_url=settings.amqp_url,
        namespace=f"{settings.namespace}_pub",
        environment="development",
    )
    published_env = {
        **baseline_env,
        http_baseline.PUBLISH_VARIABLE: "1",
        "GRADELINE_AMQP_URL": bus.amqp_url,
        "GRADELINE_NAMESPACE": bus.namespace,
    }
    async with (
        gradeline(settings, SERVICES) as servers,
        serving("bench.http_baseline:create_app", baseline_env) as baseline_server,
        serving("bench.http_baseline:create_app", published_env) as published_server,
    ):
        await seed(settings, servers, trainees, sessions)
        ids = http_commands.seeded_ids(trainees)
        enrolments = iter(http_commands.Enrolments(settings.jwt_secret, prefix="b"))
        everyone = list(servers.values())
        kinds = {server.pid: name for name, server in servers.items()}
        kinds[baseline_server.pid] = OWN_PROCESS_BARE
        kinds[published_server.pid] = OWN_PROCESS_PUBLISHED
        baseline = Side(
            "bare", "POST /trainees", baseline_server, enrolments, 201, paused=everyone, kinds=kinds
        )
        announced = iter(http_commands.Enrolments(settings.jwt_secret, prefix="p"))
        published = Side(
            "bare + publish",
            "POST /trainees",
            published_server,
            announced,
            201,
            paused=everyone,
            kinds=kinds,
            after_run=lambda: purge_queues(bus, CONSUMERS),
        )
        commands = http_commands.commands(settings.jwt_secret, ids, sessions)
        sides = [baseline, published] + [
            Side(
                c.service,
                c.route,
                servers[c.service],
                c.requests,
                c.expected,
                c.about,
                settings,
                paused=[s for s in everyone if s is not servers[c.service]],
                kinds=kinds,
            )
            for c in commands
        ]
        enrol = next(c for c in commands if c.service == "enrollment")
        sides.append(
            Side(
                f"{enrol.service} (all live)",
                enrol.route,
                servers[enrol.service],
                enrol.requests,
                enrol.expected,
                enrol.about,
                settings,
                kinds=kinds,
            )
        )
        try:
            await alternate_loads(sides, durations)
        finally:
            await remove_namespace(bus)
    rows = [
        row
        for side in sides[2:]
        for row in [
            *service_rows(side, baseline, durations.run),
            *cpu_rows(side, baseline),
            *(published_rows(side, published) if side.name == "enrollment" else []),
        ]
    ]
    return [replace(rows[0], note=f"{rows[0].note} {baseline_note(baseline)}"), *rows[1:]]


async def run(config: BenchConfig) -> list[Row]:
    """Each service's representative command against a bare FastAPI + asyncpg endpoint."""
    settings = bench_settings(config.pg_dsn, config.amqp_url, SUITE)
    async with fresh_database(config.pg_dsn, SUITE) as baseline_dsn:
        await create_baseline_table(baseline_dsn)
        return await measure(config, settings, baseline_dsn)
