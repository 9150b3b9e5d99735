"""PostgreSQL plumbing: per-service databases, connection pools with orjson codecs, migrations."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

# A connection of one's own or one borrowed from a pool: both run queries and transactions.
Conn = asyncpg.Connection | PoolConnectionProxy

MIGRATION_LOCK = 7265616401  # advisory lock held while migrations run
# How long a session lock may be waited for: the holder works (another replica migrating or
# rebuilding a projection), longer than any one statement should take.
LOCK_WAIT_SECONDS = 3600.0
# A migration may rewrite a table: it is not held to the command timeout of the service.
MIGRATION_SECONDS = 3600.0

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
# grows until an ANALYZE invalidates it, which never comes where autovacuum is off or behind.
# Planning these short statements afresh costs less than one such scan. The group commit's
# function, the store's hottest path, keeps cached plans (shared/sql/append.sql says why they
# stay right). Figures and guards: ADR 0011.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
# PostgreSQL's own plan caching, for connections measured against ours (the benchmarks' raw
# baselines), so that they are not re-planned per statement on Gradeline's account.
POSTGRES_DEFAULT_PLANS = {"plan_cache_mode": "auto"}


@dataclass(frozen=True, slots=True)
class Liveness:
    """How long a connection may go silent before it counts as dead (``GRADELINE_DB_*``).

    A half-open connection (the peer gone without a word: a crashed host, a dropped route) would
    otherwise hang whoever waits on it: a client for an answer that never comes, the server with
    a session that holds its locks (the relay's session lock, a transaction's append lock).

    - ``command_timeout``: a statement unanswered this long fails with ``TimeoutError`` (asyncpg
      then cancels it, and closes the connection if the cancel goes unanswered too); the server
      also ends a transaction left idle this long, so a client that died mid-transaction does not
      keep its locks.
    - ``keepalive_*``: the server probes a silent client after ``keepalive_idle`` seconds, every
      ``keepalive_interval``, and ends the session after ``keepalive_count`` unanswered probes;
      data it sent that stays unacknowledged as long ends it too (``tcp_user_timeout``). The
      client side has no keepalive option in asyncpg: its guard is ``command_timeout``.
    - ``lock_idle_seconds``: a dedicated connection (:func:`connect`, the relay's session lock)
      idle this long is ended by the server, freeing its locks for a standby. A live relay polls
      far more often; a stuck one stops.
    """

    command_timeout: float = 60.0
    keepalive_idle: int = 30
    keepalive_interval: int = 10
    keepalive_count: int = 3
    lock_idle_seconds: int = 300

    def server_settings(self) -> dict[str, str]:
        unanswered_ms = 1000 * (
            self.keepalive_idle + self.keepalive_interval * self.keepalive_count
        )
        return {
            "tcp_keepalives_idle": str(self.keepalive_idle),
            "tcp_keepalives_interval": str(self.keepalive_interval),
            "tcp_keepalives_count": str(self.keepalive_count),
            "tcp_user_timeout": str(unanswered_ms),
            "idle_in_transaction_session_timeout": str(int(1000 * self.command_timeout)),
        }

    def dedicated_server_settings(self) -> dict[str, str]:
        return {
            **self.server_settings(),
            "idle_session_timeout": str(1000 * self.lock_idle_seconds),
        }


async def init_connection(conn: asyncpg.Connection) -> None:
    """orjson for json/jsonb: faster reads of every event than the stdlib codec."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
            format="text",
        )


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Skip the pool's reset query on release (a round trip per borrow, ADR 0011): nothing here
    leaves session state behind. Session advisory locks are the one state that could: they are
    taken only through :func:`session_lock`, which never returns a connection to the pool
    holding one."""


async def create_pool(
    dsn: str, *, size: int = 10, liveness: Liveness = Liveness(), **kwargs: Any
) -> asyncpg.Pool:
    kwargs["server_settings"] = {
        **SERVER_SETTINGS,
        **liveness.server_settings(),
        **kwargs.get("server_settings", {}),
    }
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min(2, size),
        max_size=size,
        init=init_connection,
        reset=_no_reset,
        command_timeout=liveness.command_timeout,
        **kwargs,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, *, liveness: Liveness = Liveness()) -> asyncpg.Connection:
    """A dedicated connection (for session locks), with the same codecs as the pool; the server
    ends it once idle ``liveness.lock_idle_seconds``."""
    conn = await asyncpg.connect(
        dsn,
        server_settings={**SERVER_SETTINGS, **liveness.dedicated_server_settings()},
        command_timeout=liveness.command_timeout,
    )
    await init_connection(conn)
    return conn


@contextlib.asynccontextmanager
async def session_lock(source: asyncpg.Pool | asyncpg.Connection, key: int) -> AsyncIterator[Conn]:
    """Hold the session advisory lock ``key`` for the block, on a connection of ``source``.

    The pool returns connections without a reset, so a pooled connection that went back holding
    a session lock would hold it for whoever borrows it next, unseen, for as long as the pool
    keeps the connection. So the block ends with every session lock of the connection released,
    and when that cannot be confirmed (the block was cancelled as the lock was granted, the
    connection broke) the connection is closed, which releases them on the server.
    """
    async with _acquire(source) as conn:
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", key, timeout=LOCK_WAIT_SECONDS)
            yield conn
        finally:
            await _release_session_locks(conn)


async def _release_session_locks(conn: Conn) -> None:
    try:
        await conn.execute("SELECT pg_advisory_unlock_all()")
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:  # whatever failed, the closed connection holds nothing
        conn.terminate()


CORE_MIGRATIONS = Path(__file__).parent / "migrations"

_SCHEMA_TABLES = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component text, version text, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version));
CREATE TABLE IF NOT EXISTS schema_definitions (
    component text, name text, checksum text NOT NULL,
    migration text NOT NULL,  -- the component's last migration in the process that applied it
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, name));
"""


