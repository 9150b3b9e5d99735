"""The event store: append with an expected version, read a stream, tail everything gap-safely.

Two implementations honour one contract (``tests/integration/test_eventstore_contract.py``):
:class:`PostgresEventStore` here, and :class:`shared.memstore.InMemoryEventStore` for unit tests.

The append path goes on in ``shared/groupcommit.py`` (concurrent appends batched) and ends in
``shared/sql/append.sql`` (the database functions, and the invariants every append keeps).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from shared.batching import Batcher
from shared.events import Actor, Envelope, NewEvent
from shared.groupcommit import AppendRequest, GroupCommit, event_columns
from shared.personal import PersonalData

ANY_VERSION: int | None = None  # append without a version check
NO_STREAM = 0  # the expected version of a stream that does not exist yet


class ConcurrencyError(Exception):
    """The stream is not at the version the caller decided on (HTTP 409 or 412)."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    first_version: int
    last_version: int
    first_position: int
    last_position: int
    replayed: bool = False  # True: an idempotent repeat, nothing was appended


@dataclass(frozen=True, slots=True)
class Tampering:
    """A stored event whose hash or chain link no longer matches its content."""

    stream_id: str
    version: int
    position: int
    problem: str


class EventStore(Protocol):
    service: str

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
        conn: Any = None,
    ) -> AppendResult: ...

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
        after_version: int | None = None,
        conn: Any = None,
    ) -> list[Envelope]: ...

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Envelope]: ...

    async def stream_version(self, stream_id: str) -> int: ...

    async def head_position(self) -> int: ...

    async def verify(self, stream_id: str | Sequence[str] | None = None) -> list[Tampering]: ...


EVENT_COLUMNS = (
    "event_id, stream_id, version, position, type, schema_version, occurred_at, recorded_at,"
    " data, actor->>'sub', actor->>'role', branch_id, correlation_id, causation_id,"
    " idempotency_key, policy_version, encode(prev_hash, 'hex'), encode(hash, 'hex')"
)


def row_to_envelope(row: Any, service: str) -> Envelope:
    """A row selected with ``EVENT_COLUMNS`` as an envelope (the actor comes split by the
    query: no JSON to decode)."""
    t = tuple(row)
    return Envelope._make((*t[:9], Actor(t[9], t[10]), *t[11:16], service, t[16], t[17]))


