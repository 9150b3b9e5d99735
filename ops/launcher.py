"""``make run``: check the servers, start every service, load the demo, stop all on a signal."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aio_pika
import asyncpg

from shared.settings import SERVICE_PORTS, Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "compose.yaml"


def say(message: str) -> None:
    print(f"[gradeline] {message}", flush=True)


async def _postgres_up(settings: Settings) -> str | None:
    try:
        conn = await asyncpg.connect(settings.pg_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL is not reachable at {settings.pg_dsn} ({exc})"
    await conn.close()
    return None


async def _rabbitmq_up(settings: Settings) -> str | None:
    try:
        conn = await aio_pika.connect(settings.amqp_url, timeout=5)
    except Exception as exc:
        return f"RabbitMQ is not reachable at {settings.amqp_url} ({exc!r})"
    await conn.close()
    return None


async def missing_servers(settings: Settings) -> list[str]:
    found = await asyncio.gather(_postgres_up(settings), _rabbitmq_up(settings))
    return [m for m in found if m]


def docker_engine_running() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False)
    return probe.returncode == 0


def ensure_servers(settings: Settings) -> bool:
    missing = asyncio.run(missing_servers(settings))
    if not missing:
        return True
    if docker_engine_running() and COMPOSE.exists():
        say("starting PostgreSQL and RabbitMQ with Docker Compose")
        subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "up", "-d", "--wait", "postgres", "rabbitmq"],
            check=True,
        )
        missing = asyncio.run(missing_servers(settings))
    for line in missing:
        say(line)
    if missing:
        say(
            "Start them (or set GRADELINE_PG_DSN / GRADELINE_AMQP_URL), e.g. on Debian: "
            "`pg_ctlcluster 15 main start` and `rabbitmq-server -detached`; "
            "then `rabbitmq-plugins enable rabbitmq_consistent_hash_exchange`."
        )
    return not missing


def available_services() -> list[str]:
    return [s for s in SERVICE_PORTS if importlib.util.find_spec(f"services.{s}.app") is not None]


def start_service(name: str, settings: Settings) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", f"services.{name}.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(settings.port(name)), "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT)


def stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


def main() -> int:
    settings = Settings()
    if not ensure_servers(settings):
        return 1
    services = available_services()
    if not services:
        say("PostgreSQL and RabbitMQ are reachable; the event-sourcing core is in place.")
        say(
            "No service is built yet: enrollment, training, assessment and compensation"
            " arrive next."
        )
        return 0
    children = [start_service(name, settings) for name in services]
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for name in services:
        say(f"{name}: http://127.0.0.1:{settings.port(name)}/docs")
    if os.environ.get("DEMO", "1") != "0":
        say("demo data: not available yet")
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
    finally:
        say("stopping")
        stop_all(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
