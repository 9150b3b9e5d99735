"""Keys fetched for concurrent seals and reveals share one key-store call (shared/personal.py):
an enrolment seals a new person's fields before its append starts, and 16 enrolments at once
would otherwise wait for 16 key-store round trips (measured: ``python -m bench personal``)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from shared.events import NewEvent
from shared.memstore import InMemoryEventStore
from shared.personal import MemoryKeyStore, PersonalData, is_token, personal_map
from tests.unit.test_personal import enrolled, registry


class CountingKeyStore(MemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[set[str], bool]] = []

    async def keys(self, subjects: Collection[str], *, create: bool) -> Mapping[str, bytes | None]:
        self.calls.append((set(subjects), create))
        await asyncio.sleep(0)  # a round trip: others queue meanwhile
        return await super().keys(subjects, create=create)


async def test_concurrent_seals_of_new_people_share_one_key_store_call():
    keys = CountingKeyStore()
    store = InMemoryEventStore(personal=PersonalData(keys, personal_map(registry)))

    await asyncio.gather(
        *(store.append(f"trainee-t-{n}", [enrolled(f"t-{n}", f"名{n}")], None) for n in range(16))
    )

    # All 16 queued before the batch's flush started: one call, every new person's key made.
    assert keys.calls == [({f"t-{n}" for n in range(16)}, True)]
    assert all(is_token(e.data["name"]) for e in store._log)
    revealed = await store.read_all(0, 100)
    assert sorted(e.data["name"] for e in revealed) == sorted(f"名{n}" for n in range(16))


async def test_reveals_and_seals_do_not_share_a_call():
    """A reveal must not create keys: its requests go in calls without ``create``."""
    keys = CountingKeyStore()
    personal = PersonalData(keys, personal_map(registry))
    [sealed] = await personal.seal([enrolled("t-1")])
    fresh = PersonalData(keys, personal_map(registry))  # an empty cache
    envelope = (await _stored(sealed))[0]

    await asyncio.gather(fresh.reveal([envelope]), fresh.seal([enrolled("t-2")]))

    assert sorted((sorted(s), c) for s, c in keys.calls[1:]) == [
        (["t-1"], False),
        (["t-2"], True),
    ]


async def _stored(event: NewEvent) -> list:
    store = InMemoryEventStore()
    await store.append("trainee-t-1", [event], None)
    return list(store._log)
