"""The inbox: consumed events kept in full, each one's effect applied exactly once.

A handler's effect and the inbox rows commit in one transaction. The inbox lock is taken last,
after the handlers (which may append to the event store and so take the store's lock first): one
lock order everywhere, and ``seq`` is handed out in commit order, so projections tailing the inbox
are gap-safe like those tailing events (ADR 0001).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared.db import Conn
from shared.events import Envelope
from shared.personal import PersonalData

INBOX_LOCK = 7265616403
Handler = Callable[[Conn, Envelope], Awaitable[None]]
RunHandler = Callable[[Conn, Sequence[Envelope]], Awaitable[None]]


@dataclass(frozen=True)
class SetwiseHandler:
    """A handler that applies some event types a run at a time.

    ``one`` applies any event; ``runs`` maps (service, type) to a function applying several
    events of that type together (one set-wise upsert instead of a statement per event).
    :func:`handle_batch` hands it each stretch of consecutive events of one such type, the
    other events one by one, in the batch's order, so the effect is that of applying the events
    one by one. Called directly, it applies one event.
    """

    one: Handler
    runs: Mapping[tuple[str, str], RunHandler] = field(default_factory=dict)

    async def __call__(self, conn: Conn, envelope: Envelope) -> None:
        await self.one(conn, envelope)

    async def apply(self, conn: Conn, envelopes: Sequence[Envelope]) -> None:
        for kind, stretch in itertools.groupby(envelopes, key=lambda e: (e.service, e.type)):
            run = self.runs.get(kind)
            if run is not None:
                await run(conn, list(stretch))
                continue
            for envelope in stretch:
                await self.one(conn, envelope)


def latest_status(table: str) -> str:
    """The ``SET`` clause of an upsert into ``table`` by which a trainee's status follows the event
    with the highest version of its enrollment stream: an older event arriving late (re-driven
    from the dead-letter queue) fills in its fields but does not roll the status back."""
    return f"""
    status = CASE WHEN EXCLUDED.status_version > {table}.status_version
                  THEN EXCLUDED.status ELSE {table}.status END,
    status_version = GREATEST(EXCLUDED.status_version, {table}.status_version),
    updated_at = now()
"""


async def upsert_in_runs(
    conn: Conn,
    envelopes: Sequence[Envelope],
    upsert: Callable[[Conn, list[tuple[dict[str, Any], int]]], Awaitable[None]],
    key: str,
) -> None:
    """A stretch of events applied as one by one would apply them: ``upsert`` takes the data and
    stream versions of events whose ``key`` differs, a run of them (:func:`distinct_runs`) at a
    time."""
    for run in distinct_runs(envelopes, key=lambda e: e.data[key]):
        await upsert(conn, [(e.data, e.version) for e in run])


def distinct_runs(
    envelopes: Sequence[Envelope], key: Callable[[Envelope], Hashable]
) -> Iterator[Sequence[Envelope]]:
    """``envelopes`` cut, in order, into stretches in which no key appears twice: what one
    set-wise upsert can apply (PostgreSQL refuses to change a row twice in one statement)."""
    start, seen = 0, set[Hashable]()
    for index, envelope in enumerate(envelopes):
        k = key(envelope)
        if k in seen:
            yield envelopes[start:index]
            start, seen = index, set[Hashable]()
        seen.add(k)
    if start < len(envelopes):
        yield envelopes[start:]


_INSERT = (
    "INSERT INTO inbox (seq, event_id, service, stream_id, version, type, recorded_at, envelope)"
    " SELECT nextval('inbox_seq_seq'), e.* FROM unnest($1::uuid[], $2::text[], $3::text[],"
    " $4::int[], $5::text[], $6::timestamptz[], $7::text[]::jsonb[])"
    " AS e(event_id, service, stream_id, version, type, recorded_at, envelope)"
)


async def handle_once(pool: asyncpg.Pool, handler: Handler, envelope: Envelope) -> bool:
    """Apply ``handler`` and record the inbox row in one transaction; False for a duplicate."""
    return await handle_batch(pool, handler, [envelope]) == 1


async def handle_batch(pool: asyncpg.Pool, handler: Handler, envelopes: Sequence[Envelope]) -> int:
    """Apply every new envelope, in order, in one transaction; returns how many were new.

    Raises what a handler raises (nothing of the batch is then applied) and
    ``asyncpg.UniqueViolationError`` when another consumer recorded one of them meanwhile.
    Delivery order is taken as it comes: the consumer goes through
    :func:`shared.ordering.handle_in_order`, which puts each stream in version order first.
    """
    async with pool.acquire() as conn, conn.transaction():
        ids = [e.event_id for e in envelopes]
        seen = {
            r[0]
            for r in await conn.fetch(
                "SELECT event_id FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            )
        }
        fresh: list[Envelope] = []
        for envelope in envelopes:
            if envelope.event_id in seen:
                continue
            seen.add(envelope.event_id)  # a message redelivered within one batch counts once
            fresh.append(envelope)
        await apply_effects(conn, handler, fresh)
        if fresh:
            await lock_inbox(conn)
            await insert_into_inbox(conn, fresh)
    return len(fresh)


@dataclass(frozen=True)
class RevealingHandler:
    """A handler given the envelopes with their personal fields revealed (docs/privacy.md);
    the inbox keeps them as they came, sealed."""

    inner: Handler
    personal: PersonalData

    async def __call__(self, conn: Conn, envelope: Envelope) -> None:
        await self.apply(conn, [envelope])

    async def apply(self, conn: Conn, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:  # an erasure: the key cached here must not outlive it
            if envelope.type == "PersonalDataErased":
                self.personal.forget(str(envelope.data["person_id"]))
        await apply_effects(conn, self.inner, await self.personal.reveal(envelopes))


def revealing(handler: Handler, personal: PersonalData | None) -> Handler:
    """``handler`` seeing revealed personal fields; itself when there is nothing to reveal with."""
    return handler if personal is None else RevealingHandler(handler, personal)


async def apply_effects(conn: Conn, handler: Handler, envelopes: Sequence[Envelope]) -> None:
    """The handler's effects of ``envelopes``, in order (set-wise where the handler can)."""
    if isinstance(handler, SetwiseHandler | RevealingHandler):
        await handler.apply(conn, envelopes)
    else:
        for envelope in envelopes:
            await handler(conn, envelope)


