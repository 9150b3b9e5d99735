"""Personal fields stored in clear before their event type marked them, sealed in place once
(``gradeline personal reencrypt SERVICE``, docs/privacy.md).

The store reveals such events like sealed ones (shared.personal: the upcaster path): their values
while the subject lives, the marker after. But the clear values stay in the table, in its backups
and in every dump, so erasing the person would not erase them. This one-off rewrite turns them
into tokens under their subjects' keys (made if need be), exactly as an append would have sealed
them; the values of a person already erased, whose key is gone, become the marker.

It is the only place history is rewritten, and only because the alternative keeps personal data
no erasure can reach. A rewritten event keeps its id, position, version and every other column;
what changes is its data and so its hash, and the hashes of the events after it in its stream
(each covers its predecessor's). Each affected stream is rewritten in a transaction of its own,
under the store's append lock (an append in between would chain to a hash about to change), from
its first rewritten version on; each row is rehashed with the digest it was written under
(``gl_stored_digest``). The seals, which cover every stream's head hash, are then written anew
(``shared.seal.write_seal``) so that ``gradeline verify`` holds. Consumers keep what they
received (the clear values in their own read models go with the erasure events, not with this).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.events import JsonDict, NewEvent
from shared.personal import ERASED, PersonalData, PersonalFields, is_token

APPEND_LOCK = 7265616465  # the store's append lock (shared/sql/append.sql)
PAGE = 1_000


@dataclass(frozen=True, slots=True)
class Reencrypted:
    """What a run rewrote."""

    events: int  # events whose clear personal values were sealed (or replaced by the marker)
    streams: int  # streams whose chain was recomputed
    rehashed: int  # events whose hash was recomputed: the rewritten ones and those after them
    erased: int  # events among ``events`` holding values of an erased person: now the marker


def clear_fields(spec: PersonalFields, data: JsonDict) -> list[str]:
    """The marked fields of ``data`` holding a clear value (not a token, not None)."""
    return [
        name for name, _ in spec.fields if data.get(name) is not None and not is_token(data[name])
    ]


async def clear_streams(source: Any, fields: Mapping[str, PersonalFields]) -> dict[str, int]:
    """Each stream holding clear personal values, with the first version that holds some."""
    found: dict[str, int] = {}
    after = 0
    while True:
        rows = await source.fetch(
            "SELECT position, stream_id, version, type, data FROM events"
            " WHERE type = ANY($1::text[]) AND position > $2 ORDER BY position LIMIT $3",
            sorted(fields),
            after,
            PAGE,
        )
        if not rows:
            return found
        for position, stream, version, event_type, data in rows:
            after = position
            if clear_fields(fields[event_type], data) and version < found.get(stream, version + 1):
                found[stream] = version


async def reencrypt(pool: Any, personal: PersonalData) -> Reencrypted:
    """Seal every clear personal value of the store in place and recompute the chains of the
    streams holding them (the caller re-seals: :func:`shared.seal.write_seal`)."""
    events = rehashed = erased = 0
    streams = await clear_streams(pool, personal.fields)
    for stream, first in sorted(streams.items()):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK)
            counts = await _rewrite_stream(conn, personal, stream, first)
        events, rehashed, erased = events + counts[0], rehashed + counts[1], erased + counts[2]
    return Reencrypted(events, len(streams), rehashed, erased)


async def _rewrite_stream(
    conn: Any, personal: PersonalData, stream: str, first: int
) -> tuple[int, int, int]:
    """Seal the clear values of ``stream`` from version ``first`` on and rechain what follows;
    (events rewritten, events rehashed, of them erased)."""
    prev = await conn.fetchval(
        "SELECT hash FROM events WHERE stream_id = $1 AND version = $2", stream, first - 1
    )
    rows = await conn.fetch(
        "SELECT position, event_id, type, data FROM events"
        " WHERE stream_id = $1 AND version >= $2 ORDER BY version FOR UPDATE",
        stream,
        first,
    )
    rewritten = erased = 0
    for position, event_id, event_type, data in rows:
        spec = personal.fields.get(event_type)
        if spec is not None and clear_fields(spec, data):
            data, was_erased = await _sealed(
                personal, spec, NewEvent(event_type, data, 1, event_id)
            )
            rewritten += 1
            erased += was_erased
        await conn.execute(
            "UPDATE events SET data = $2, prev_hash = $3 WHERE position = $1", position, data, prev
        )
        # Under the digest the row was written with: verify recomputes it the same way.
        prev = await conn.fetchval(
            "UPDATE events e SET hash = gl_stored_digest(e) WHERE position = $1 RETURNING hash",
            position,
        )
    return rewritten, len(rows), erased


async def _sealed(
    personal: PersonalData, spec: PersonalFields, event: NewEvent
) -> tuple[JsonDict, bool]:
    """The event's data sealed as an append would seal it; the values of an erased person (no
    key to seal them with) become the marker. True when there were such values."""
    data = event.data
    clear = clear_fields(spec, data)
    subjects = {name: str(data[subject]) for name, subject in spec.fields if name in clear}
    gone = await personal.key_store.erased(set(subjects.values()))
    markers = {
        name: [ERASED] if isinstance(data[name], list) else ERASED
        for name, subject in subjects.items()
        if subject in gone
    }
    # The seal leaves None alone: the erased person's fields wait aside, as their markers.
    [sealed] = await personal.seal([event._replace(data={**data, **dict.fromkeys(markers)})])
    return {**sealed.data, **markers}, bool(markers)
