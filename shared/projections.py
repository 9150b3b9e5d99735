"""Projections: read models built from a service's own events and its inbox.

A :class:`Projection` is a name, the DDL of its tables and an ``apply(conn, envelope)`` function.
Its tables live in their own schema ``proj_<name>``; ``apply`` runs with ``search_path`` set to
that schema, so the same function builds the live tables, a rebuild, a verification copy or a
point-in-time ("as of") copy. The runner advances a checkpoint per projection and source in the
same transaction as the read-model change, under a per-projection advisory lock, so replicas never
apply an event twice and a rebuild can swap its fresh schema in between two batches.

A projection may also give ``apply_batch``, which the runner, rebuild, verify and as-of then call
with each batch instead of ``apply`` per event: one write per table per batch, not per event.

A projection reading both sources sees them interleaved batch by batch, not in one global order:
its ``apply`` must not depend on the order of events from different sources (upserts keyed by
trainee, say), only on the order within each source, which is kept.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg
import structlog

from shared.db import DATABASE_AWAY, Conn, session_lock
from shared.events import Envelope
from shared.eventstore import EVENT_COLUMNS, row_to_envelope
from shared.personal import PersonalData

Source = Literal["events", "inbox"]
Apply = Callable[[Conn, Envelope], Awaitable[None]]
ApplyBatch = Callable[[Conn, Sequence[Envelope]], Awaitable[None]]
log = structlog.get_logger("gradeline.projections")


@dataclass(frozen=True)
class Projection:
    name: str
    ddl: str  # CREATE TABLE statements with unqualified names
    apply: Apply
    sources: tuple[Source, ...] = ("events",)
    version: int = 1  # bump when ddl or apply change: the runner then rebuilds at start-up
    # The event types ``apply`` acts on (None: all). Others are skipped in SQL, not fetched:
    # a board fed by one type in ten rebuilds several times faster.
    types: frozenset[str] | None = None
    # Optional set-wise ``apply``: the whole batch of one source at once, in order, to fold in
    # memory and write with a statement per table instead of a round trip per event. It must
    # leave the tables exactly as ``apply`` event by event would (tests compare the two).
    apply_batch: ApplyBatch | None = None

    @property
    def schema(self) -> str:
        return f"proj_{self.name}"

    @property
    def lock_key(self) -> int:
        return 7265616500 + zlib.crc32(self.name.encode())

    @property
    def rebuild_lock_key(self) -> int:
        """Held for a whole rebuild: two at once (two replicas starting on a new version, or a
        start beside ``gradeline rebuild``) would fill and drop the same scratch schema."""
        return self.lock_key + 2**32

    def checkpoint(self, source: Source) -> str:
        return f"projection:{self.name}:{source}"


Entry = tuple[int, Envelope]  # (position in its source, envelope)


async def read_source(
    conn: Any,
    source: Source,
    service: str,
    after: int,
    limit: int,
    *,
    upto: int | None = None,
    until: datetime | None = None,
    types: frozenset[str] | None = None,
) -> tuple[list[Entry], int]:
    """Up to ``limit`` entries of a source after ``after`` (at most ``upto``), in order, and
    the position up to which the source has now been read.

    With a type filter the entries may stop short of the head: everything up to the head was
    looked at, so a checkpoint may move there. Entries and head come from one statement, hence
    one snapshot: nothing can commit between them and be skipped.
    """
    wanted = None if types is None else sorted(types)
    if source == "events":
        rows = await conn.fetch(
            "SELECT h.*, (SELECT coalesce(max(position), 0) FROM events) AS head"
            " FROM (SELECT 1) one LEFT JOIN LATERAL ("
            f" SELECT {EVENT_COLUMNS} FROM events WHERE position > $1"
            " AND ($3::bigint IS NULL OR position <= $3)"
            " AND ($4::timestamptz IS NULL OR recorded_at <= $4)"
            " AND ($5::text[] IS NULL OR type = ANY ($5)) ORDER BY position LIMIT $2) h ON true",
            after,
            limit,
            upto,
            until,
            wanted,
        )
        entries = [(r[3], row_to_envelope(r, service)) for r in rows if r[0] is not None]
    else:
        rows = await conn.fetch(
            "SELECT h.*, (SELECT coalesce(max(seq), 0) FROM inbox) AS head"
            " FROM (SELECT 1) one LEFT JOIN LATERAL ("
            " SELECT seq, envelope FROM inbox WHERE seq > $1"
            " AND ($3::bigint IS NULL OR seq <= $3)"
            " AND ($4::timestamptz IS NULL OR recorded_at <= $4)"
            " AND ($5::text[] IS NULL OR type = ANY ($5)) ORDER BY seq LIMIT $2) h ON true",
            after,
            limit,
            upto,
            until,
            wanted,
        )
        entries = [(r[0], Envelope.from_stored(r[1])) for r in rows if r[0] is not None]
    if len(entries) == limit:
        return entries, entries[-1][0]
    reached = max(after, int(rows[0]["head"]))
    return entries, reached if upto is None else min(reached, max(after, upto))


async def head(conn: Any, source: Source) -> int:
    column, table = ("position", "events") if source == "events" else ("seq", "inbox")
    return int(await conn.fetchval(f"SELECT coalesce(max({column}), 0) FROM {table}"))


async def _apply_batch(
    conn: Conn,
    projection: Projection,
    schema: str,
    batch: Sequence[Entry],
    personal: PersonalData | None,
) -> None:
    await conn.execute(f"SET LOCAL search_path TO {schema}, public")
    envelopes = [envelope for _, envelope in batch]
    if personal is not None:  # read models hold values, or the erased marker (docs/privacy.md)
        envelopes = await personal.reveal(envelopes)
    if projection.apply_batch is not None:
        await projection.apply_batch(conn, envelopes)
        return
    for envelope in envelopes:
        await projection.apply(conn, envelope)


async def _create_schema(conn: Conn, projection: Projection, schema: str) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    await conn.execute(f"SET LOCAL search_path TO {schema}, public")
    await conn.execute(projection.ddl)


async def _fill(
    pool: asyncpg.Pool,
    projection: Projection,
    schema: str,
    service: str,
    positions: dict[Source, int],
    *,
    upto: dict[Source, int] | None = None,
    until: datetime | None = None,
    batch_size: int = 5000,
    conn: Conn | None = None,
    personal: PersonalData | None = None,
) -> int:
    """Apply every source entry after ``positions`` into ``schema``; advances ``positions``."""
    applied = 0
    for source in projection.sources:
        while True:
            limit = upto.get(source) if upto else None
            async with _connection(pool, conn) as c, c.transaction():
                batch, reached = await read_source(
                    c,
                    source,
                    service,
                    positions[source],
                    batch_size,
                    upto=limit,
                    until=until,
                    types=projection.types,
                )
                if batch:
                    await _apply_batch(c, projection, schema, batch, personal)
            done = reached == positions[source] or len(batch) < batch_size
            positions[source] = reached
            applied += len(batch)
            if done:
                break
    return applied


@asynccontextmanager
async def _connection(pool: asyncpg.Pool, conn: Conn | None) -> AsyncIterator[Any]:
    if conn is not None:
        yield conn
    else:
        async with pool.acquire() as acquired:
            yield acquired


async def create_missing_tables(pool: asyncpg.Pool, projections: Sequence[Projection]) -> None:
    """Empty live tables for each projection never built, so that a read before or during its
    first build finds an empty board rather than no table (a 500); the runner's first build
    fills fresh tables and swaps them in as usual. A service runs this at start-up, before it
    serves (shared.workers.projections), whether or not its process runs the runner."""
    for projection in projections:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", projection.lock_key)
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_namespace WHERE nspname = $1", projection.schema
            )
            if not exists:
                await _create_schema(conn, projection, projection.schema)


class ProjectionRunner:
    """Keeps every projection of a service up to date; run until cancelled."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        service: str,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.05,
        personal: PersonalData | None = None,
    ) -> None:
        self.pool = pool
        self.personal = personal
        self.service = service
        self.projections = list(projections)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def prepare(self) -> None:
        """Create missing projections; rebuild those whose version changed."""
        for projection in self.projections:
            stored = await self.pool.fetchval(
                "SELECT version FROM projection_versions WHERE name = $1", projection.name
            )
            if stored != projection.version:
                log.info("projection.rebuild_at_start", name=projection.name, was=stored)
                await create_missing_tables(self.pool, [projection])
                await rebuild(
                    self.pool, self.service, projection, only_if_stale=True, personal=self.personal
                )

    async def run(self) -> None:
        await self.prepare()
        while True:
            try:
                progressed = 0
                for projection in self.projections:
                    progressed += await self.step(projection)
            except DATABASE_AWAY as exc:
                log.error("projection.retry", error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            if progressed >= self.batch_size:
                continue  # a full batch: more is waiting
            if progressed:
                # Under a stream of appends every commit wakes the runner; stepping at once
                # would apply an event or two per transaction, paying a step's fixed round trips
                # (lock, checkpoint, read, write) for each. Lingering one poll interval lets a
                # batch gather: the lag grows by at most that, and only while busy.
                await asyncio.sleep(self.poll_interval)
                continue
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def step(self, projection: Projection) -> int:
        """Apply one batch per source; returns how many events were applied."""
        applied = 0
        for source in projection.sources:
            async with self.pool.acquire() as conn, conn.transaction():
                # Asynchronous commit: a read model and its checkpoint are derived from the
                # durable events and inbox, and commit together; a crash can only lose the last
                # batches of both at once, which the runner applies again from the checkpoint.
                # Not waiting for the WAL flush takes a disk round trip off every batch.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1),"
                    " set_config('synchronous_commit', 'off', true)",
                    projection.lock_key,
                )
                name = projection.checkpoint(source)
                after = await conn.fetchval(
                    "SELECT position FROM checkpoints WHERE name = $1", name
                )
                batch, reached = await read_source(
                    conn,
                    source,
                    self.service,
                    after or 0,
                    self.batch_size,
                    types=projection.types,
                )
                if reached == (after or 0):
                    continue
                if batch:
                    await _apply_batch(conn, projection, projection.schema, batch, self.personal)
                await conn.execute(
                    "UPDATE checkpoints SET position = $2, updated_at = now() WHERE name = $1",
                    name,
                    reached,
                )
                applied += len(batch)
        return applied

    async def catch_up(self) -> None:
        """Run every projection until it has applied everything stored now (tests, CLI)."""
        for projection in self.projections:
            while await self.step(projection):
                pass

    async def lag(self) -> dict[str, int]:
        """Entries stored but not yet applied, per projection."""
        result: dict[str, int] = {}
        async with self.pool.acquire() as conn:
            for projection in self.projections:
                total = 0
                for source in projection.sources:
                    done = await conn.fetchval(
                        "SELECT position FROM checkpoints WHERE name = $1",
                        projection.checkpoint(source),
                    )
                    total += await head(conn, source) - int(done or 0)
                result[projection.name] = total
        return result


