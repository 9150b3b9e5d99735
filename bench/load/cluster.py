"""The four services as child processes (as ``make run`` starts them), in a namespace and on
ports of their own, with a ``kill -9`` and a restart for the fault tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import httpx

from bench.http_servers import remove_namespace
from ops import launcher
from shared import db
from shared.keystore import KEYSTORE
from shared.settings import SERVICE_PORTS, Settings

SERVICES = ("enrollment", "training", "assessment", "compensation")
READY_SECONDS = 90.0


# Port offsets to choose from: the services' ports stay below the kernel's ephemeral range
# (32768 and up on Linux), where a port probed free can be taken by any outgoing connection
# before the service binds it.
OFFSETS = range(10000, 24000, 10)


def free_port_offset(attempts: int = 50) -> int:
    """An offset at which the four service ports are free right now (others run services too)."""
    for _ in range(attempts):
        offset = OFFSETS[uuid.uuid4().int % len(OFFSETS)]
        if all(_port_free(port + offset) for port in SERVICE_PORTS.values()):
            return offset
    raise RuntimeError("no free port offset found for the four services")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_settings(pg_dsn: str, amqp_url: str, namespace: str | None = None) -> Settings:
    ns = namespace or "l" + uuid.uuid4().hex[:12]
    return Settings(
        pg_dsn=pg_dsn,
        amqp_url=amqp_url,
        namespace=ns,
        port_offset=free_port_offset(),
        environment="test",
        jwt_secret="load-test-secret-for-hs256-signing-" + ns,
        seal_key="load-test-seal-key-for-hmac-sha256-" + ns,
        poll_interval_seconds=0.02,
    )


def child_env(settings: Settings) -> dict[str, str]:
    """The settings as the ``GRADELINE_*`` variables a service process reads."""
    return {
        "GRADELINE_PG_DSN": settings.pg_dsn,
        "GRADELINE_AMQP_URL": settings.amqp_url,
        "GRADELINE_NAMESPACE": settings.namespace,
        "GRADELINE_PORT_OFFSET": str(settings.port_offset),
        "GRADELINE_JWT_SECRET": settings.jwt_secret,
        "GRADELINE_SEAL_KEY": settings.seal_key.get_secret_value(),
        "GRADELINE_ENVIRONMENT": settings.environment,
        "GRADELINE_POLL_INTERVAL_SECONDS": str(settings.poll_interval_seconds),
    }


@dataclass
class Cluster:
    settings: Settings
    log_dir: Path
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # more GRADELINE_* for the children

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.settings.port(service)}"

    @property
    def urls(self) -> dict[str, str]:
        return {s: self.url(s) for s in SERVICES}

    def log_path(self, service: str) -> Path:
        return self.log_dir / f"{self.settings.namespace}-{service}.log"

    def start(self, service: str) -> None:
        self.children[service] = launcher.start_service(
            service,
            self.settings,
            env={**child_env(self.settings), **self.env},
            log_path=self.log_path(service),
        )

    def kill(self, service: str) -> None:
        """``kill -9``: no shutdown, no flush, connections dropped mid-request."""
        child = self.children[service]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)

    def stop(self) -> None:
        launcher.stop_all(list(self.children.values()))

    def log_tail(self, service: str, lines: int = 30) -> str:
        try:
            text = self.log_path(service).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_ready(self, services: tuple[str, ...] = SERVICES, seconds: float = 0) -> None:
        """Until every service's /ready answers 200; names the ones that did not, and why."""
        deadline = time.monotonic() + (seconds or READY_SECONDS)
        pending = set(services)
        async with httpx.AsyncClient(timeout=3.0) as client:
            while pending:
                for name in sorted(pending):
                    child = self.children[name]
                    if child.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited ({child.returncode}):\n{self.log_tail(name)}"
                        )
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(self.url(name) + "/ready")).status_code == 200:
                            pending.discard(name)
                if pending and time.monotonic() > deadline:
                    tails = "\n".join(f"{n}:\n{self.log_tail(n)}" for n in sorted(pending))
                    raise RuntimeError(f"not ready: {', '.join(sorted(pending))}\n{tails}")
                if pending:
                    await asyncio.sleep(0.2)

    async def unhealthy(self) -> list[str]:
        """Services whose /health fails: a background task (relay, consumer, projection
        runner) that died leaves the process up but unable to do its job."""
        found = []
        async with httpx.AsyncClient(timeout=5.0) as client:
            for name in SERVICES:
                try:
                    answer = await client.get(self.url(name) + "/health")
                except httpx.TransportError as exc:
                    found.append(f"{name}: {exc!r}")
                    continue
                if answer.status_code != 200:
                    found.append(f"{name}: {answer.status_code} {answer.text[:300]}")
        return found

    async def drop(self) -> None:
        """The namespace's databases, and its exchanges and queues on the broker (quorum
        queues that nobody consumes would otherwise stay, fifteen per run)."""
        for service in (*SERVICES, KEYSTORE):  # and the key database they shared
            with contextlib.suppress(Exception):
                await db.drop_database(self.settings.pg_dsn, self.settings.database_name(service))
        with contextlib.suppress(OSError, aio_pika.exceptions.AMQPError):
            await remove_namespace(self.settings)


@contextlib.contextmanager
def started(
    settings: Settings, log_dir: Path, env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """The four services running (ready) in ``settings``' namespace, ``env`` added to their
    environment; stopped afterwards."""
    cluster = Cluster(settings, log_dir, env=dict(env or {}))
    try:
        for service in SERVICES:
            cluster.start(service)
        asyncio.run(cluster.wait_ready())
        yield cluster
    finally:
        cluster.stop()
