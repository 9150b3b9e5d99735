"""A person's access request (PIPL Art. 45, GDPR Art. 15; docs/privacy.md): everything one
service holds about a person, decrypted.

- every event of the person in the service's own ``events`` and in its ``inbox`` (and parked
  inbox): the person's id as a JSON string anywhere in the event's data, or the stream of the
  person (``trainee-<id>``, ``plan-<id>``...); revealed with the service's keys, so a sealed name
  reads as the name (an erased person's as :data:`shared.personal.ERASED`);
- every read-model row that names the person: each table of each projection schema
  (``proj_*``) and of the service's own plain tables, whose row holds the id as a whole token.

``GET /people/{person_id}/data/local`` answers it to the person themself (the token's ``sub``)
and to ``admin``; enrollment gathers the four services' parts (``GET /people/{id}/data``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from shared.auth import CurrentPrincipal, Principal, Role
from shared.db import Conn
from shared.events import Envelope
from shared.eventstore import EVENT_COLUMNS, row_to_envelope
from shared.personal import PersonalData
from shared.problems import forbidden

PERSON_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
PersonIdPath = Annotated[str, Path(pattern=PERSON_ID_PATTERN)]
ID_CHARS = "A-Za-z0-9_.-"  # an id is bounded by anything else (PERSON_ID_PATTERN)
Source = Literal["events", "inbox", "inbox_parked"]

# The service's own tables that are not read models: the event store's and the mechanisms'
# (events and inboxes are searched as events; stored answers are purged by erasure).
NOT_READ_MODELS = (
    "events",
    "inbox",
    "inbox_parked",
    "seals",
    "checkpoints",
    "http_idempotency",
    "housekeeping_runs",
    "consumer_members",
)
# Where the person is: their id as a JSON string in the data, or the stream ``<kind>-<id>``.
_OF_PERSON = (
    "position($1 in {data}::text) > 0 OR substr(stream_id, strpos(stream_id, '-') + 1) = $2"
)
_EVENTS_SQL = f"SELECT {EVENT_COLUMNS} FROM events WHERE {_OF_PERSON.format(data='data')}"
_INBOX_SQL = "SELECT envelope FROM {table} WHERE " + _OF_PERSON.format(data="(envelope->'data')")
_INBOXES: tuple[tuple[Source, str], ...] = (("inbox", "seq"), ("inbox_parked", "parked_at"))
# Base tables of the projections (not their scratch copies, ``proj_x__new``) and the service's
# plain tables but the mechanisms'.
_TABLES_SQL = (
    "SELECT table_schema, table_name FROM information_schema.tables"
    " WHERE table_type = 'BASE TABLE' AND ("
    r"(table_schema LIKE 'proj\_%' AND table_schema NOT LIKE '%\_\_%')"
    " OR (table_schema = 'public' AND NOT table_name = ANY($1::text[])"
    r" AND table_name NOT LIKE 'schema\_%'))"
    " ORDER BY table_schema, table_name"
)


class HeldEvent(BaseModel):
    """One event about the person, as the service keeps it, its personal fields revealed."""

    source: Source  # the service's own events, or what it received from another (inbox)
    service: str  # the service that recorded it
    event_id: str
    stream_id: str
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: dict[str, str]
    branch_id: str | None
    data: dict[str, Any]


class LocalData(BaseModel):
    """What one service holds about a person: events, and read-model rows by table."""

    service: str
    person_id: str
    events: list[HeldEvent]
    rows: dict[str, list[dict[str, Any]]]  # "schema.table" -> rows, each column JSON-safe


def may_access(principal: Principal, person_id: str) -> None:
    """403 unless the caller is the person themself or an administrator."""
    if principal.sub != person_id and not principal.has_role(Role.ADMIN):
        raise forbidden("a person's data is answered to the person themself or to admin")


async def collect(
    conn: Conn, service: str, personal: PersonalData | None, person_id: str
) -> LocalData:
    """What ``service`` holds about ``person_id``, read through ``conn`` (one snapshot)."""
    return LocalData(
        service=service,
        person_id=person_id,
        events=await held_events(conn, service, personal, person_id),
        rows=await held_rows(conn, person_id),
    )


async def held_events(
    conn: Conn, service: str, personal: PersonalData | None, person_id: str
) -> list[HeldEvent]:
    """The person's events in the store, then in the inbox (each in its order), revealed."""
    args = (orjson.dumps(person_id).decode(), person_id)
    own = [
        row_to_envelope(r, service)
        for r in await conn.fetch(_EVENTS_SQL + " ORDER BY position", *args)
    ]
    found: list[tuple[Source, list[Envelope]]] = [("events", own)]
    for table, order in _INBOXES:
        rows = await conn.fetch(_INBOX_SQL.format(table=table) + f" ORDER BY {order}", *args)
        found.append((table, [Envelope.from_stored(r[0]) for r in rows]))
    held: list[HeldEvent] = []
    for source, envelopes in found:
        if personal is not None:  # sealed or not: reveal leaves clear values alone
            envelopes = await personal.reveal(envelopes)
        held.extend(_held(source, e) for e in envelopes)
    return held


def _held(source: Source, e: Envelope) -> HeldEvent:
    return HeldEvent(
        source=source,
        service=e.service,
        event_id=str(e.event_id),
        stream_id=e.stream_id,
        version=e.version,
        type=e.type,
        occurred_at=e.occurred_at,
        recorded_at=e.recorded_at,
        actor=e.actor.as_json(),
        branch_id=e.branch_id,
        data=jsonable(e.data),
    )


async def held_rows(conn: Conn, person_id: str) -> dict[str, list[dict[str, Any]]]:
    """Each read-model table's rows holding the person's id as a whole token."""
    token = f"(^|[^{ID_CHARS}]){re.escape(person_id)}($|[^{ID_CHARS}])"
    found: dict[str, list[dict[str, Any]]] = {}
    for schema, table in await conn.fetch(_TABLES_SQL, list(NOT_READ_MODELS)):
        name = f"{_quoted(schema)}.{_quoted(table)}"
        rows = await conn.fetch(f"SELECT t.* FROM {name} AS t WHERE to_jsonb(t)::text ~ $1", token)
        if rows:
            found[f"{schema}.{table}"] = [jsonable(dict(r)) for r in rows]
    return found


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def jsonable(value: Any) -> Any:
    """``value`` with what JSON lacks as text: decimals exact, moments in ISO 8601, ids, bytes
    in hex."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


async def local_part(state: Any, service: str, person_id: str) -> LocalData:
    """:func:`collect` from the app's pool and keys, in one read-only snapshot."""
    personal = getattr(state, "personal", None)
    async with (
        state.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        return await collect(conn, service, personal, person_id)


def personal_data_router(service: str) -> APIRouter:
    """``GET /people/{person_id}/data/local``: the service's part of an access request."""
    router = APIRouter(tags=["personal data"])

    @router.get("/people/{person_id}/data/local")
    async def local_personal_data(
        person_id: PersonIdPath, principal: CurrentPrincipal, request: Request
    ) -> LocalData:
        """Everything this service holds about the person (their events, revealed, and their
        read-model rows): to the person themself (the token's ``sub``) or ``admin``; anyone
        else 403."""
        may_access(principal, person_id)
        return await local_part(request.app.state, service, person_id)

    return router
