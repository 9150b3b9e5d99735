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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
from rich.console import Console

from ops.client import SERVICES, DemoError
from ops.demo import DEFAULT_SEED, DEFAULT_TRAINEES, load_demo
from ops.identity_provider import ProviderError, RunningProvider, start_provider
from ops.report import DemoSummary, print_summary
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


LOGS = ROOT / ".run" / "logs"


def log_file(name: str) -> Path:
    return LOGS / f"{name}.log"


def start_service(
    name: str,
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen[bytes]:
    """The service as a child process; its (JSON) log goes to ``.run/logs/<name>.log`` so the
    terminal keeps the demo's progress and the summary.

    ``env`` (added to this process's environment) configures the child, which reads its own
    settings from ``GRADELINE_*`` variables: the load tool and the fault tests start services in
    a namespace and on ports of their own that way, logging to ``log_path``."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"services.{name}.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(settings.port(name)),
        "--no-access-log",
    ]
    target = log_path or log_file(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, **env} if env is not None else None
    with target.open("ab") as log:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=child_env
        )


def log_tail(name: str, lines: int = 15) -> str:
    try:
        text = log_file(name).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


READY_SECONDS = 120.0


def service_url(settings: Settings, name: str) -> str:
    return f"http://127.0.0.1:{settings.port(name)}"


def wait_ready(
    settings: Settings,
    services: list[str],
    children: list[subprocess.Popen[bytes]],
    interrupted: Callable[[], bool],
) -> str | None:
    """None once every service's /ready answers 200 (database, broker, consumers declared);
    else why not: a child exited, the time ran out, or a signal came."""
    deadline = time.monotonic() + READY_SECONDS
    pending = set(services)
    with httpx.Client(timeout=3.0) as client:
        while pending:
            if interrupted():
                return "interrupted while the services started"
            dead = [
                f"{n} (exit code {c.returncode})"
                for n, c in zip(services, children, strict=True)
                if c.poll() is not None
            ]
            if dead:
                return f"exited during start-up: {', '.join(dead)}"
            for name in sorted(pending):
                try:
                    if client.get(service_url(settings, name) + "/ready").status_code == 200:
                        pending.discard(name)
                except httpx.TransportError:
                    pass
            if pending and time.monotonic() > deadline:
                return f"not ready after {READY_SECONDS:.0f} s: {', '.join(sorted(pending))}"
            if pending:
                time.sleep(0.3)
    return None


class DemoRun:
    """The demo, loaded in this (main) thread; a signal cancels it from the launcher's handler."""

    def __init__(self) -> None:
        self.running: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None

    def cancel(self) -> None:
        if self.running is not None:
            loop, task = self.running
            loop.call_soon_threadsafe(task.cancel)

    def load(self, settings: Settings) -> bool:
        """Load the demo and print the summary; False when interrupted."""
        try:
            seed = int(os.environ.get("DEMO_SEED", DEFAULT_SEED))
            trainees = int(os.environ.get("DEMO_TRAINEES", DEFAULT_TRAINEES))
        except ValueError as exc:
            say(f"demo skipped: DEMO_SEED and DEMO_TRAINEES are whole numbers ({exc})")
            return True
        console = Console()
        urls = {name: service_url(settings, name) for name in SERVICES}

        async def go() -> DemoSummary:
            task = asyncio.current_task()
            assert task is not None
            self.running = (asyncio.get_running_loop(), task)
            try:
                return await load_demo(
                    urls, secret=settings.jwt_secret, seed=seed, trainees=trainees, console=console
                )
            finally:
                self.running = None

        say(
            f"loading the demo: {trainees} trainees over five branches, seed {seed}"
            " (DEMO=0 skips it; DEMO_TRAINEES, DEMO_SEED change it)"
        )
        try:
            summary = asyncio.run(go())
        except asyncio.CancelledError:
            return False
        except DemoError as exc:
            say(f"demo failed: {exc}")
            return True
        print_summary(summary, console)
        return True


def start_identity_provider(settings: Settings) -> RunningProvider | None:
    """The development OpenID Connect provider, unless GRADELINE_OIDC_ISSUER names one already;
    the services (children) trust it through that variable. Without Node.js the services run
    with development tokens only."""
    if settings.oidc_issuer is not None:
        say(f"identity: the services trust {settings.oidc_issuer} (GRADELINE_OIDC_ISSUER)")
        return None
    try:
        provider = start_provider(settings, log_path=log_file("identity-provider"))
    except (ProviderError, OSError, subprocess.CalledProcessError) as exc:
        say(f"identity provider not started ({exc}); only `gradeline token` tokens work")
        return None
    os.environ["GRADELINE_OIDC_ISSUER"] = provider.issuer
    return provider


def print_sign_in(provider: RunningProvider | None) -> None:
    if provider is None:
        return
    say(f"identity provider: {provider.issuer} (development only; sign in as a user below)")
    for user in provider.users:
        claims = ", ".join(
            f"{k}={'+'.join(v) if isinstance(v, list) else v}"
            for k, v in user.token_claims().items()
        )
        say(f"  {user.sub:<22} {claims}  {user.name}")
    for client in provider.service_clients:
        say(
            f"  client {client.client_id} (client credentials, roles {'+'.join(client.roles)}):"
            " GRADELINE_CLI_CLIENT_ID/GRADELINE_CLI_CLIENT_SECRET, docs/identity.md"
        )


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
    stopping = False
    demo = DemoRun()

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        demo.cancel()

    # Installed before the first child starts: from then on a signal always stops them all.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    provider = start_identity_provider(settings)
    children = [start_service(name, settings) for name in services]
    try:
        say(f"starting {', '.join(services)}; logs in {LOGS.relative_to(ROOT)}/<service>.log")
        problem = wait_ready(settings, services, children, lambda: stopping)
        if problem is not None:
            say(problem)
            for name, child in zip(services, children, strict=True):
                if child.poll() is not None:
                    say(f"last lines of {log_file(name)}:\n{log_tail(name)}")
            return 1
        if os.environ.get("DEMO", "1") == "0":
            say("demo data: skipped (DEMO=0)")
        elif set(services) != set(SERVICES):
            say("demo data: needs all four services")
        elif not demo.load(settings):
            say("interrupted: the demo stops here (run it again to resume: writes are idempotent)")
            return 0
        print_sign_in(provider)
        for name in services:
            say(f"{name}: {service_url(settings, name)}/docs")
        say(
            f"dashboard: {service_url(settings, 'assessment')}/dashboard  (token: "
            "`.venv/bin/gradeline token --sub boss --role management --role auditor`)"
        )
        say(
            f"workbench: {service_url(settings, 'enrollment')}/app/  (sign in as clerk-bo-east,"
            " say, to enrol trainees)"
        )
        say("running; Ctrl-C stops every service")
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
        exited = [n for n, c in zip(services, children, strict=True) if c.poll() is not None]
        if exited and not stopping:
            say(f"exited unexpectedly: {', '.join(exited)} (see {LOGS.relative_to(ROOT)})")
            return 1
        return 0
    finally:
        say("stopping")
        stop_all(children)
        if provider is not None:
            provider.stop()


if __name__ == "__main__":
    sys.exit(main())