async def lock_inbox(conn: Conn) -> None:
    """Held to commit: inbox rows (and ``seq``) are written one transaction at a time."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", INBOX_LOCK)


async def insert_into_inbox(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """The inbox rows of ``envelopes`` (under :func:`lock_inbox`)."""
    await conn.execute(_INSERT, *_columns(envelopes))


def _columns(envelopes: Sequence[Envelope]) -> tuple[list[object], ...]:
    return (
        [e.event_id for e in envelopes],
        [e.service for e in envelopes],
        [e.stream_id for e in envelopes],
        [e.version for e in envelopes],
        [e.type for e in envelopes],
        [e.recorded_at for e in envelopes],
        [e.to_json().decode() for e in envelopes],
    )


# --- housekeeping: payloads past their retention --------------------------------------------

INBOX_PURGE_BATCH_SIZE = 5_000


@dataclass(frozen=True)
class InboxRetention:
    """Which received events' payloads must be kept whatever their age (docs/operations.md,
    ADR 0020). ``read_types``: the types something reads from the inbox again (a projection's
    rebuild, the erasure list); None when a reader takes every type, and then nothing is purged.
    ``subject_field``: a row whose data carries it is kept too (assessment's audit replays every
    upstream event about a trainee, whatever its type)."""

    read_types: frozenset[str] | None
    subject_field: str | None = None

    @property
    def purges_anything(self) -> bool:
        return self.read_types is not None


# The row stays, and with it everything the dedup and the version order read (event id, service,
# stream, version, type, seq): a redelivered or back-filled copy is still recognised and dropped,
# and the stream's next version still finds its predecessor (ADR 0008). Only ``data`` goes.
_PURGE_PAYLOADS = """
WITH due AS (
    SELECT seq FROM inbox
    WHERE seq > $1 AND seq <= $2 AND received_at < $3
      AND NOT (type = ANY ($4::text[]))
      AND ($5::text IS NULL OR NOT (envelope -> 'data') ? $5)
      AND envelope -> 'data' <> '{}'::jsonb
)
UPDATE inbox SET envelope = jsonb_set(envelope, '{data}', '{}'::jsonb)
FROM due WHERE inbox.seq = due.seq
"""


async def purge_inbox_payloads(
    pool: asyncpg.Pool,
    retention: InboxRetention,
    received_before: Any,
    after_seq: int,
    *,
    batch_size: int = INBOX_PURGE_BATCH_SIZE,
) -> tuple[int, int]:
    """Empty the payload of every row after ``after_seq`` received before ``received_before``
    whose type nothing reads again; (rows emptied, the seq up to which rows were looked at).

    Rows are visited once, in seq order from the previous run's mark, a batch of seqs per
    statement (short transactions); rows of kept types behind the mark are not looked at again.
    """
    if not retention.purges_anything:
        return 0, after_seq
    through = await pool.fetchval(
        "SELECT max(seq) FROM inbox WHERE seq > $1 AND received_at < $2",
        after_seq,
        received_before,
    )
    if through is None:
        return 0, after_seq
    kept = sorted(retention.read_types or ())
    purged, start = 0, after_seq
    while start < through:
        end = min(start + batch_size, int(through))
        status = await pool.execute(
            _PURGE_PAYLOADS, start, end, received_before, kept, retention.subject_field
        )
        purged += int(status.split()[-1])  # "UPDATE n"
        start = end
    return purged, int(through)
