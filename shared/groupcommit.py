"""Group commit: concurrent appends of one process share one transaction and one WAL flush.

The append path reads in three files, in this order: ``shared/eventstore.py``
(``PostgresEventStore.append``), this module, and ``shared/sql/append.sql`` (the functions it
calls, and the invariants every append keeps).

Positions are commit-ordered because appends hold the store's lock until they commit (ADR 0001),
so appends serialise on their commits. Batching them buys the throughput back: while one batch is
in flight, new appends queue; the next batch takes them all (:class:`shared.batching.Batcher`),
in one round trip to ``gl_append_grouped``: one set-wise insert when the batch is plain, else
append by append, each in its own subtransaction. A refused append does not sink the others,
whatever the refusal: a batch that fails as a whole (an event id already stored, a value the
database will not take) is decided again append by append, each alone in its own transaction, so
only the bad append's caller gets the error. A caller waits for at most the batch in flight and
its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import asyncpg
import orjson

from shared.batching import Batcher
from shared.db import Conn
from shared.events import Actor, JsonDict, NewEvent

# The events travel as one jsonb document (:func:`events_document`): sent as text, so that the
# pool's jsonb codec does not encode the already encoded document again.
_BATCH_SQL = (
    "SELECT idx, stream, first_version, last_version, first_position, last_position, replayed,"
    " error, detail FROM gl_append_grouped($1, $2, $3, $4::text::jsonb)"
)
_EACH_SQL = _BATCH_SQL.replace("gl_append_grouped(", "gl_append_grouped_each(")


@dataclass(frozen=True, slots=True)
class AppendRequest:
    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int | None
    key: str | None


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """The database's answer to one append: a result row, or why it was refused."""

    stream_id: str  # of the first append, for an idempotent repeat

    first_version: int | None
    last_version: int | None
    first_position: int | None
    last_position: int | None
    replayed: bool | None
    error: str | None  # None, "conflict" (detail: the stream's version) or "unique" (constraint)
    detail: str | None


class GroupCommit:
    """Concurrent appends share one call of ``gl_append_grouped`` (a :class:`Batcher`)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        max_events: int = 1000,  # bounds one transaction's size and lock hold
        # A batch that falls back to one subtransaction per append must stay within
        # PostgreSQL's 64 cached subtransactions per backend: past that every other session's
        # snapshots go "suboverflowed" (slow) until the batch commits.
        max_appends: int = 64,
    ) -> None:
        self.pool = pool
        self._batcher: Batcher[AppendRequest, BatchAnswer | Refused] = Batcher(
            self._append, max_appends, weight=lambda r: len(r.events), max_weight=max_events
        )

    async def submit(self, request: AppendRequest) -> BatchAnswer:
        answer = await self._batcher(request)
        if isinstance(answer, Refused):
            raise answer.error
        return answer

    async def _append(self, batch: list[AppendRequest]) -> Sequence[BatchAnswer | Refused]:
        async with self.pool.acquire() as conn:
            try:
                return await _decide(conn, batch)
            except asyncpg.PostgresError:
                if len(batch) == 1:
                    raise
                # The batch's transaction wrote nothing. One append of it may be bad; deciding
                # each alone, in order (a later append to a stream must see an earlier one),
                # fails only that one, with its own error.
                return [await _alone(conn, request) for request in batch]


@dataclass(frozen=True, slots=True)
class Refused:
    """An append the database refused with an error of its own (a value it will not store)."""

    error: asyncpg.PostgresError


async def _decide(conn: Conn, batch: Sequence[AppendRequest]) -> list[BatchAnswer]:
    args = _batch_args(batch)
    try:
        rows = await conn.fetch(_BATCH_SQL, *args)
    except asyncpg.UniqueViolationError:
        # An event id already stored (or twice in the batch): the set-wise insert wrote
        # nothing; decide append by append, which refuses only the append that repeats it.
        rows = await conn.fetch(_EACH_SQL, *args)
    answers = {row[0]: BatchAnswer(*row[1:]) for row in rows}  # row[0]: 1-based append
    return [answers[n] for n in range(1, len(batch) + 1)]


async def _alone(conn: Conn, request: AppendRequest) -> BatchAnswer | Refused:
    try:
        [answer] = await _decide(conn, [request])
    except asyncpg.PostgresError as exc:
        return Refused(exc)
    return answer


def event_columns(events: Sequence[NewEvent]) -> tuple[list[Any], ...]:
    """The per-event array arguments of ``gl_append``, in their order."""
    return (
        [e.event_id for e in events],
        [e.type for e in events],
        [e.schema_version for e in events],
        [e.data for e in events],
        [e.occurred_at for e in events],
        [e.branch_id for e in events],
        [e.actor.as_json() for e in events],
        [e.correlation_id for e in events],
        [e.causation_id for e in events],
        [e.policy_version for e in events],
    )


def _batch_args(requests: Sequence[AppendRequest]) -> tuple[Any, ...]:
    return (
        [r.stream_id for r in requests],
        [r.expected_version for r in requests],
        [r.key for r in requests],
        events_document(requests),
    )


def events_document(requests: Sequence[AppendRequest]) -> str:
    """Every event of the batch as one JSON document, as ``gl_append_grouped`` reads it: an
    array per append of the arrays of its events.

    One orjson call encodes it all; asyncpg would encode ten typed arrays element by element.
    An event's optional fields come last and its trailing nulls are left out: the server reads
    a missing item as null, and parsing fewer items is measurably cheaper.
    """
    actors: dict[Actor, JsonDict] = {}  # a batch has few actors: encode each once
    return orjson.dumps([[_event_item(e, actors) for e in r.events] for r in requests]).decode()


_NOTHING_OPTIONAL = (None,) * 5


def _event_item(e: NewEvent, actors: dict[Actor, JsonDict]) -> Sequence[Any]:
    """One event as ``gl_append_grouped`` reads it: the fields every event has, then the
    optional ones up to the last one set."""
    actor = actors.get(e.actor)
    if actor is None:
        actor = actors[e.actor] = e.actor.as_json()
    occurred = e.occurred_at
    if occurred is not None and occurred.tzinfo is None:
        # asyncpg stores a naive datetime as UTC; say so, or the database would read local time.
        occurred = occurred.replace(tzinfo=UTC)
    optional = (occurred, e.branch_id, e.correlation_id, e.causation_id, e.policy_version)
    if optional == _NOTHING_OPTIONAL:
        return (e.event_id, e.type, e.schema_version, e.data, actor)
    item = [e.event_id, e.type, e.schema_version, e.data, actor, *optional]
    while item[-1] is None:
        item.pop()
    return item