class PostgresEventStore:
    """The store of one service, in that service's database (asyncpg pool)."""

    def __init__(
        self, pool: asyncpg.Pool, service: str, personal: PersonalData | None = None
    ) -> None:
        self.pool = pool
        self.service = service
        # Seals the personal fields of what is appended and reveals those of what is read
        # (docs/privacy.md); None: events are stored and read as they are (tools, tests).
        self.personal = personal
        self._group = GroupCommit(pool)
        # Concurrent plain stream reads (a command loading its aggregate) share one statement.
        self._reads: Batcher[tuple[str, int], list[Envelope]] = Batcher(self._read_streams)
        # Called after each committed append: in-process tailers (relay, projection runner)
        # wake at once instead of waiting for their next poll.
        self.on_commit: list[Callable[[], None]] = []

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> AppendResult:
        """Append ``events`` at the end of ``stream_id`` atomically.

        ``expected_version`` is the version the caller decided on (``NO_STREAM`` for a new
        stream, ``ANY_VERSION`` for none). A repeated ``idempotency_key`` or event id appends
        nothing and returns the first append's result. Pass ``conn`` to append inside the
        caller's transaction (a consumer's inbox transaction, say).
        """
        if not events:
            raise ValueError("append needs at least one event")
        if self.personal is not None:
            events = await self.personal.seal(events)  # the hash chain covers the ciphertext
        key = idempotency_key if idempotency_key is not None else events[0].idempotency_key
        if conn is None:
            answer = await self._group.submit(
                AppendRequest(stream_id, events, expected_version, key)
            )
            if answer.error is None:
                if not answer.replayed:
                    for wake in self.on_commit:
                        wake()
                return AppendResult(
                    answer.stream_id,
                    answer.first_version or 0,
                    answer.last_version or 0,
                    answer.first_position or 0,
                    answer.last_position or 0,
                    bool(answer.replayed),
                )
            return await self._resolve(
                answer.error, answer.detail, stream_id, events, expected_version, key, self.pool
            )
        args = _append_args(stream_id, events, expected_version, key)
        try:
            async with conn.transaction():  # a savepoint inside the caller's transaction
                row = await conn.fetchrow(_APPEND_SQL, *args)
        except asyncpg.PostgresError as exc:
            error, detail = _refusal(exc)
            return await self._resolve(
                error, detail, stream_id, events, expected_version, key, conn
            )
        assert row is not None
        return AppendResult(row[0], row[1], row[2], row[3], row[4], row[5])

    async def _resolve(
        self,
        error: str,
        detail: str | None,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        key: str | None,
        source: Any,
    ) -> AppendResult:
        """A refused append: a conflict raises; a duplicate returns the first append's result."""
        if error == "conflict":
            raise ConcurrencyError(stream_id, expected_version, int(detail or 0))
        if detail == "events_event_id_key":
            first = await self._result_of_event_ids(source, [e.event_id for e in events])
            if first is not None:
                return first
        if detail == "idempotency_keys_pkey":
            # A concurrent append with the same key committed first: its result stands.
            row = await source.fetchrow(
                "SELECT stream_id, first_version, last_version, first_position, last_position"
                " FROM idempotency_keys WHERE key = $1",
                key,
            )
            if row is not None:
                return AppendResult(row[0], row[1], row[2], row[3], row[4], replayed=True)
        raise RuntimeError(f"append to {stream_id} refused: {error} {detail}")

    @staticmethod
    async def _result_of_event_ids(source: Any, ids: list[uuid.UUID]) -> AppendResult | None:
        row = await source.fetchrow(
            "SELECT min(stream_id), min(version), max(version), min(position), max(position)"
            " FROM events WHERE event_id = ANY($1::uuid[])",
            ids,
        )
        if row is None or row[0] is None:
            return None
        return AppendResult(row[0], row[1], row[2], row[3], row[4], replayed=True)

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
        after_version: int | None = None,
        conn: Any = None,
    ) -> list[Envelope]:
        """The stream's events in version order (those after ``after_version`` only, when
        given); through ``conn`` to see the caller's own uncommitted appends (a consumer
        deciding inside its inbox transaction)."""
        if conn is None and to_version is None and as_of is None:
            return await self._revealed(await self._reads((stream_id, after_version or 0)))
        source = conn if conn is not None else self.pool
        rows = await source.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1"
            " AND ($2::int IS NULL OR version <= $2)"
            " AND ($3::timestamptz IS NULL OR recorded_at <= $3)"
            " AND ($4::int IS NULL OR version > $4)"
            " ORDER BY version",
            stream_id,
            to_version,
            as_of,
            after_version,
        )
        return await self._revealed([row_to_envelope(r, self.service) for r in rows])

    async def _revealed(self, envelopes: list[Envelope]) -> list[Envelope]:
        if self.personal is None or not envelopes:
            return envelopes
        return await self.personal.reveal(envelopes)

    async def _read_streams(self, reads: list[tuple[str, int]]) -> list[list[Envelope]]:
        """Each (stream, after version) read's events, in one round trip for the batch.

        Under load every command loads its aggregate first (the events since its cached state,
        usually none or one): one statement per batch instead of one per command saves the
        pool, the round trip and the statement's planning of each (measured: training's
        re-drafts, see bench/profile_notes.md)."""
        rows = await self.pool.fetch(
            _READ_STREAMS_SQL, [stream for stream, _ in reads], [after for _, after in reads]
        )
        found: list[list[Envelope]] = [[] for _ in reads]
        for row in rows:
            t = tuple(row)
            found[t[0] - 1].append(row_to_envelope(t[1:], self.service))
        return found

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Envelope]:
        """Events after ``after_position`` in position order; positions are commit-ordered."""
        return await self._revealed(
            await fetch_after(self.pool, after_position, limit, self.service)
        )

    async def stream_version(self, stream_id: str) -> int:
        version = await self.pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version)

    async def head_position(self) -> int:
        return int(await self.pool.fetchval("SELECT coalesce(max(position), 0) FROM events"))

    async def verify(self, stream_id: str | Sequence[str] | None = None) -> list[Tampering]:
        """Recompute every hash and chain link (of one stream, several, or all); report each row
        that does not match."""
        streams = [stream_id] if isinstance(stream_id, str) else stream_id
        rows = await self.pool.fetch(_VERIFY_SQL, None if streams is None else list(streams))
        return [Tampering(r[0], r[1], r[2], r[3]) for r in rows]


