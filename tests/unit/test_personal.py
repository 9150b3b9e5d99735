"""Crypto-shredding of personal fields (shared/personal.py, docs/privacy.md), with the in-memory
key store: sealed on append, revealed on read, the marker once the subject's key is destroyed."""

from __future__ import annotations

import uuid
from typing import Annotated

import pytest
from cryptography.exceptions import InvalidTag

from shared.events import Event, EventRegistry, NewEvent
from shared.memstore import InMemoryEventStore
from shared.personal import (
    ERASED,
    PERSONAL,
    MemoryKeyStore,
    PersonalData,
    SubjectErased,
    is_token,
    personal,
    personal_map,
)

registry = EventRegistry()


@registry.register
class Enrolled(Event):
    event_type = "Enrolled"
    data_subject = "trainee_id"
    trainee_id: str
    name: Annotated[str, PERSONAL]
    certificates: Annotated[list[str], PERSONAL]
    note: Annotated[str | None, PERSONAL] = None
    branch_id: str


@registry.register
class Commented(Event):
    event_type = "Commented"
    data_subject = "trainee_id"
    trainee_id: str
    trainer_id: str
    comment: Annotated[str, PERSONAL]
    trainer_name: Annotated[str, personal(subject="trainer_id")]


def enrolled(trainee_id: str = "t-1", name: str = "张三") -> NewEvent:
    return registry.encode(
        Enrolled(trainee_id=trainee_id, name=name, certificates=["电工证"], branch_id="bo-east")
    )


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def store(keys: MemoryKeyStore) -> InMemoryEventStore:
    return InMemoryEventStore(personal=PersonalData(keys, personal_map(registry)))


async def test_personal_fields_are_stored_sealed_and_read_as_they_were(store):
    await store.append("trainee-t-1", [enrolled()], None)
    stored = store._log[0].data  # what the store holds: no name in clear
    assert is_token(stored["name"]) and is_token(stored["certificates"])
    assert "张三" not in str(stored) and "电工证" not in str(stored)
    assert stored["branch_id"] == "bo-east" and stored["note"] is None  # ids and None stay
    [read] = await store.read_stream("trainee-t-1")
    assert registry.decode(read) == Enrolled(
        trainee_id="t-1", name="张三", certificates=["电工证"], branch_id="bo-east"
    )


async def test_an_erased_subject_reads_as_the_marker_and_others_are_untouched(store, keys):
    await store.append("trainee-t-1", [enrolled("t-1", "张三")], None)
    await store.append("trainee-t-2", [enrolled("t-2", "李四")], None)
    assert await store.personal.erase("t-1", "asked") is True
    assert await store.personal.erase("t-1", "asked") is False  # once
    first, second = await store.read_all()
    assert first.data["name"] == ERASED and first.data["certificates"] == [ERASED]
    assert second.data["name"] == "李四"
    assert await keys.erased(["t-1", "t-2"]) == {"t-1"}


async def test_a_field_of_another_subject_uses_that_subjects_key(store):
    event = registry.encode(
        Commented(trainee_id="t-1", trainer_id="tr-1", comment="细心", trainer_name="王工")
    )
    await store.append("plan-t-1", [event], None)
    await store.personal.erase("tr-1", "left")
    [read] = await store.read_all()
    assert read.data["comment"] == "细心" and read.data["trainer_name"] == ERASED


async def test_nothing_new_is_kept_about_an_erased_person(store):
    await store.personal.erase("t-1", "asked")
    with pytest.raises(SubjectErased, match="t-1"):
        await store.append("trainee-t-1", [enrolled("t-1")], None)
    assert await store.read_all() == []


async def test_a_token_moved_to_another_event_does_not_open(store):
    await store.append("trainee-t-1", [enrolled()], None)
    token = store._log[0].data["name"]
    moved = store._log[0]._replace(
        event_id=uuid.uuid4(), data={**store._log[0].data, "name": token}
    )
    with pytest.raises(InvalidTag):
        await store.personal.reveal([moved])


async def test_clear_values_stored_before_marking_read_as_the_marker_after_erasure(keys):
    legacy = InMemoryEventStore()  # no sealing: an event stored before the fields were marked
    await legacy.append("trainee-t-1", [enrolled()], None)
    data = PersonalData(keys, personal_map(registry))
    await keys.keys(["t-1"], create=True)
    [alive] = await data.reveal(await legacy.read_all())
    assert alive.data["name"] == "张三"
    await data.erase("t-1", "asked")
    [gone] = await data.reveal(await legacy.read_all())
    assert gone.data["name"] == ERASED and gone.data["certificates"] == [ERASED]


def test_the_catalog_marks_personal_fields():
    properties = registry.catalog()["events"]["Enrolled"]["properties"]
    assert properties["name"]["x-personal"] is True
    assert "x-personal" not in properties["branch_id"]
    commented = registry.catalog()["events"]["Commented"]["properties"]
    assert commented["trainer_name"]["x-personal"] == "trainer_id"


def test_a_personal_field_without_a_subject_is_refused():
    local = EventRegistry()

    @local.register
    class Orphan(Event):
        event_type = "Orphan"
        name: Annotated[str, PERSONAL]

    with pytest.raises(ValueError, match="names no subject"):
        personal_map(local)


async def test_a_key_read_while_its_subject_is_erased_is_not_kept():
    """A reveal that read the key just before the erasure destroyed it must not leave the key in
    the cache after it: the next seal is refused and the next reveal gives the marker."""
    keys = MemoryKeyStore()
    data = PersonalData(keys, personal_map(registry))
    await keys.keys(["t-1"], create=True)
    read_before = keys.keys

    async def slow_keys(subjects, *, create):
        found = await read_before(subjects, create=create)  # the key, as it was
        await data.erase("t-1", "asked")  # the erasure lands meanwhile
        return found

    keys.keys = slow_keys  # type: ignore[method-assign]
    store = InMemoryEventStore(personal=data)
    with pytest.raises(SubjectErased):
        await store.append("trainee-t-1", [enrolled()], None)
    keys.keys = read_before  # type: ignore[method-assign]
    with pytest.raises(SubjectErased):
        await store.append("trainee-t-1", [enrolled()], None)
