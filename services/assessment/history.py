"""Reads of the service's own storage by trainee or session: its events and its inbox.

Decisions that depend on other aggregates (closing a session needs every sitting's outcome; a
disposition or a dispute needs the trainee's latest decision) read the event store here rather
than a projection: the store is never behind, a read model may be.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.events import Envelope
from shared.eventstore import EVENT_COLUMNS, row_to_envelope

from .domain.assessment import stream_id as assessment_stream

OWN_SERVICE = "assessment"  # app.SERVICE (here to keep app.py the only module importing all)
DECISIONS = ["GradeAssigned", "AssessmentFailed"]
Source = Any  # an asyncpg pool or connection


async def latest_decision(source: Source, trainee_id: str) -> Envelope | None:
    """The trainee's latest grade decision across sittings (a correction replaces the first)."""
    row = await source.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE data ->> 'trainee_id' = $1"
        " AND type = ANY($2::text[]) ORDER BY position DESC LIMIT 1",
        trainee_id,
        DECISIONS,
    )
    return None if row is None else row_to_envelope(row, OWN_SERVICE)


async def event_by_id(source: Source, event_id: uuid.UUID) -> Envelope | None:
    row = await source.fetchrow(f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = $1", event_id)
    return None if row is None else row_to_envelope(row, OWN_SERVICE)


async def session_outcomes(source: Source, session_id: str) -> dict[str, bool]:
    """R-24 input: trainee -> passed both exams, for every trainee decided in the session (the
    latest decision of each sitting; a trainee with scores still missing was not assessed)."""
    rows = await source.fetch(
        "SELECT DISTINCT ON (stream_id) data ->> 'trainee_id', type FROM events"
        " WHERE starts_with(stream_id, $1) AND type = ANY($2::text[])"
        " ORDER BY stream_id, version DESC",
        assessment_stream(session_id, ""),
        DECISIONS,
    )
    return {row[0]: row[1] == "GradeAssigned" for row in rows}


async def trainee_events(source: Source, trainee_id: str) -> list[Envelope]:
    """Every event of every stream about the trainee (its sittings and disputes), in order.

    Whole streams are read, not only the events naming the trainee, so an event whose
    ``trainee_id`` was edited in place still shows (and its stream's hash chain reports it).
    """
    rows = await source.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id IN (SELECT DISTINCT stream_id"
        " FROM events WHERE data ->> 'trainee_id' = $1) ORDER BY position",
        trainee_id,
    )
    return [row_to_envelope(row, OWN_SERVICE) for row in rows]


async def trainee_inbox(source: Source, trainee_id: str) -> list[tuple[datetime, Envelope]]:
    """The upstream events about the trainee, in the order they were received."""
    rows = await source.fetch(
        "SELECT received_at, envelope FROM inbox"
        " WHERE (envelope -> 'data') ->> 'trainee_id' = $1 ORDER BY seq",
        trainee_id,
    )
    return [(row[0], Envelope.from_stored(row[1])) for row in rows]


# The upstream store's digest (shared/sql/digests.sql) recomputed from the kept envelope: an
# inbox row edited after receipt no longer matches the hash its producer computed. Only the
# content is checked, not the chain link: the inbox holds a subset of each upstream stream. An
# envelope does not say which digest its producer used: a copy is intact when it matches either.
# That is no weaker than one digest: a hash made under digest 2 does not come out of digest 1
# for an edited copy, and whoever can rewrite the stored hash could do it under either.
_INBOX_TAMPERING = """
SELECT envelope ->> 'service', envelope ->> 'stream_id', (envelope ->> 'version')::int,
       envelope ->> 'event_id'
FROM inbox WHERE (envelope -> 'data') ->> 'trainee_id' = $1 AND envelope ->> 'hash' IS NOT NULL
 AND decode(envelope ->> 'hash', 'hex') IS DISTINCT FROM gl_event_digest_v2(
     decode(envelope ->> 'prev_hash', 'hex'), (envelope ->> 'event_id')::uuid,
     envelope ->> 'stream_id', (envelope ->> 'version')::int, (envelope ->> 'position')::bigint,
     envelope ->> 'type', (envelope ->> 'schema_version')::int,
     (envelope ->> 'occurred_at')::timestamptz, (envelope ->> 'recorded_at')::timestamptz,
     envelope -> 'data', envelope -> 'actor', envelope ->> 'branch_id',
     (envelope ->> 'correlation_id')::uuid, (envelope ->> 'causation_id')::uuid,
     envelope ->> 'idempotency_key', envelope ->> 'policy_version')
 AND decode(envelope ->> 'hash', 'hex') IS DISTINCT FROM gl_event_digest(
     decode(envelope ->> 'prev_hash', 'hex'), (envelope ->> 'event_id')::uuid,
     envelope ->> 'stream_id', (envelope ->> 'version')::int, envelope ->> 'type',
     (envelope ->> 'schema_version')::int, (envelope ->> 'occurred_at')::timestamptz,
     envelope -> 'data', envelope -> 'actor', envelope ->> 'branch_id',
     envelope ->> 'policy_version')
ORDER BY seq
"""


async def tampered_inbox(source: Source, trainee_id: str) -> list[tuple[str, str, int, str]]:
    """(service, stream id, version, event id) of each edited upstream event about the trainee."""
    return [tuple(row) for row in await source.fetch(_INBOX_TAMPERING, trainee_id)]


async def every_trainee(source: Source) -> list[str]:
    """Each trainee assessment has heard of or decided about."""
    rows = await source.fetch(
        "SELECT trainee_id FROM trainee_facts UNION"
        " SELECT DISTINCT data ->> 'trainee_id' FROM events WHERE data ? 'trainee_id'"
        " ORDER BY 1"
    )
    return [row[0] for row in rows if row[0] is not None]
