"""PostgreSQL plumbing: per-service databases, connection pools with orjson codecs, migrations."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

# A connection of one's own or one borrowed from a pool: both run queries and transactions.
Conn = asyncpg.Connection | PoolConnectionProxy

MIGRATION_LOCK = 7265616401  # advisory lock held while migrations run

# The database is away (down, restarting, connection lost), not a bug: background workers wait
# and retry rather than fail, and never count it against a message. A restart shows as all of
# these: a dropped socket, "terminating connection due to administrator command" (57P01) for
# the queries running, then "the database system is shutting down / starting up" (57P03).
DATABASE_AWAY: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError and ConnectionRefusedError
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    # A connection lost mid-operation can leave asyncpg's protocol in a state it refuses to
    # leave ("cannot switch to state 15; another operation is in progress"): seen in a restart.
    asyncpg.InternalClientError,
)


def dsn_for_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def ensure_database(dsn: str, database: str) -> None:
    """Create ``database`` on the server of ``dsn`` unless it exists (safe when racing)."""
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # A sibling process may create it meanwhile: that is success too.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def drop_database(dsn: str, database: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


# Every statement is planned when it runs, with its values and the tables as they are then.
# PostgreSQL otherwise settles, after five runs of a prepared statement, on one generic plan per
# connection: for a table created empty that is often a sequential scan, kept while the table
# grows until an ANALYZE invalidates it. Where autovacuum is off or behind (the CI machine runs
# without it) that hit every service: the inbox check, the relay's and projections' head query,
# training's trainee lookup (auto_explain over the HTTP suite), and appends (7x slower by 50,000
# events). Planning these short statements afresh costs less than one such scan. The group
# commit's function, the store's hottest path, keeps cached plans (migration 0010 made them safe).
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
# PostgreSQL's own plan caching, for connections measured against ours (the benchmarks' raw
# baselines), so that they are not re-planned per statement on Gradeline's account.
POSTGRES_DEFAULT_PLANS = {"plan_cache_mode": "auto"}


async def init_connection(conn: asyncpg.Connection) -> None:
    """orjson for json/jsonb: 2.5x faster reads than the stdlib codec."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
            format="text",
        )


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Skip the pool's reset query on release: nothing here leaves session state behind."""


async def create_pool(dsn: str, *, size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    kwargs["server_settings"] = {**SERVER_SETTINGS, **kwargs.get("server_settings", {})}
    pool = await asyncpg.create_pool(
        dsn, min_size=min(2, size), max_size=size, init=init_connection, reset=_no_reset, **kwargs
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """A dedicated connection (for session locks, listeners), with the same codecs as the pool."""
    conn = await asyncpg.connect(dsn, server_settings=SERVER_SETTINGS)
    await init_connection(conn)
    return conn


CORE_MIGRATIONS = Path(__file__).parent / "migrations"


def _migration_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.sql") if p.name[:4].isdigit())


async def migrate(pool_or_conn: asyncpg.Pool | asyncpg.Connection, folders: Sequence[Path]) -> int:
    """Apply the versioned ``NNNN_name.sql`` files of each folder once, in order.

    Each folder is a component (the core, then the service); a file's checksum is recorded and an
    applied file that has since changed is an error rather than a silent divergence. Runs under an
    advisory lock so replicas starting together migrate once. Returns how many files it applied.
    """
    async with _acquire(pool_or_conn) as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       component text, version text, checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now(),
                       PRIMARY KEY (component, version))"""
            )
            applied = 0
            for folder in folders:
                applied += await _migrate_folder(conn, folder)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def _migrate_folder(conn: asyncpg.Connection, folder: Path) -> int:
    component = folder.parent.name if folder.name == "migrations" else folder.name
    done = {
        r["version"]: r["checksum"]
        for r in await conn.fetch(
            "SELECT version, checksum FROM schema_migrations WHERE component = $1", component
        )
    }
    applied = 0
    for path in _migration_files(folder):
        sql = path.read_text(encoding="utf-8")
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        if path.name in done:
            if done[path.name] != checksum:
                raise RuntimeError(
                    f"migration {component}/{path.name} changed after it was applied"
                )
            continue
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (component, version, checksum) VALUES ($1, $2, $3)",
                component,
                path.name,
                checksum,
            )
        applied += 1
    return applied


class _acquire:
    """``async with`` over a pool (acquire) or an existing connection (use as is)."""

    def __init__(self, source: asyncpg.Pool | asyncpg.Connection) -> None:
        self._source = source
        self._conn: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self._source, asyncpg.Pool):
            self._conn = await self._source.acquire()
            return self._conn  # type: ignore[no-any-return]
        return self._source

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            await self._source.release(self._conn)  # type: ignore[union-attr]