_APPEND_SQL = "SELECT * FROM gl_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
_READ_ALL_SQL = f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
# Several streams' events after a version each, tagged with the 1-based read they answer. The
# LATERAL probe runs per read on the (stream_id, version) index, whatever the batch's size.
_READ_STREAMS_SQL = (
    "SELECT r.o, e.* FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS r(stream, after, o)"
    f" CROSS JOIN LATERAL (SELECT {EVENT_COLUMNS} FROM events"
    " WHERE events.stream_id = r.stream AND events.version > r.after ORDER BY version) e"
    " ORDER BY r.o, e.version"
)
# The filter must run after the window (lag needs every row), hence the wrapping query. A row is
# checked under the digest it was written with (gl_stored_digest, shared/sql/digests.sql); one
# written under an older digest than its predecessor's was downgraded, which would let an edit
# past the newer digest pass.
_VERIFY_SQL = """
SELECT stream_id, version, position, problem FROM (
    SELECT stream_id, version, position,
           CASE WHEN prev_hash IS DISTINCT FROM lag(hash) OVER w THEN 'chain link broken'
                WHEN digest_version < lag(digest_version) OVER w
                    THEN 'digest older than its predecessor''s'
                WHEN hash IS DISTINCT FROM gl_stored_digest(events)
                    THEN 'content does not match its hash'
           END AS problem
    FROM events WHERE $1::text[] IS NULL OR stream_id = ANY ($1)
    WINDOW w AS (PARTITION BY stream_id ORDER BY version)
) checked WHERE problem IS NOT NULL ORDER BY position
"""


def _refusal(exc: asyncpg.PostgresError) -> tuple[str, str | None]:
    """What ``gl_append`` refused, as the group commit's rows report it; other errors
    propagate."""
    if getattr(exc, "sqlstate", None) == "GL409":
        return "conflict", getattr(exc, "detail", None)
    if isinstance(exc, asyncpg.UniqueViolationError):
        return "unique", getattr(exc, "constraint_name", None)
    raise exc


async def fetch_after(source: Any, after_position: int, limit: int, service: str) -> list[Envelope]:
    """``read_all`` on a given pool or connection (the relay reads on its lock connection)."""
    rows = await source.fetch(_READ_ALL_SQL, after_position, limit)
    return rows_to_envelopes(rows, service)


def rows_to_envelopes(rows: Sequence[Any], service: str) -> list[Envelope]:
    """A page of rows as envelopes; a page's events come from a handful of actors, so each
    actor is built once per page."""
    actors: dict[tuple[Any, ...], Actor] = {}
    envelopes = []
    for row in rows:
        t = tuple(row)
        key = t[9:11]
        actor = actors.get(key)
        if actor is None:
            actor = actors[key] = Actor(*key)
        envelopes.append(Envelope._make((*t[:9], actor, *t[11:16], service, t[16], t[17])))
    return envelopes


def _append_args(
    stream_id: str,
    events: Sequence[NewEvent],
    expected_version: int | None,
    key: str | None,
) -> tuple[Any, ...]:
    return (stream_id, expected_version, key, *event_columns(events))


class TransactionEventStore(PostgresEventStore):
    """A service's store inside one open transaction: every read and append goes through
    ``conn``, so reads see the transaction's own appends and no second connection is taken.

    For consumers' handlers, which get the inbox transaction's connection and decide inside it.
    """

    def __init__(self, conn: Any, service: str, personal: PersonalData | None = None) -> None:
        # A connection answers fetch/fetchrow/fetchval like a pool; appends never reach the
        # pool-only group commit because ``append`` always passes ``conn`` on.
        super().__init__(conn, service, personal)
        self.conn = conn

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
        conn: Any = None,
    ) -> AppendResult:
        return await super().append(
            stream_id,
            events,
            expected_version,
            idempotency_key=idempotency_key,
            conn=conn if conn is not None else self.conn,
        )
