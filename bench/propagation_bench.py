"""The propagation suite: how long after an enrolment assessment knows the trainee.

Gradeline: the enrollment and assessment services as uvicorn subprocesses (``bench.http_servers``)
in a namespace of their own. Enrolments are posted over HTTP at a modest, steady rate; each one's
latency runs from sending the ``POST /trainees`` until assessment's read model of the trainees it
knows (``trainee_facts``, what its exam routes check, R-14/R-21) holds the trainee: the append,
enrollment's relay, RabbitMQ, assessment's partitioned consumer (inbox row and effect in one
transaction). A watcher polls that table every 2 ms, so a figure may be up to 2 ms late.

Baseline: the same number of bare aio-pika publishes (persistent, with confirms) at the same rate
into a plain queue, consumed in this process; latency from publish to receipt.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from bench import http_commands, loadgen
from bench.bus_bench import bare_latencies, paced
from bench.common import BenchConfig, Row, comparison_row, log, percentile
from bench.http_servers import HOST, Server, bench_settings, gradeline
from shared import db
from shared.settings import Settings

SUITE = "propagation"
RATE = 50  # enrolments per second: a busy day's pace, well below the services' capacity
CONNECTIONS = 8
POLL_SECONDS = 0.002
SETTLE_SECONDS = 60.0
BASELINE = "aio-pika publish → consume"


async def watch(dsn: str, sent: dict[str, float], seen: dict[str, float], count: int) -> None:
    """Record when each sent trainee first shows in assessment's ``trainee_facts``."""
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(SETTLE_SECONDS + count / RATE):
            while len(seen) < count:
                pending = [t for t in sent if t not in seen]
                if pending:
                    found = await conn.fetch(
                        "SELECT trainee_id FROM trainee_facts"
                        " WHERE trainee_id = ANY($1::text[]) AND branch_id IS NOT NULL",
                        pending,
                    )
                    now = time.perf_counter()
                    for row in found:
                        seen[row["trainee_id"]] = now
                await asyncio.sleep(POLL_SECONDS)
    finally:
        await conn.close()


async def register_branches(settings: Settings, enrollment: Server) -> None:
    """The branches the enrolments name, registered first (R-2)."""
    conn = await loadgen.connect(HOST, enrollment.port)
    try:
        for request in http_commands.branch_registrations(settings.jwt_secret):
            status, _, body = await conn.request(request)
            if status != 201:
                raise RuntimeError(f"branch: {status} {body[:300]!r}\n{enrollment.output()}")
    finally:
        conn.close()


async def gradeline_latencies(settings: Settings, enrollment: Server, count: int) -> list[float]:
    enrolments = http_commands.Enrolments(settings.jwt_secret, prefix="p")
    connections: asyncio.Queue[loadgen.Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        connections.put_nowait(await loadgen.connect(HOST, enrollment.port))
    await register_branches(settings, enrollment)
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}

    async def enrol(n: int) -> None:
        conn = await connections.get()
        try:
            sent[http_commands.trainee_id("p", n)] = time.perf_counter()
            status, _, body = await conn.request(enrolments.request(n))
        finally:
            connections.put_nowait(conn)
        if status != 201:
            raise RuntimeError(f"enrolment {n}: {status} {body[:300]!r}\n{enrollment.output()}")

    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name("assessment"))
    watcher = asyncio.create_task(watch(dsn, sent, seen, count))
    try:
        await paced(RATE, count, enrol)
        await watcher
    finally:
        watcher.cancel()
        while not connections.empty():
            connections.get_nowait().close()
    return [(seen[t] - sent[t]) * 1000 for t in sent]


def rows(system: list[float], baseline: list[float]) -> list[Row]:
    note = (
        f"{len(system)} enrolments at {RATE}/s over HTTP (8 keep-alive connections), latency "
        "from sending `POST /trainees` until assessment's `trainee_facts` holds the trainee "
        f"(polled every {POLL_SECONDS * 1000:.0f} ms); enrollment and assessment with their "
        f"relays, consumers and projections as subprocesses. Baseline: {len(baseline)} bare "
        "aio-pika publishes with confirms at the same rate into a plain queue, latency to receipt."
    )
    return [
        comparison_row(
            SUITE,
            f"enrolment → assessment knows the trainee, p{pct}",
            ("Gradeline", [percentile(system, pct)]),
            (BASELINE, [percentile(baseline, pct)]),
            unit="ms",
            higher_is_better=False,
            note=note if pct == 50 else "as above.",
        )
        for pct in (50, 99)
    ]


async def run(config: BenchConfig) -> list[Row]:
    count = config.size(300, minimum=60)
    settings = bench_settings(config.pg_dsn, config.amqp_url, SUITE)
    log(f"{SUITE}: starting enrollment and assessment; {count} enrolments at {RATE}/s")
    async with gradeline(settings, ("enrollment", "assessment")) as servers:
        system = await gradeline_latencies(settings, servers["enrollment"], count)
    baseline = await bare_latencies(
        config.amqp_url, f"{settings.namespace}.propagation", count, RATE
    )
    log(f"{SUITE}: p99 {percentile(system, 99):.1f} ms; baseline {percentile(baseline, 99):.2f} ms")
    return rows(system, baseline)
