"""Half-open database connections: a statement on a connection that went silent fails within the
command timeout, the server ends a dead client's session (and so its advisory locks), and a
pooled connection never goes back to the pool holding a session advisory lock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from shared import db
from tests.integration.test_projections import TOTALS

LOCK = 4242


class BlackHoleProxy:
    """A TCP proxy to PostgreSQL that forwards until told to black-hole: from then on it keeps
    every socket open and forwards nothing, as a half-open connection behaves."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.forwarding = True
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.append(asyncio.current_task())
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if self.forwarding:
                    writer.write(data)
                    await writer.drain()

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxy(service_db: str) -> AsyncIterator[tuple[BlackHoleProxy, str]]:
    """The proxy and the DSN of the test's database through it."""
    parts = urlsplit(service_db)
    hole = BlackHoleProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await hole.start()
    netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}")
    yield hole, urlunsplit(parts._replace(netloc=netloc))
    await hole.close()


async def advisory_locks(conn, pid: int) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND granted",
            pid,
        )
    )


async def test_a_statement_on_a_silent_connection_fails_within_the_command_timeout(proxy):
    hole, dsn = proxy
    conn = await db.connect(dsn, liveness=db.Liveness(command_timeout=1.0))
    try:
        assert await conn.fetchval("SELECT 1") == 1
        hole.forwarding = False
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)
        assert time.monotonic() - started < 5
    finally:
        conn.terminate()


async def test_a_pooled_statement_on_a_silent_connection_fails_within_the_command_timeout(proxy):
    hole, dsn = proxy
    pool = await db.create_pool(dsn, size=1, liveness=db.Liveness(command_timeout=1.0))
    try:
        assert await pool.fetchval("SELECT 1") == 1
        hole.forwarding = False
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pool.fetchval("SELECT 1"), 10)
    finally:
        pool.terminate()


async def test_the_server_ends_a_silent_lock_holders_session_and_frees_its_lock(proxy, service_db):
    """A relay that went silent while holding its session lock: the server ends the session
    after the lock connection's idle limit, so a standby can take the lock."""
    hole, dsn = proxy
    holder = await db.connect(dsn, liveness=db.Liveness(lock_idle_seconds=1))
    standby = await db.connect(service_db)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
        pid = holder.get_server_pid()
        hole.forwarding = False
        deadline = time.monotonic() + 15
        while await advisory_locks(standby, pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert await standby.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
    finally:
        holder.terminate()
        await standby.close()


async def test_every_connection_asks_the_server_for_tcp_keepalives(service_db):
    liveness = db.Liveness(keepalive_idle=11, keepalive_interval=4, keepalive_count=2)
    conn = await db.connect(service_db, liveness=liveness)
    pool = await db.create_pool(service_db, size=1, liveness=liveness)
    try:
        for source in (conn, pool):
            shown = [
                await source.fetchval(f"SHOW {name}")
                for name in (
                    "tcp_keepalives_idle",
                    "tcp_keepalives_interval",
                    "tcp_keepalives_count",
                    "tcp_user_timeout",
                )
            ]
            assert shown == ["11", "4", "2", "19000"]  # the last in ms
    finally:
        await conn.close()
        await pool.close()


async def _cancel_as_the_lock_is_granted(task: asyncio.Task, blocker, key: int) -> None:
    """Let ``task`` wait for ``key``, release it from ``blocker`` and cancel the task after the
    server granted it the lock but before the task saw the answer: a shutdown racing a grant."""
    deadline = time.monotonic() + 10
    while not await blocker.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ):
        assert time.monotonic() < deadline, "the task never waited for the lock"
        await asyncio.sleep(0.05)
    await blocker.execute("SELECT pg_advisory_unlock_all()")
    time.sleep(0.3)  # noqa: ASYNC251 - blocks the loop: the grant arrives unseen by the task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _held_by_the_pool(pool) -> int:
    async with pool.acquire() as conn:
        return await advisory_locks(conn, conn.get_server_pid())


async def test_a_migration_cancelled_as_it_gets_its_lock_leaves_no_lock_in_the_pool(service_db):
    pool = await db.create_pool(service_db, size=1)
    blocker = await db.connect(service_db)
    try:
        await blocker.execute("SELECT pg_advisory_lock($1)", db.MIGRATION_LOCK)
        task = asyncio.create_task(db.migrate(pool, [db.CORE_MIGRATIONS]))
        await _cancel_as_the_lock_is_granted(task, blocker, db.MIGRATION_LOCK)
        assert await _held_by_the_pool(pool) == 0
    finally:
        await blocker.close()
        await pool.close()


async def test_a_rebuild_cancelled_as_it_gets_its_lock_leaves_no_lock_in_the_pool(service_db):
    from shared.projections import rebuild

    pool = await db.create_pool(service_db, size=1)
    blocker = await db.connect(service_db)
    try:
        await blocker.execute("SELECT pg_advisory_lock($1)", TOTALS.rebuild_lock_key)
        task = asyncio.create_task(rebuild(pool, "core", TOTALS))
        await _cancel_as_the_lock_is_granted(task, blocker, TOTALS.rebuild_lock_key)
        assert await _held_by_the_pool(pool) == 0
    finally:
        await blocker.close()
        await pool.close()


def test_session_advisory_locks_are_taken_only_through_db_session_lock():
    """A new ``pg_advisory_lock`` on a pooled connection would skip the guarantee above; the
    relay's lock is on a dedicated connection (``db.connect``), closed with the relay."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {root / "shared" / "db.py", root / "shared" / "relay.py"}
    offenders = [
        str(path.relative_to(root))
        for folder in ("shared", "services", "ops")
        for path in (root / folder).rglob("*.py")
        if path not in allowed
        and any(call in path.read_text() for call in ("pg_advisory_lock(", "pg_try_advisory_lock("))
    ]
    assert offenders == []
