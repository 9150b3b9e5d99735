"""``gradeline personal reencrypt SERVICE`` (shared/reencrypt.py) against the real PostgreSQL:
issue 19's "existing events with clear personal fields are migrated by ... a one-off
re-encryption tool". Events stored in clear before their type marked its fields are sealed in
place, read back as they were through a store with ``personal=``, the chains and the seal still
verify, and a second run rewrites nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated, Any

import asyncpg
import pytest
from typer.testing import CliRunner

from ops import cli
from ops.services import ServiceInfo
from shared import db
from shared.events import Envelope, Event, EventRegistry, NewEvent
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.keystore import open_personal_data
from shared.personal import ERASED, PERSONAL, PersonalData, is_token, personal, personal_map
from shared.projections import Projection, rebuild
from shared.reencrypt import reencrypt
from shared.seal import check_seal, write_seal
from shared.settings import Settings

SERVICE = "enrollment"
runner = CliRunner()
registry = EventRegistry()


@registry.register
class Enrolled(Event):
    event_type = "Enrolled"
    data_subject = "trainee_id"
    trainee_id: str
    name: Annotated[str, PERSONAL]
    certificates: Annotated[list[str], PERSONAL]
    branch_id: str


@registry.register
class Commented(Event):
    event_type = "Commented"
    data_subject = "trainee_id"
    trainee_id: str
    trainer_id: str
    comment: Annotated[str, PERSONAL]
    trainer_name: Annotated[str, personal(subject="trainer_id")]


FIELDS = personal_map(registry)


async def _apply_name(conn: Any, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO names (trainee_id, name) VALUES ($1, $2)",
        envelope.data["trainee_id"],
        envelope.data["name"],
    )


# A read model showing names: verify compares it with a rebuild, which must reveal the tokens.
NAMES = Projection(
    "names",
    "CREATE TABLE names (trainee_id text PRIMARY KEY, name text NOT NULL);",
    _apply_name,
    types=frozenset({"Enrolled"}),
)


def enrolled(trainee_id: str, name: str) -> NewEvent:
    return registry.encode(
        Enrolled(trainee_id=trainee_id, name=name, certificates=["电工证"], branch_id="bo-east")
    )


def commented(trainee_id: str, comment: str) -> NewEvent:
    return registry.encode(
        Commented(trainee_id=trainee_id, trainer_id="tr-1", comment=comment, trainer_name="王师傅")
    )


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """The service's database, as ``gradeline`` finds it (``<namespace>_enrollment``)."""
    name = settings.database_name(SERVICE)
    await db.ensure_database(settings.pg_dsn, name)
    pool = await db.create_pool(db.dsn_for_database(settings.pg_dsn, name), size=4)
    await db.migrate(pool, [db.CORE_MIGRATIONS])
    yield pool
    await pool.close()
    await db.drop_database(settings.pg_dsn, name)


@pytest.fixture
async def personal_data(settings: Settings) -> AsyncIterator[PersonalData]:
    async with AsyncExitStack() as stack:
        yield await open_personal_data(settings, stack, FIELDS)


