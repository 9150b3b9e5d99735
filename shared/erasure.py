"""What every service does when a person's data is erased (docs/privacy.md).

Enrollment destroys the person's key and appends :class:`PersonalDataErased` (stream
``person-<id>``); every service, enrollment included, then

- forgets any cached copy of the key (:func:`shared.inbox.revealing` does it as the event is
  consumed, before anything else of the batch is revealed);
- keeps the person in ``erased_people`` (the :func:`erasure_projection`, from its own events or
  its inbox) for pages and exports to say "erased";
- deletes the stored Idempotency-Key answers that mention the person (a replayed answer could
  hold their name in clear): a repeat of such a request is decided again, and the event store,
  which remembers the key, applies its effect once all the same.

A service's own read models replace the person's fields with :data:`shared.personal.ERASED` in
their handlers of the event; a rebuild gives the same, since revealing yields the marker.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.events import Envelope, Event

if TYPE_CHECKING:  # the event is a service's domain's, which imports no database driver
    from shared.db import Conn
    from shared.projections import Projection

ERASED_TYPE = "PersonalDataErased"


class PersonalDataErased(Event):
    """A person's key was destroyed: their personal fields read as erased everywhere."""

    event_type = ERASED_TYPE
    person_id: str
    reason: str  # why, as the administrator wrote it (a request, a retention rule)
    erased_at: datetime
    erased_by: str


def erased_person(envelope: Envelope) -> str | None:
    """The person an envelope erases (None: it is not an erasure)."""
    return str(envelope.data["person_id"]) if envelope.type == ERASED_TYPE else None


async def _apply(conn: Conn, envelope: Envelope) -> None:
    person = erased_person(envelope)
    if person is None:
        return
    await conn.execute(
        "INSERT INTO erased_people (person_id, erased_at) VALUES ($1, $2)"
        " ON CONFLICT (person_id) DO NOTHING",
        person,
        datetime.fromisoformat(envelope.data["erased_at"]),
    )
    # The id as a JSON string, anywhere in a stored answer's body (ids stay in clear).
    await conn.execute(
        "DELETE FROM public.http_idempotency WHERE position(convert_to($1, 'UTF8') IN body) > 0",
        f'"{person}"',
    )


def erasure_projection() -> Projection:
    """Every service's: the people erased, from its own events (enrollment) or inbox."""
    from shared.projections import Projection

    return Projection(
        name="erasure",
        ddl="CREATE TABLE erased_people ("
        " person_id text PRIMARY KEY, erased_at timestamptz NOT NULL);",
        apply=_apply,
        sources=("events", "inbox"),
        types=frozenset({ERASED_TYPE}),
    )
