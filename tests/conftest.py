"""Fixtures: real PostgreSQL and RabbitMQ from the settings (localhost defaults); each test gets its
own namespace (databases ``<ns>_*``, exchanges and queues ``<ns>.*``) so tests can run in parallel.
Where a server cannot be reached and a Docker engine is present, testcontainers starts it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import pytest

from ops.identity_provider import RunningProvider, demo_users, start_provider
from shared import db
from shared.eventstore import PostgresEventStore
from shared.keystore import KEYSTORE
from shared.settings import Settings
from tests.support import fresh_settings, new_namespace

# pytest-xdist starts its workers with COLUMNS=80, which rich (the `gradeline` command's console)
# reads once, at import: on two workers or on one, the command's tables print alike.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _docker_available() -> bool:
    return shutil.which("docker") is not None and os.path.exists("/var/run/docker.sock")


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    dsn = Settings().pg_dsn
    if _reachable(dsn, 5432):
        yield dsn
        return
    if not _docker_available():
        pytest.fail(f"PostgreSQL is not reachable at {dsn} and no Docker engine is present")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:15", driver=None) as container:
        yield container.get_connection_url()


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    url = Settings().amqp_url
    if _reachable(url, 5672):
        yield url
        return
    if not _docker_available():
        pytest.fail(f"RabbitMQ is not reachable at {url} and no Docker engine is present")
    from testcontainers.rabbitmq import RabbitMqContainer

    with RabbitMqContainer("rabbitmq:3.13") as container:
        # Consumers partition with the consistent-hash exchange (ADR 0002).
        container.exec(["rabbitmq-plugins", "enable", "rabbitmq_consistent_hash_exchange"])
        params = container.get_connection_params()
        yield f"amqp://guest:guest@{params.host}:{params.port}/"


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[RunningProvider]:
    """The development OpenID Connect provider (ops/identity_provider.py), started once per
    session on a free port, with the demo users and the test users of
    ``tests.support.OIDC_TEST_USERS``. Tokens: ``tests.support.provider_token(provider, sub)``;
    settings trusting it: ``tests.support.trusting(settings, provider)``."""
    from tests.support import OIDC_TEST_USERS, free_port

    users = [*demo_users(), *OIDC_TEST_USERS]
    provider = start_provider(Settings(), port=free_port(), users=users)
    yield provider
    provider.stop()


@pytest.fixture
def namespace() -> str:
    return new_namespace()


@pytest.fixture
async def settings(pg_dsn: str, amqp_url: str, namespace: str) -> AsyncIterator[Settings]:
    """The test's settings; afterwards, what it may have declared on the broker is deleted."""
    settings = fresh_settings(pg_dsn, amqp_url, namespace)
    yield settings
    # The key database every service of the test shared (shared/keystore), once they stopped.
    await db.drop_database(settings.pg_dsn, settings.database_name(KEYSTORE))
    with contextlib.suppress(OSError, aio_pika.exceptions.AMQPError):
        conn = await aio_pika.connect(settings.amqp_url)
        try:
            await _delete_namespace(conn, settings)
        finally:
            await conn.close()


@pytest.fixture
async def service_db(settings: Settings) -> AsyncIterator[str]:
    """A migrated database of its own for this test; dropped afterwards. Yields its DSN."""
    name = settings.database_name("core")
    await db.ensure_database(settings.pg_dsn, name)
    dsn = db.dsn_for_database(settings.pg_dsn, name)
    pool = await db.create_pool(dsn, size=2)
    await db.migrate(pool, [db.CORE_MIGRATIONS])
    await pool.close()
    yield dsn
    await db.drop_database(settings.pg_dsn, name)


@pytest.fixture
async def pg_pool(service_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(service_db, size=10)
    yield pool
    await pool.close()


@pytest.fixture
async def pg_store(pg_pool: asyncpg.Pool) -> PostgresEventStore:
    return PostgresEventStore(pg_pool, "core")


@pytest.fixture
async def amqp(settings: Settings) -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    conn = await aio_pika.connect_robust(settings.amqp_url)
    yield conn
    await conn.close()


# Services whose queues and exchanges tests may declare (real services and test stand-ins).
_CONSUMERS = ("enrollment", "training", "assessment", "compensation", "sink", "core", "things")


async def _delete_namespace(conn: aio_pika.abc.AbstractConnection, settings: Settings) -> None:
    ns = settings.namespace
    queues = [f"{ns}.capture"]
    exchanges = [settings.exchange_name()]
    for service in _CONSUMERS:
        queues += [f"{ns}.{service}.p{i}" for i in range(settings.consumer_partitions)]
        queues.append(f"{ns}.{service}.dlq")
        exchanges += [f"{ns}.{service}.in", f"{ns}.{service}.dlx"]
    for name in queues:
        with contextlib.suppress(aio_pika.exceptions.AMQPError):
            channel = await conn.channel()
            await channel.queue_delete(name)
            await channel.close()
    for name in exchanges:
        with contextlib.suppress(aio_pika.exceptions.AMQPError):
            channel = await conn.channel()
            await channel.exchange_delete(name)
            await channel.close()
