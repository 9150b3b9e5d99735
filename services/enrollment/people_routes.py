"""The people enrollment knows (trainees and staff) as data subjects: erasure of a person's
personal data (issue 19, docs/privacy.md).

``POST /people/{person_id}/erasure`` destroys the person's key, so every sealed copy of their
personal fields (in every service's events, on the bus, in inboxes and backups) reads as erased,
then records :class:`~shared.erasure.PersonalDataErased` on stream ``person-<id>`` for every
service to replace the person's fields in its read models. The event's id is derived from the
person's id: a repeat appends nothing and answers ``already``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from shared.auth import Role
from shared.commands import Write, writer
from shared.decider import NotFound
from shared.erasure import PersonalDataErased
from shared.eventstore import ANY_VERSION, EventStore
from shared.personal import PersonalData
from shared.requests import NotBlank, RequestBody

from .domain import staff, trainee
from .domain.events import registry

router = APIRouter(tags=["people"])

PERSON_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"  # a trainee's or a member of staff's id
PersonIdPath = Annotated[str, Path(pattern=PERSON_PATTERN)]
# The organisation's administrator alone (like the organisation's routes).
Erasure = Annotated[Write, writer(Role.ADMIN, if_match=False)]
# The namespace of the erasure events' ids: uuid5(ERASURE_IDS, person id).
ERASURE_IDS = uuid.UUID("5c0f6d2e-8a43-5b7e-9d1a-3f4e2b6c9a10")


class ErasureRequest(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=500), NotBlank]


class ErasureAnswer(BaseModel):
    person_id: str
    erased_at: datetime
    already: bool  # the person had been erased before: this request changed nothing


def stream_id(person_id: str) -> str:
    return f"person-{person_id}"


def erasure_event_id(person_id: str) -> uuid.UUID:
    """The id of the person's erasure event: the same for every request, so one is kept."""
    return uuid.uuid5(ERASURE_IDS, person_id)


def _streams_of(person_id: str) -> list[str]:
    """The streams that make ``person_id`` someone enrollment knows."""
    return [trainee.stream_id(person_id), staff.stream_id(person_id)]


async def _known(store: EventStore, person_id: str) -> bool:
    for stream in _streams_of(person_id):
        if await store.read_stream(stream, to_version=1):
            return True
    return False


async def _recorded(store: EventStore, person_id: str) -> PersonalDataErased | None:
    found = await store.read_stream(stream_id(person_id), to_version=1)
    return cast(PersonalDataErased, registry.decode(found[0])) if found else None


@router.post("/people/{person_id}/erasure", status_code=202)
async def erase_person(
    person_id: PersonIdPath, body: ErasureRequest, write: Erasure
) -> ErasureAnswer:
    """Erase a trainee's or a member of staff's personal data (PersonalDataErased): their key is
    destroyed, so their names, certificates and texts read as "[erased]" in every service, while
    decisions, numbers and ids stay. A repeat changes nothing (``already``: true); a person
    enrollment does not know is a 404. Nothing new about an erased person is kept afterwards
    (409)."""
    state = write.app_state
    store: EventStore = state.store
    earlier = await _recorded(store, person_id)
    if earlier is not None:
        return ErasureAnswer(person_id=person_id, erased_at=earlier.erased_at, already=True)
    if not await _known(store, person_id):
        raise NotFound(f"no trainee or staff {person_id}")
    personal: PersonalData = state.personal
    # First: from now on nothing reveals them (erasing also drops this process's folded states,
    # which hold revealed values: shared.api wires PersonalData.on_forget to the state cache).
    await personal.erase(person_id, body.reason)
    event = PersonalDataErased(
        person_id=person_id, reason=body.reason, erased_at=write.now, erased_by=write.actor_id
    )
    meta = write.meta(None)
    new = registry.encode(
        event,
        event_id=erasure_event_id(person_id),
        actor=meta.actor,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        idempotency_key=meta.idempotency_key,
        occurred_at=meta.occurred_at,
    )
    appended = await store.append(stream_id(person_id), [new], ANY_VERSION)
    if appended.replayed:  # a concurrent request recorded it first: its answer stands
        recorded = await _recorded(store, person_id)
        assert recorded is not None
        return ErasureAnswer(person_id=person_id, erased_at=recorded.erased_at, already=True)
    return ErasureAnswer(person_id=person_id, erased_at=write.now, already=False)