async def rebuild(
    pool: asyncpg.Pool,
    service: str,
    projection: Projection,
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    only_if_stale: bool = False,
    personal: PersonalData | None = None,
) -> int:
    """Replay all history into fresh tables, then swap them in; returns the events applied.

    The long replay runs beside the live runner; only the final catch-up and the swap hold the
    projection's lock, so readers see the old tables until the new ones are complete. One
    rebuild of a projection runs at a time (``rebuild_lock_key``, held on a connection of its
    own); ``only_if_stale``: once it holds that lock, skip the rebuild if the stored version is
    already this one (another replica rebuilt it meanwhile).
    """
    async with session_lock(pool, projection.rebuild_lock_key) as holder:
        if only_if_stale and projection.version == await holder.fetchval(
            "SELECT version FROM projection_versions WHERE name = $1", projection.name
        ):
            return 0
        return await _rebuild(pool, service, projection, batch_size, progress, personal)


async def _rebuild(
    pool: asyncpg.Pool,
    service: str,
    projection: Projection,
    batch_size: int,
    progress: Callable[[int], None] | None,
    personal: PersonalData | None,
) -> int:
    fresh = f"{projection.schema}__new"
    async with pool.acquire() as conn, conn.transaction():
        await _create_schema(conn, projection, fresh)
    positions: dict[Source, int] = dict.fromkeys(projection.sources, 0)
    applied = await _fill(
        pool, projection, fresh, service, positions, batch_size=batch_size, personal=personal
    )
    if progress:
        progress(applied)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", projection.lock_key)
        applied += await _fill(
            pool,
            projection,
            fresh,
            service,
            positions,
            batch_size=batch_size,
            conn=conn,
            personal=personal,
        )
        await conn.execute(
            f"DROP SCHEMA IF EXISTS {projection.schema} CASCADE;"
            f" ALTER SCHEMA {fresh} RENAME TO {projection.schema}"
        )
        for source, position in positions.items():
            await conn.execute(
                "INSERT INTO checkpoints (name, position) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET position = $2, updated_at = now()",
                projection.checkpoint(source),
                position,
            )
        await conn.execute(
            "INSERT INTO projection_versions (name, version) VALUES ($1, $2)"
            " ON CONFLICT (name) DO UPDATE SET version = $2, rebuilt_at = now()",
            projection.name,
            projection.version,
        )
    return applied


