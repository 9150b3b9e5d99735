"""The event-store suite: Gradeline's ``PostgresEventStore`` against raw asyncpg and eventsourcing.

Three phases, each alternating its sides run by run (see ``bench.common.alternate``):

1. append, one event per append with an expected version, 16 concurrent writers over 1,000
   streams: Gradeline, a raw asyncpg ``INSERT`` of the same rows into a plain table whose unique
   (stream_id, version) is the only check (a), and the ``eventsourcing`` library 9.5 saving one
   event per ``Application.save`` from 16 threads (d);
2. appends of 100-event batches against ``executemany`` of 100 rows, one transaction each (b);
3. reading 200,000 events from the start in pages of 1,000: ``read_all`` (``Envelope`` objects)
   against the same keyset ``SELECT`` returning bare records (c), then, separately, against the
   library's notification log, decoded to domain events (d).

Gradeline and the raw baseline use one database and two pools made by ``shared.db.create_pool``
(same size, codecs and no-op reset). Gradeline's has the services' connection settings (each
statement planned when it runs); the baseline's has PostgreSQL's default plan caching, so that
the baseline's prepared INSERT is not re-planned per row on Gradeline's account. The library has
a database of its own and a pool as large. Every side runs in this process, with the garbage
collector set as in a service process (``bench.__main__``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.common import BenchConfig, Row, Runs, alternate, comparison_row, fresh_database, log
from shared import db
from shared.events import SYSTEM_ACTOR, NewEvent
from shared.eventstore import EVENT_COLUMNS, NO_STREAM, PostgresEventStore

SUITE = "store"
WRITERS = 16
STREAMS = 1_000
PAGE = 1_000
BATCH = 100
BATCH_WRITERS = 1  # batching is for one writer's bulk work (imports, rebuilds, relays)

# The baseline table: the events table's columns and unique constraints, none of its machinery
# (no advisory lock, no hash chain, no expected-version check other than the unique constraint).
BASELINE_DDL = """
CREATE TABLE baseline_events (
    position        bigserial   PRIMARY KEY,
    stream_id       text        NOT NULL,
    version         integer     NOT NULL,
    event_id        uuid        NOT NULL UNIQUE,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    branch_id       text,
    actor           jsonb       NOT NULL,
    correlation_id  uuid,
    causation_id    uuid,
    idempotency_key text,
    policy_version  text,
    data            jsonb       NOT NULL,
    prev_hash       bytea,
    hash            bytea       NOT NULL,
    UNIQUE (stream_id, version)
)
"""
BASELINE_INSERT = (
    "INSERT INTO baseline_events (stream_id, version, event_id, type, schema_version, actor, data,"
    " prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
# The columns (and expressions) PostgresEventStore.read_all selects, so that both sides fetch the
# same bytes and the comparison isolates what the store adds on the client.
BASELINE_READ = f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
FAKE_HASH = bytes(range(32))  # as wide as a SHA-256, so baseline rows are as wide as the store's

GRADELINE = "Gradeline"
RAW = "raw"
LIBRARY = "eventsourcing"


@dataclass(frozen=True, slots=True)
class Sizes:
    """Events per run of each workload, chosen so the suite takes about 2-3 minutes."""

    append: int
    library_append: int  # the library appends about 3x slower than Gradeline: fewer events
    batch: int
    read: int

    @classmethod
    def of(cls, config: BenchConfig) -> Sizes:
        return cls(
            append=config.size(6_000, WRITERS),
            library_append=config.size(2_000, WRITERS),
            batch=config.size(30_000, BATCH),
            read=config.size(200_000, PAGE),
        )


def payload(n: int) -> dict[str, Any]:
    """About 200 bytes of JSON, the size of a typical Gradeline event."""
    return {
        "learner_id": f"learner-{n % STREAMS:05d}",
        "course_id": "course-0042",
        "module": n % 17,
        "score": n % 101,
        "passed": n % 3 != 0,
        "assessor": "assessor-0007",
        "comment": "steady progress on the diagnostic bay checklist, torque specs recalled",
    }


# --- writers -----------------------------------------------------------------------------------

# append(stream_id, expected_version, how_many): append ``how_many`` events after that version.
AppendFn = Callable[[str, int, int], Awaitable[None]]


class Writers:
    """Concurrent tasks appending to ``STREAMS`` streams with expected versions.

    Stream ``i`` belongs to writer ``i % writers``: there are no conflicts and every append
    succeeds, so the benchmark measures the write path rather than the retry path. Versions carry
    over from run to run, as a service's aggregates' would.
    """

    def __init__(self, append: AppendFn, prefix: str, writers: int = WRITERS) -> None:
        self.append = append
        self.writers = writers
        self.versions = {f"{prefix}-{i:05d}": NO_STREAM for i in range(STREAMS)}
        self.turn = 0  # round-robin cursor, so that successive runs spread over all streams

    async def run(self, events: int, batch: int) -> int:
        """Append ``events`` events in appends of ``batch``; returns how many were appended."""
        per_writer = events // batch // self.writers
        streams = list(self.versions)
        await asyncio.gather(
            *(
                self._write(streams[w :: self.writers], per_writer, batch)
                for w in range(self.writers)
            )
        )
        self.turn += per_writer
        return per_writer * self.writers * batch

    async def _write(self, streams: list[str], appends: int, batch: int) -> None:
        for i in range(self.turn, self.turn + appends):
            stream = streams[i % len(streams)]
            expected = self.versions[stream]
            await self.append(stream, expected, batch)
            self.versions[stream] = expected + batch


def gradeline_append(store: PostgresEventStore) -> AppendFn:
    async def append(stream: str, expected: int, n: int) -> None:
        events = [NewEvent(type="ScoreRecorded", data=payload(expected + k)) for k in range(n)]
        await store.append(stream, events, expected)

    return append


def raw_append(pool: asyncpg.Pool) -> AppendFn:
    actor = SYSTEM_ACTOR.as_json()

    def row(stream: str, version: int) -> tuple[Any, ...]:
        return (
            stream,
            version,
            uuid.uuid4(),
            "ScoreRecorded",
            1,
            actor,
            payload(version - 1),
            FAKE_HASH,
            FAKE_HASH,
        )

    async def append(stream: str, expected: int, n: int) -> None:
        if n == 1:
            await pool.execute(BASELINE_INSERT, *row(stream, expected + 1))
        else:  # executemany is atomic (one implicit transaction) since asyncpg 0.22
            rows = [row(stream, expected + k) for k in range(1, n + 1)]
            await pool.executemany(BASELINE_INSERT, rows)

    return append


# --- readers -----------------------------------------------------------------------------------


async def gradeline_read(store: PostgresEventStore, total: int) -> int:
    """``total`` events from the start, page by page, as envelopes."""
    done, after = 0, 0
    while done < total:
        page = await store.read_all(after, min(PAGE, total - done))
        if not page:
            break
        done += len(page)
        after = page[-1].position
    return done


async def raw_read(pool: asyncpg.Pool, total: int) -> int:
    """The same pages as bare records (data and actor decoded by the pool's orjson codec)."""
    done, after = 0, 0
    while done < total:
        rows = await pool.fetch(BASELINE_READ, after, min(PAGE, total - done))
        if not rows:
            break
        done += len(rows)
        after = rows[-1][3]
    return done


async def fill(store: PostgresEventStore, events: int) -> None:
    """Top the store up to at least ``events`` events, in appends of 1,000 (quick to fill)."""
    missing = events - await store.head_position()
    if missing > 0:
        log(f"{SUITE}: filling the store with {missing:,} events")
        await Writers(gradeline_append(store), "fill", writers=4).run(missing + 4_000, 1_000)


async def vacuum(dsn: str, table: str) -> None:
    """Settle a freshly filled table (visibility map, hint bits, statistics) so that the read
    runs measure reading, not the first reader's clean-up or a concurrent autovacuum."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()


# --- eventsourcing 9.5 -------------------------------------------------------------------------


def library_env(dsn: str) -> dict[str, str]:
    """The library's PostgreSQL settings for ``dsn``, with a pool as large as ours."""
    parts = urlsplit(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_POOL_SIZE": str(WRITERS),
    }


class Library:
    """The library's ``Application``, driven from threads: it is synchronous, and psycopg
    releases the GIL while it waits, so 16 threads do overlap their round trips."""

    def __init__(self, dsn: str) -> None:
        from eventsourcing.application import Application

        from bench.es_model import Learner

        self.app: Any = Application(env=library_env(dsn))
        self.new_learner = Learner
        self.aggregates: list[Any] = []

    def close(self) -> None:
        self.app.close()

    def create_streams(self) -> None:
        """One aggregate per stream, each created by a save of its own (one event)."""
        self.aggregates = [self.new_learner() for _ in range(STREAMS)]
        self._fan_out(lambda mine, _: [self.app.save(a) for a in mine], STREAMS)

    def append(self, events: int) -> int:
        """``events`` saves of one event each, by ``WRITERS`` threads owning their aggregates."""

        def write(mine: list[Any], count: int) -> None:
            for i in range(count):
                aggregate = mine[i % len(mine)]
                aggregate.record_score(payload(aggregate.version))
                self.app.save(aggregate)

        return self._fan_out(write, events)

    def _fan_out(self, work: Callable[[list[Any], int], object], events: int) -> int:
        per_writer = events // WRITERS
        with ThreadPoolExecutor(WRITERS) as threads:
            mine = [self.aggregates[w::WRITERS] for w in range(WRITERS)]
            for future in [threads.submit(work, m, per_writer) for m in mine]:
                future.result()
        return per_writer * WRITERS

    def fill(self, events: int) -> None:
        """``events`` more events, 1,000 per save, so that filling is quick."""
        for start in range(0, events, 1_000):
            aggregate = self.new_learner()
            for k in range(start + 1, min(start + 1_000, events)):
                aggregate.record_score(payload(k))
            self.app.save(aggregate)

    def read(self, total: int) -> int:
        """The notification log from the start in pages, every notification decoded to its
        domain event (the library's counterpart of an envelope)."""
        recorder, mapper = self.app.recorder, self.app.mapper
        done, start = 0, 1  # notification ids start at 1
        while done < total:
            page = recorder.select_notifications(start, min(PAGE, total - done))
            if not page:
                break
            for notification in page:
                mapper.to_domain_event(notification)
            done += len(page)
            start = page[-1].id + 1
        return done


# --- the phases --------------------------------------------------------------------------------


async def append_phase(
    store: PostgresEventStore, raw_pool: asyncpg.Pool, library: Library, sizes: Sizes
) -> list[Row]:
    log(f"{SUITE}: append, 1 event per append, {WRITERS} writers (Gradeline / raw / library)")
    gradeline = Writers(gradeline_append(store), "one")
    raw = Writers(raw_append(raw_pool), "one")
    runs = await alternate(
        {
            GRADELINE: lambda: gradeline.run(sizes.append, 1),
            RAW: lambda: raw.run(sizes.append, 1),
            LIBRARY: lambda: asyncio.to_thread(library.append, sizes.library_append),
        }
    )
    return [
        _row(
            f"a) append 1 event, {WRITERS} writers",
            runs,
            (RAW, f"asyncpg INSERT, {WRITERS} writers"),
            goal=0.80,
            note=f"{sizes.append:,} events per run, one per append with an expected version, "
            f"{WRITERS} concurrent tasks over {STREAMS:,} streams (each task owns its streams); "
            "baseline: one INSERT per row into a table with the same columns and unique "
            f"constraints; each through a `db.create_pool(size={WRITERS})`, the baseline's with "
            "PostgreSQL's default plan caching.",
        ),
        _row(
            f"d) append 1 event, {WRITERS} writers",
            runs,
            (LIBRARY, f"eventsourcing 9.5, {WRITERS} threads"),
            goal=2.0,
            note=f"as (a); eventsourcing: {sizes.library_append:,} `Application.save` calls per "
            f"run of one event each, {WRITERS} threads each owning its aggregates, "
            f"`POSTGRES_POOL_SIZE={WRITERS}`, a database of its own. Goal: several times faster.",
        ),
    ]


async def batch_phase(store: PostgresEventStore, raw_pool: asyncpg.Pool, sizes: Sizes) -> list[Row]:
    log(f"{SUITE}: append {BATCH}-event batches (Gradeline / raw executemany)")
    gradeline = Writers(gradeline_append(store), "batch", BATCH_WRITERS)
    raw = Writers(raw_append(raw_pool), "batch", BATCH_WRITERS)
    runs = await alternate(
        {
            GRADELINE: lambda: gradeline.run(sizes.batch, BATCH),
            RAW: lambda: raw.run(sizes.batch, BATCH),
        }
    )
    return [
        _row(
            f"b) append {BATCH}-event batches, {BATCH_WRITERS} writer",
            runs,
            (RAW, f"asyncpg executemany, {BATCH} rows/txn"),
            goal=0.80,
            note=f"{sizes.batch:,} events per run in appends of {BATCH} events to one stream "
            f"with an expected version, {BATCH_WRITERS} writer; baseline: an atomic "
            f"`executemany` of {BATCH} rows.",
        )
    ]


async def read_phase(
    store: PostgresEventStore,
    raw_pool: asyncpg.Pool,
    library: Library,
    dsns: tuple[str, str],
    sizes: Sizes,
) -> list[Row]:
    await fill(store, sizes.read)
    log(f"{SUITE}: filling the library's store with {sizes.read:,} events")
    await asyncio.to_thread(library.fill, sizes.read)
    await vacuum(dsns[0], "events")
    await vacuum(dsns[1], library.app.recorder.events_table_name)

    async def gradeline() -> int:
        return await gradeline_read(store, sizes.read)

    # Two comparisons, not one of three sides: both tables together outgrow shared_buffers, so a
    # library run between Gradeline's and the raw read's would evict the events table for one
    # of them only. Within each comparison, the sides share the cache state alike.
    log(f"{SUITE}: read {sizes.read:,} events in pages of {PAGE:,} (Gradeline / raw)")
    raw = await alternate({GRADELINE: gradeline, RAW: lambda: raw_read(raw_pool, sizes.read)})
    log(f"{SUITE}: read {sizes.read:,} events in pages of {PAGE:,} (Gradeline / library)")
    lib = await alternate(
        {GRADELINE: gradeline, LIBRARY: lambda: asyncio.to_thread(library.read, sizes.read)}
    )
    return [
        _row(
            f"c) read_all, pages of {PAGE:,}",
            raw,
            (RAW, "asyncpg keyset SELECT + orjson codec"),
            goal=0.70,
            min_value=100_000,
            note=f"{sizes.read:,} events per run from position 0 in pages of {PAGE:,}, as "
            "`Envelope` objects; baseline: the same query returning `asyncpg.Record`s, jsonb "
            "decoded by the same orjson codec (tables vacuumed after filling).",
        ),
        _row(
            f"d) read, pages of {PAGE:,}",
            lib,
            (LIBRARY, "eventsourcing 9.5 notification log"),
            goal=1.0,
            note=f"as (c), measured against the library separately; eventsourcing: "
            f"`recorder.select_notifications` in pages of {PAGE:,}, each notification decoded by "
            "`mapper.to_domain_event`.",
        ),
    ]


def _row(workload: str, runs: Runs, baseline: tuple[str, str], **extra: Any) -> Row:
    side, name = baseline
    return comparison_row(
        SUITE, workload, (GRADELINE, runs[GRADELINE]), (name, runs[side]), **extra
    )


# --- the suite ---------------------------------------------------------------------------------


async def prepare(dsn: str) -> asyncpg.Pool:
    pool = await db.create_pool(dsn, size=WRITERS)
    await db.migrate(pool, [db.CORE_MIGRATIONS])
    await pool.execute(BASELINE_DDL)
    return pool


async def run(config: BenchConfig) -> list[Row]:
    """Gradeline's event store against raw asyncpg and the eventsourcing library."""
    sizes = Sizes.of(config)
    async with (
        fresh_database(config.pg_dsn, SUITE) as dsn,
        fresh_database(config.pg_dsn, "es") as library_dsn,
    ):
        pool = await prepare(dsn)
        raw_pool = await db.create_pool(
            dsn, size=WRITERS, server_settings=db.POSTGRES_DEFAULT_PLANS
        )
        library = await asyncio.to_thread(Library, library_dsn)
        try:
            store = PostgresEventStore(pool, "bench")
            log(f"{SUITE}: creating the library's {STREAMS:,} aggregates")
            await asyncio.to_thread(library.create_streams)
            rows = await append_phase(store, raw_pool, library, sizes)
            rows += await batch_phase(store, raw_pool, sizes)
            rows += await read_phase(store, raw_pool, library, (dsn, library_dsn), sizes)
        finally:
            await asyncio.to_thread(library.close)
            await raw_pool.close()
            await pool.close()
    # The table reads best in the order of the brief: a, b, c, then the library's rows.
    return sorted(rows, key=lambda r: r.workload[:2])