@pytest.fixture
def marked_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's enrollment with the test's marked event types."""
    monkeypatch.setattr(
        cli.services, "available", lambda: [ServiceInfo(SERVICE, registry, (NAMES,))]
    )


async def legacy_history(pool: asyncpg.Pool) -> PostgresEventStore:
    """Events stored by a store without ``personal``: their personal fields in clear. Stream
    t-1 has a clear event after an unmarked one and before one already sealed."""
    clear = PostgresEventStore(pool, SERVICE)
    await clear.append("trainee-t-1", [NewEvent("Unmarked", {"trainee_id": "t-1"})], NO_STREAM)
    await clear.append("trainee-t-1", [enrolled("t-1", "张三")], 1)
    await clear.append("trainee-t-2", [enrolled("t-2", "李四")], NO_STREAM)
    await clear.append("trainee-t-2", [commented("t-2", "进步很快")], 1)
    await clear.append("branch-bo-east", [NewEvent("Unmarked", {"n": 1})], NO_STREAM)
    return clear


async def gradeline(settings: Settings, *args: str) -> Any:
    """The command in a thread: it runs its own event loop, as it does from a shell."""
    env = {
        "GRADELINE_PG_DSN": settings.pg_dsn,
        "GRADELINE_NAMESPACE": settings.namespace,
        "GRADELINE_SEAL_KEY": settings.seal_key.get_secret_value(),
    }
    return await asyncio.to_thread(runner.invoke, cli.app, list(args), env=env)


async def stored(pool: asyncpg.Pool, stream: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT data FROM events WHERE stream_id = $1 ORDER BY version", stream)
    return [r[0] for r in rows]


async def test_reencrypt_seals_clear_fields_in_place_and_verify_passes(
    settings, pool, personal_data, marked_service
):
    await legacy_history(pool)
    # Appended after the fields were marked: sealed already, then a clear one after it.
    sealing = PostgresEventStore(pool, SERVICE, personal=personal_data)
    await sealing.append("trainee-t-1", [commented("t-1", "认真")], 2)
    await PostgresEventStore(pool, SERVICE).append("trainee-t-1", [commented("t-1", "守时")], 3)
    key = settings.seal_key_bytes()
    assert await write_seal(pool, SERVICE, key) is not None  # a seal of the clear history
    assert await rebuild(pool, SERVICE, NAMES) == 2  # the names, as the service showed them
    sealed_t1_v3 = (await stored(pool, "trainee-t-1"))[2]
    before = {
        r[0]: r[1:] for r in await pool.fetch("SELECT position, event_id, version FROM events")
    }

    result = await gradeline(settings, "personal", "reencrypt", SERVICE)

    assert result.exit_code == 0, result.output
    # t-1 v2 and v4, t-2 v1 and v2: four events, two streams; t-1 rehashed from v2 (3 events).
    assert "4 events re-encrypted in 2 streams (5 events rehashed)" in result.output
    assert "sealed anew" in result.output
    raw = str(await pool.fetch("SELECT data FROM events"))
    for clear_value in ("张三", "李四", "电工证", "进步很快", "王师傅", "守时"):
        assert clear_value not in raw
    t1 = await stored(pool, "trainee-t-1")
    assert t1[0] == {"trainee_id": "t-1"}  # unmarked: untouched
    assert is_token(t1[1]["name"]) and is_token(t1[1]["certificates"])
    assert t1[1]["branch_id"] == "bo-east"  # ids stay in clear
    assert t1[2] == sealed_t1_v3  # sealed before: left as it was
    assert is_token(t1[3]["comment"]) and is_token(t1[3]["trainer_name"])
    # Ids, positions and versions stay; the chain and the newest seal verify.
    after = {
        r[0]: r[1:] for r in await pool.fetch("SELECT position, event_id, version FROM events")
    }
    assert after == before
    assert await sealing.verify() == []
    assert (await check_seal(pool, SERVICE, key)).problems == []
    verified = await gradeline(settings, "verify", SERVICE)
    assert verified.exit_code == 0, verified.output  # the names rebuilt from tokens agree
    assert "events, seal and projections verified" in verified.output
    rebuilt = await gradeline(settings, "rebuild", SERVICE, "names")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert await pool.fetch("SELECT trainee_id, name FROM proj_names.names ORDER BY 1") == [
        ("t-1", "张三"),
        ("t-2", "李四"),
    ]

    # Read through a store with personal: the values as they were written.
    [_, t1_enrolled, _, t1_last] = await sealing.read_stream("trainee-t-1")
    assert (t1_enrolled.data["name"], t1_enrolled.data["certificates"]) == ("张三", ["电工证"])
    assert (t1_last.data["comment"], t1_last.data["trainer_name"]) == ("守时", "王师傅")
    [t2_enrolled, t2_comment] = await sealing.read_stream("trainee-t-2")
    assert t2_enrolled.data["name"] == "李四" and t2_comment.data["comment"] == "进步很快"

    again = await gradeline(settings, "personal", "reencrypt", SERVICE)
    assert again.exit_code == 0, again.output
    assert "0 events re-encrypted in 0 streams (0 events rehashed)" in again.output
    assert await stored(pool, "trainee-t-1") == t1


async def test_an_erased_persons_clear_values_become_the_marker(settings, pool, personal_data):
    """Erased before the re-encryption: no key to seal with, so the clear values go."""
    await legacy_history(pool)
    await personal_data.erase("t-2", "asked")

    done = await reencrypt(pool, personal_data)

    assert (done.events, done.streams, done.erased) == (3, 2, 2)
    enrolled_t2, commented_t2 = await stored(pool, "trainee-t-2")
    assert (enrolled_t2["name"], enrolled_t2["certificates"]) == (ERASED, [ERASED])
    assert commented_t2["comment"] == ERASED
    assert is_token(commented_t2["trainer_name"])  # the trainer's, who was not erased
    assert "李四" not in str(await pool.fetch("SELECT data FROM events"))
    assert await PostgresEventStore(pool, SERVICE).verify() == []
    [_, comment] = await PostgresEventStore(pool, SERVICE, personal_data).read_stream("trainee-t-2")
    assert (comment.data["comment"], comment.data["trainer_name"]) == (ERASED, "王师傅")


async def test_a_service_without_marked_fields_rewrites_nothing(settings, pool, monkeypatch):
    monkeypatch.setattr(
        cli.services, "available", lambda: [ServiceInfo(SERVICE, EventRegistry(), ())]
    )
    await legacy_history(pool)
    result = await gradeline(settings, "personal", "reencrypt", SERVICE)
    assert result.exit_code == 0, result.output
    assert "nothing to re-encrypt" in result.output
    assert (await stored(pool, "trainee-t-1"))[1]["name"] == "张三"
