"""Servers for the HTTP suites: uvicorn subprocesses, their memory, and Gradeline's backlog.

Every server (a Gradeline service or the bare baseline) runs under the same uvicorn command line,
so that a difference in flags is never measured as Gradeline's. A service runs in a namespace of
its own (databases, exchanges and queues prefixed by it), removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aio_pika
import asyncpg

from bench import loadgen
from bench.common import log
from services.assessment import app as assessment_app
from services.compensation import app as compensation_app
from services.enrollment import app as enrollment_app
from services.training import app as training_app
from shared import db
from shared.consumer import Topology, queue_depths
from shared.keystore import KEYSTORE
from shared.projections import Projection
from shared.relay import checkpoint_name
from shared.settings import Settings

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
# One command line for every server: any difference would be measured as Gradeline's.
UVICORN_FLAGS = (
    "--workers",
    "1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
)
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0
CATCH_UP_SECONDS = 180.0

SERVICES = ("enrollment", "training", "assessment", "compensation")
PROJECTIONS: dict[str, Sequence[Projection]] = {
    "enrollment": enrollment_app.PROJECTIONS,
    "training": training_app.PROJECTIONS,
    "assessment": assessment_app.PROJECTIONS,
    "compensation": compensation_app.PROJECTIONS,
}
CONSUMERS = ("training", "assessment", "compensation")  # enrollment consumes nothing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Memory:
    """A process's resident set now and its peak since it started, in MiB (/proc/PID/status)."""

    rss_mib: float
    peak_mib: float


def memory_of(pid: int) -> Memory:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return Memory(fields["VmRSS"], fields["VmHWM"])


@dataclass
class Server:
    """A uvicorn subprocess serving ``app`` (a factory) on ``port``."""

    app: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    stderr: IO[bytes] = field(default_factory=tempfile.TemporaryFile)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        command = [
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--host",
            HOST,
            "--port",
            str(self.port),
            *UVICORN_FLAGS,
        ]
        # stdout is the services' JSON log (one line per request at INFO): read by nobody here.
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self.stderr,
        )

    async def wait_ready(self) -> None:
        """Uvicorn accepts connections only once the lifespan (migrations, pools) has run."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.app} exited at start-up:\n{self.output()}")
            with contextlib.suppress(OSError):  # not listening yet
                if (await loadgen.get(HOST, self.port, "/health")).status == 200:
                    return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.app} not up after {STARTUP_SECONDS} s:\n{self.output()}")

    def memory(self) -> Memory:
        return memory_of(self.pid)

    def pause(self) -> None:
        """SIGSTOP: the process keeps its connections and state, and uses no CPU until resumed
        (messages for it wait in its queues, events for its relay in its table)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

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
            log(f"{self.app} did not stop within {STOP_SECONDS} s; killing it")
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
        await server.wait_ready()
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
        "GRADELINE_POLL_INTERVAL_SECONDS": str(settings.poll_interval_seconds),
    }


def bench_settings(pg_dsn: str, amqp_url: str, label: str) -> Settings:
    namespace = f"bench{label}{os.urandom(4).hex()}"
    return Settings(
        pg_dsn=pg_dsn, amqp_url=amqp_url, namespace=namespace, environment="development"
    )


@asynccontextmanager
async def gradeline(
    settings: Settings, services: Sequence[str]
) -> AsyncIterator[dict[str, Server]]:
    """``services`` running in ``settings``' namespace, started together (their migrations and
    start-ups overlap); their databases, exchanges and queues removed afterwards."""
    env = gradeline_env(settings)
    servers = {name: Server(f"services.{name}.app:create_app", env) for name in services}
    async with AsyncExitStack() as stack:
        stack.push_async_callback(remove_namespace, settings)
        for server in servers.values():
            stack.push_async_callback(server.stop)
            await server.start()
        await asyncio.gather(*(server.wait_ready() for server in servers.values()))
        yield servers


async def remove_namespace(settings: Settings) -> None:
    """The services' databases (and their key database), exchanges and queues: a benchmark
    leaves nothing behind."""
    for service in (*SERVICES, KEYSTORE):
        await db.drop_database(settings.pg_dsn, settings.database_name(service))
    names: list[tuple[str, str]] = [("exchange", settings.exchange_name())]
    for service in CONSUMERS:
        topology = Topology(settings.namespace, service, settings.consumer_partitions)
        names += [("queue", topology.partition_queue(i)) for i in range(topology.partitions)]
        names += [
            ("queue", topology.dead_letter_queue),
            ("exchange", topology.partition_exchange),
            ("exchange", topology.dead_letter_exchange),
        ]
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        for kind, name in names:
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                channel = await connection.channel()
                if kind == "queue":
                    await channel.queue_delete(name)
                else:
                    await channel.exchange_delete(name)
                await channel.close()
    finally:
        await connection.close()


async def purge_queues(settings: Settings, services: Sequence[str]) -> None:
    """Empty the partition queues of ``services`` in ``settings``' namespace (messages nobody
    consumes, such as the publishing baseline's)."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        for service in services:
            topology = Topology(settings.namespace, service, settings.consumer_partitions)
            for index in range(topology.partitions):
                queue = await channel.get_queue(topology.partition_queue(index), ensure=False)
                await queue.purge()
    finally:
        await connection.close()


# --- Gradeline's background work ---------------------------------------------------------------


async def behind(conn: asyncpg.Connection, service: str) -> int:
    """Events and inbox entries one service stored but has not yet published (relay) or applied
    (every projection)."""
    heads = await conn.fetchrow(
        "SELECT (SELECT coalesce(max(position), 0) FROM events) AS events,"
        " (SELECT coalesce(max(seq), 0) FROM inbox) AS inbox"
    )
    assert heads is not None  # an aggregate without GROUP BY returns one row
    wanted = {checkpoint_name(service): heads["events"]}
    for projection in PROJECTIONS[service]:
        for source in projection.sources:
            wanted[projection.checkpoint(source)] = heads[source]
    rows = await conn.fetch(
        "SELECT name, position FROM checkpoints WHERE name = ANY($1::text[])", list(wanted)
    )
    done = {row["name"]: row["position"] for row in rows}
    return sum(max(0, head - done.get(name, 0)) for name, head in wanted.items())


async def backlog(settings: Settings, services: Sequence[str]) -> int:
    """Everything the running ``services`` still have to do: unpublished or unprojected events,
    messages waiting in their partition queues."""
    total = 0
    for service in services:
        dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(service))
        conn = await asyncpg.connect(dsn)
        try:
            total += await behind(conn, service)
        finally:
            await conn.close()
        if service in CONSUMERS:
            depths = await queue_depths(settings, service)
            # Dead letters wait for an operator, not for the service: they are no backlog.
            total += sum(n for name, n in depths.items() if not name.endswith(".dlq"))
    return total


async def catch_up(settings: Settings, services: Sequence[str]) -> tuple[int, float]:
    """Wait until the services have no backlog (seen twice in a row: a message being handled is
    in neither a queue nor a table); the backlog found first and the seconds it took."""
    started = time.perf_counter()
    first = await backlog(settings, services)
    quiet = 0
    async with asyncio.timeout(CATCH_UP_SECONDS):
        while quiet < 2:
            quiet = quiet + 1 if await backlog(settings, services) == 0 else 0
            await asyncio.sleep(0.1)
    return first, time.perf_counter() - started