async def migrate(pool_or_conn: asyncpg.Pool | asyncpg.Connection, folders: Sequence[Path]) -> int:
    """Bring each component's schema up to date, in order: the core, then a service's (the
    components several services share, such as ``shared/organisation``, then its own).

    A component is a folder ``migrations`` of versioned ``NNNN_name.sql`` files, and beside it
    an optional folder ``sql`` of live definitions (the core's: the store's functions,
    ``shared/sql``). Migrations are applied once each, in order; a file's checksum is recorded
    and an applied file that has since changed is an error rather than a silent divergence,
    unless the file was compacted (ADR 0012) and names the recorded checksum in a line
    ``-- compacted-from sha256:<hex>``. A migration compacted to comments alone is recorded
    without being run. Definitions (``CREATE OR REPLACE``) are applied after the migrations,
    in name order, when their file differs from the one last applied: editing one is the way to
    change what it defines. A process whose component has fewer migrations than the one that
    applied a definition (an older release during a rolling update) leaves it alone. A
    component's rows in ``schema_migrations`` and ``schema_definitions`` bear the name of the
    folder that holds its ``migrations`` (``shared``, ``organisation``, ``training``).

    Runs under an advisory lock so replicas starting together migrate once. Returns how many
    files it applied.
    """
    async with session_lock(pool_or_conn, MIGRATION_LOCK) as conn:
        await conn.execute(_SCHEMA_TABLES)
        applied = 0
        for folder in folders:
            component = folder.parent.name if folder.name == "migrations" else folder.name
            migrations = [p for p in _sql_files(folder) if p.name[:4].isdigit()]
            applied += await _migrate(conn, component, migrations)
            if folder.name == "migrations":
                head = migrations[-1].name if migrations else ""
                applied += await _define(conn, component, folder.parent / "sql", head)
        return applied


def _sql_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.sql"))


def _read(path: Path) -> tuple[str, str]:
    """A schema file's SQL and its checksum."""
    sql = path.read_text(encoding="utf-8")
    return sql, hashlib.sha256(sql.encode()).hexdigest()


_COMPACTED_FROM = re.compile(r"^-- compacted-from sha256:([0-9a-f]{64})$", re.MULTILINE)


def compacted_from(sql: str) -> list[str]:
    """The checksums of a compacted migration's earlier texts (ADR 0012): a database that
    recorded one of them applied that text, which left the schema this one leaves."""
    return _COMPACTED_FROM.findall(sql)


def has_statements(sql: str) -> bool:
    """Whether anything but ``--`` comments is left. A ``--`` inside a string literal cuts its
    line short, but a statement's first word always stands before it."""
    return any(line.split("--", 1)[0].strip() for line in sql.splitlines())


async def _migrate(conn: Conn, component: str, migrations: Sequence[Path]) -> int:
    done = {
        r["version"]: r["checksum"]
        for r in await conn.fetch(
            "SELECT version, checksum FROM schema_migrations WHERE component = $1", component
        )
    }
    applied = 0
    for path in migrations:
        sql, checksum = _read(path)
        if path.name in done:
            # A compacted file's earlier checksum stays recorded: it says which text was applied,
            # and a replica of the release before, which knows only that text, can still start.
            if done[path.name] != checksum and done[path.name] not in compacted_from(sql):
                raise RuntimeError(
                    f"migration {component}/{path.name} changed after it was applied"
                )
            continue
        async with conn.transaction():
            if has_statements(sql):  # asyncpg fails on a query of comments alone
                await conn.execute(sql, timeout=MIGRATION_SECONDS)
            await conn.execute(
                "INSERT INTO schema_migrations (component, version, checksum) VALUES ($1, $2, $3)",
                component,
                path.name,
                checksum,
            )
        applied += 1
    return applied


async def _define(conn: Conn, component: str, folder: Path, head: str) -> int:
    """Apply the component's definition files that differ from the ones last applied, unless
    those were applied by a process further on in the component's migrations than ``head``."""
    recorded = {
        r["name"]: (r["checksum"], r["migration"])
        for r in await conn.fetch(
            "SELECT name, checksum, migration FROM schema_definitions WHERE component = $1",
            component,
        )
    }
    applied = 0
    for path in _sql_files(folder):
        sql, checksum = _read(path)
        checksum_then, head_then = recorded.get(path.name, ("", ""))
        if checksum == checksum_then or head_then > head:
            continue
        async with conn.transaction():
            await conn.execute(sql, timeout=MIGRATION_SECONDS)
            await conn.execute(
                "INSERT INTO schema_definitions (component, name, checksum, migration)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (component, name) DO UPDATE"
                " SET checksum = $3, migration = $4, applied_at = now()",
                component,
                path.name,
                checksum,
                head,
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
