"""Issue 19, access request: "the access export lists every event and read-model row of the
person", decrypted. One service's part (shared/personal_access.py) against real PostgreSQL, with
sealing on: the person's events in the store and in the inbox, revealed; the read-model rows that
hold the id as a whole token, and no other person's (``p-1`` is not ``p-10``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
import pytest

from shared.events import Envelope, Event, EventRegistry
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.personal import ERASED, PERSONAL, MemoryKeyStore, PersonalData, is_token, personal_map
from shared.personal_access import collect

registry = EventRegistry()


@registry.register
class Enrolled(Event):
    event_type = "AccessEnrolled"
    data_subject = "trainee_id"
    trainee_id: str
    name: Annotated[str, PERSONAL]


@registry.register
class Commented(Event):
    event_type = "AccessCommented"
    data_subject = "trainee_id"
    trainee_id: str
    comment: Annotated[str, PERSONAL]


NAME, OTHER_NAME = "access-unit 张三", "access-unit 李四"
COMMENT = "access-unit comment: only half a day"


@pytest.fixture
def personal() -> PersonalData:
    return PersonalData(MemoryKeyStore(), personal_map(registry))


async def inbox_row(pool, personal: PersonalData, event: Event) -> None:
    """``event`` as another service published it (sealed) and this one keeps it."""
    new = (await personal.seal([registry.encode(event)]))[0]
    now = datetime.now(UTC)
    envelope = Envelope(
        new.event_id, "plan-p-1", 1, 7, new.type, 1, now, now, new.data, new.actor, None,
        service="training",
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO inbox (seq, event_id, service, stream_id, version, type, recorded_at,"
        " envelope) VALUES (nextval('inbox_seq_seq'), $1, 'training', $2, 1, $3, $4, $5)",
        new.event_id,
        envelope.stream_id,
        new.type,
        now,
        orjson.loads(envelope.to_json()),
    )


async def seeded(pool, personal: PersonalData) -> None:
    store = PostgresEventStore(pool, "core", personal)
    for trainee_id, name in (("p-1", NAME), ("p-10", OTHER_NAME)):
        event = registry.encode(Enrolled(trainee_id=trainee_id, name=name))
        await store.append(f"trainee-{trainee_id}", [event], NO_STREAM)
    await inbox_row(pool, personal, Commented(trainee_id="p-1", comment=COMMENT))
    await pool.execute(
        "CREATE SCHEMA proj_people;"
        " CREATE TABLE proj_people.names (person_id text, name text, score numeric, at timestamptz);"
        " CREATE TABLE remarks (remark text);"
        " INSERT INTO proj_people.names VALUES"
        "  ('p-1', 'access-unit 张三', 96.25, '2026-03-02T08:00:00Z'),"
        "  ('p-10', 'access-unit 李四', 80, '2026-03-02T08:00:00Z');"
        " INSERT INTO remarks VALUES ('seen with p-1, twice'), ('xp-1 only'), ('p-1.5 only')"
    )


async def test_a_persons_part_lists_their_events_revealed_and_their_rows_only(pg_pool, personal):
    await seeded(pg_pool, personal)
    stored = await pg_pool.fetchval(
        "SELECT data->>'name' FROM events WHERE stream_id = 'trainee-p-1'"
    )
    assert is_token(stored)  # sealed in the store, so the answer's name was revealed

    async with pg_pool.acquire() as conn:
        part = await collect(conn, "core", personal, "p-1")

    assert [(e.source, e.type, e.stream_id) for e in part.events] == [
        ("events", "AccessEnrolled", "trainee-p-1"),
        ("inbox", "AccessCommented", "plan-p-1"),
    ]
    assert part.events[0].data["name"] == NAME
    assert part.events[1].data["comment"] == COMMENT
    assert part.events[1].service == "training"
    assert part.rows == {
        "proj_people.names": [
            {
                "person_id": "p-1",
                "name": NAME,
                "score": "96.25",
                "at": "2026-03-02T08:00:00+00:00",
            }
        ],
        "public.remarks": [{"remark": "seen with p-1, twice"}],
    }
    assert OTHER_NAME not in part.model_dump_json()


async def test_an_erased_persons_part_reads_as_erased(pg_pool, personal):
    await seeded(pg_pool, personal)
    await personal.erase("p-1", "asked")
    async with pg_pool.acquire() as conn:
        part = await collect(conn, "core", personal, "p-1")
    assert [e.data.get("name", e.data.get("comment")) for e in part.events] == [ERASED, ERASED]


async def test_without_keys_the_part_is_read_as_stored(pg_pool):
    """A service that seals nothing (no personal fields) answers its clear events as they are."""
    store = PostgresEventStore(pg_pool, "core")
    await store.append("trainee-p-2", [registry.encode(Enrolled(trainee_id="p-2", name=NAME))], 0)
    async with pg_pool.acquire() as conn:
        part = await collect(conn, "core", None, "p-2")
    assert [e.data["name"] for e in part.events] == [NAME]
