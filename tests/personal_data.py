"""Helpers for the erasure tests (issue 19, docs/privacy.md): upstream events sealed as their
producer stores them, the erasure enrollment publishes, and a scan of a whole database for what
an erased person's data was."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import asyncpg

from shared.erasure import ERASED_TYPE
from shared.events import Actor, Envelope, NewEvent
from shared.keystore import open_key_store
from shared.personal import PersonalData, PersonalFields
from shared.projections import Projection, verify
from shared.settings import Settings
from tests.support import delivered

ADMIN = Actor("admin-1", "admin")


def fields(**by_type: Sequence[str]) -> dict[str, PersonalFields]:
    """Each event type's personal fields, all of the trainee (``trainee_id``)."""
    return {
        event_type: PersonalFields(tuple((name, "trainee_id") for name in names))
        for event_type, names in by_type.items()
    }


# What the producers seal (their registries mark these fields): enrollment's TraineeEnrolled v2,
# assessment's reasons, training's concern texts, a staff member's name.
UPSTREAM_FIELDS = {
    **fields(
        TraineeEnrolled=("name", "certificates"),
        DispositionDecided=("reason",),
        GradeDisputed=("reason",),
        TraineeConcernNoted=("text",),
        ConcernHandled=("handling",),
    ),
    "StaffRegistered": PersonalFields((("name", "staff_id"),)),
}


async def producer_personal(
    settings: Settings, stack: AsyncExitStack, by_type: Mapping[str, PersonalFields] | None = None
) -> PersonalData:
    """A producer's PersonalData, on a pool of its own over the deployment's key database (the
    one the app under test uses)."""
    fields = UPSTREAM_FIELDS if by_type is None else by_type
    return PersonalData(await open_key_store(settings, stack), fields)


async def sealed(personal: PersonalData, envelope: Envelope) -> Envelope:
    """``envelope`` with its personal fields sealed, as its producer's store keeps and publishes
    it (the token's associated data is the event id, which stays)."""
    new = NewEvent(envelope.type, envelope.data, envelope.schema_version, envelope.event_id)
    (done,) = await personal.seal([new])
    return envelope._replace(data=done.data)


def enrolled_v2(envelope: Envelope) -> Envelope:
    """A TraineeEnrolled as enrollment writes it since issue 19: schema 2, with the clear count
    of the (sealed) certificates."""
    data = {**envelope.data, "certificate_count": len(set(envelope.data["certificates"]))}
    return envelope._replace(schema_version=2, data=data)


def erasure(person_id: str, version: int = 1, position: int = 1000) -> Envelope:
    """Enrollment's PersonalDataErased of ``person_id`` (stream ``person-<id>``)."""
    at = datetime.now(UTC)
    data = {
        "person_id": person_id,
        "reason": "the person asked (PIPL Art. 47)",
        "erased_at": at.isoformat(),
        "erased_by": ADMIN.sub,
    }
    envelope = delivered(
        "enrollment",
        ERASED_TYPE,
        f"person-{person_id}",
        data,
        version,
        position=position,
        at=at,
        actor=ADMIN,
    )
    return envelope._replace(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"erasure:{person_id}"))


async def tables(pool: asyncpg.Pool) -> list[str]:
    """Every table of every schema of the database (its own, the projections', the scratch)."""
    rows = await pool.fetch(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM"
        " information_schema.tables WHERE table_type = 'BASE TABLE'"
        " AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    return [r[0] for r in rows]


async def found(pool: asyncpg.Pool, needles: Iterable[str]) -> dict[str, list[str]]:
    """Each needle -> the tables holding it in a row's text: as itself, and as the hex of its
    UTF-8 bytes (a bytea column, such as a stored answer's body, shows as hex). Scanned again
    from the start when a table went away meanwhile (a projection's rebuild swaps its schema)."""
    needles = list(needles)
    while True:
        try:
            return await _found(pool, needles)
        except asyncpg.UndefinedTableError:
            continue


async def _found(pool: asyncpg.Pool, needles: Iterable[str]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    everywhere = await tables(pool)
    for needle in needles:
        hexed = needle.encode().hex()
        for table in everywhere:
            if await pool.fetchval(
                f"SELECT EXISTS (SELECT 1 FROM {table} t WHERE strpos(t::text, $1) > 0"
                " OR strpos(t::text, $2) > 0)",
                needle,
                hexed,
            ):
                hits.setdefault(needle, []).append(table)
    return hits


async def projection_differences(
    pool: asyncpg.Pool, service: str, projections: Sequence[Projection], personal: PersonalData
) -> dict[str, list[str]]:
    """Each projection's differences between its live tables and a rebuild from history."""
    return {p.name: await verify(pool, service, p, personal) for p in projections}