async def verify(
    pool: asyncpg.Pool,
    service: str,
    projection: Projection,
    personal: PersonalData | None = None,
) -> list[str]:
    """Rebuild up to the live checkpoints and compare table by table; [] when they agree.

    Holds the projection's lock throughout, so the live tables stand still while compared.
    """
    scratch = f"{projection.schema}__verify_{uuid.uuid4().hex[:8]}"
    differences: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", projection.lock_key)
        upto: dict[Source, int] = {}
        for source in projection.sources:
            done = await conn.fetchval(
                "SELECT position FROM checkpoints WHERE name = $1", projection.checkpoint(source)
            )
            upto[source] = int(done or 0)
        await _create_schema(conn, projection, scratch)
        positions: dict[Source, int] = dict.fromkeys(projection.sources, 0)
        await _fill(
            pool, projection, scratch, service, positions, upto=upto, conn=conn, personal=personal
        )
        for table in await _tables(conn, projection.schema):
            differences.extend(await _compare(conn, projection.schema, scratch, table))
        await conn.execute(f"DROP SCHEMA {scratch} CASCADE")
    return differences


async def _tables(conn: Conn, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        schema,
    )
    return [r[0] for r in rows]


async def _compare(conn: Conn, live: str, fresh: str, table: str) -> list[str]:
    found: list[str] = []
    for left, right, label in ((live, fresh, "only in live"), (fresh, live, "only in rebuild")):
        rows = await conn.fetch(
            f"SELECT * FROM {left}.{table} EXCEPT ALL SELECT * FROM {right}.{table} LIMIT 20"
        )
        found.extend(f"{table}: {label}: {dict(r)}" for r in rows)
    return found


@asynccontextmanager
async def as_of(
    pool: asyncpg.Pool,
    service: str,
    projection: Projection,
    moment: datetime,
    personal: PersonalData | None = None,
) -> AsyncIterator[str]:
    """A throw-away copy of the projection built from what was recorded up to ``moment``.

    Yields the schema to query (``SELECT ... FROM <schema>.table``); dropped afterwards.
    """
    scratch = f"{projection.schema}__asof_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn, conn.transaction():
        await _create_schema(conn, projection, scratch)
    try:
        positions: dict[Source, int] = dict.fromkeys(projection.sources, 0)
        await _fill(pool, projection, scratch, service, positions, until=moment, personal=personal)
        yield scratch
    finally:
        await pool.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
