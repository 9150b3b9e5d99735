"""Faults mid-load, each bounded: a service killed with SIGKILL and restarted, every AMQP
connection closed by the broker, PostgreSQL restarted. After each: nothing lost, nothing
duplicated, every projection converged (within 10 s) to its rebuild, grades and payslips
re-derive (R-22, R-25 to R-32)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bench.load.cluster import Cluster
from tests.load.harness import config, failures, load_with_fault

pytestmark = pytest.mark.timeout(120)
TRAINEES = 8
STRIKE_AFTER = 120  # answers in: the load is well under way (a round is about 50 per trainee)


async def run(*command: str) -> str:
    """A command-line tool, bounded; its output (the assert names what it said on failure)."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    assert process.returncode == 0, f"{' '.join(command)}: {output.decode(errors='replace')}"
    return output.decode(errors="replace")


async def test_a_service_killed_mid_load_and_restarted_loses_nothing(services: Cluster) -> None:
    """kill -9 of assessment (consumer of two services, relay to compensation, the busiest
    deciders): requests in flight fail, clients retry under the same keys, the restarted process
    redelivers its unacknowledged messages into its inbox once."""

    async def kill_and_restart() -> None:
        services.kill("assessment")
        await asyncio.sleep(0.5)  # clients hit a closed port meanwhile
        services.start("assessment")
        await services.wait_ready(("assessment",), seconds=60)

    outcome, results = await load_with_fault(
        services, config(seed=201, trainees=TRAINEES), kill_and_restart, STRIKE_AFTER
    )
    assert failures(outcome, results) == []
    assert sum(outcome.recorder.transport_errors.values()) > 0  # the kill was felt


@pytest.mark.serial
async def test_broker_closing_every_connection_mid_load_loses_nothing(services: Cluster) -> None:
    """rabbitmqctl close_all_connections: relays and consumers reconnect and resume from their
    checkpoints; what was published but not yet acknowledged is redelivered, inboxes keep it
    once."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed here (a broker in a container?)")

    async def close_all() -> None:
        await run("rabbitmqctl", "close_all_connections", "issue 7 fault test")

    outcome, results = await load_with_fault(
        services, config(seed=202, trainees=TRAINEES), close_all, STRIKE_AFTER
    )
    assert failures(outcome, results) == []


def postgres_cluster() -> tuple[str, str] | None:
    """(version, name) of the local Debian PostgreSQL cluster, when pg_ctlcluster runs it."""
    if shutil.which("pg_ctlcluster") is None:
        return None
    for version in sorted(Path("/etc/postgresql").glob("*/main"), reverse=True):
        return version.parent.name, "main"
    return None


@pytest.mark.serial
async def test_postgres_restart_mid_load_loses_nothing(services: Cluster) -> None:
    """A PostgreSQL restart: every pooled and dedicated connection dies; requests fail and are
    retried, relays, consumers and projection runners reconnect and resume from their
    checkpoints. Kept short (a restart, not a stop): other tests share the server."""
    found = postgres_cluster()
    if found is None:
        pytest.skip("no pg_ctlcluster-managed PostgreSQL here (testcontainers or remote server)")
    version, name = found

    async def restart() -> None:
        await run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart")

    outcome, results = await load_with_fault(
        services, config(seed=203, trainees=TRAINEES), restart, STRIKE_AFTER
    )
    assert failures(outcome, results) == []
