"""The event store contract, run against PostgreSQL and the in-memory store alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.events import Actor, NewEvent
from shared.eventstore import ANY_VERSION, NO_STREAM, ConcurrencyError
from shared.memstore import InMemoryEventStore


@pytest.fixture(params=["postgres", "memory"])
def store(request):
    if request.param == "memory":
        return InMemoryEventStore("core")
    return request.getfixturevalue("pg_store")


def ev(n: int = 0, **kw) -> NewEvent:
    return NewEvent(
        type="Thing", data={"n": n, "text": "中文 ünïcode"}, actor=Actor("u1", "clerk"), **kw
    )


async def test_append_to_new_stream_starts_at_version_one(store):
    result = await store.append("s-1", [ev(1), ev(2)], NO_STREAM)
    assert (result.first_version, result.last_version, result.replayed) == (1, 2, False)
    events = await store.read_stream("s-1")
    assert [e.version for e in events] == [1, 2]
    assert [e.data["n"] for e in events] == [1, 2]
    assert events[0].data["text"] == "中文 ünïcode"
    assert events[0].actor == Actor("u1", "clerk")
    assert events[1].position > events[0].position


async def test_wrong_expected_version_raises_and_appends_nothing(store):
    await store.append("s-1", [ev(1)], NO_STREAM)
    with pytest.raises(ConcurrencyError) as caught:
        await store.append("s-1", [ev(2)], NO_STREAM)
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", [ev(2)], 5)
    assert await store.stream_version("s-1") == 1


async def test_any_version_appends_at_the_end(store):
    await store.append("s-1", [ev(1)], ANY_VERSION)
    result = await store.append("s-1", [ev(2)], ANY_VERSION)
    assert result.first_version == 2


async def test_repeated_idempotency_key_returns_first_result_and_appends_nothing(store):
    first = await store.append("s-1", [ev(1)], NO_STREAM, idempotency_key="k-1")
    again = await store.append("s-1", [ev(1)], NO_STREAM, idempotency_key="k-1")
    assert again.replayed and not first.replayed
    assert (again.first_version, again.last_position) == (first.first_version, first.last_position)
    elsewhere = await store.append("s-2", [ev(2)], NO_STREAM, idempotency_key="k-1")
    assert elsewhere.replayed and elsewhere.stream_id == "s-1"  # the first append's stream
    assert len(await store.read_all()) == 1


async def test_repeated_event_id_appends_nothing(store):
    event = ev(1)
    first = await store.append("s-1", [event], NO_STREAM)
    again = await store.append("s-1", [event], ANY_VERSION)
    assert again.replayed and again.first_position == first.first_position
    assert await store.stream_version("s-1") == 1


async def test_concurrent_appends_with_one_key_append_once(store):
    results = await asyncio.gather(
        *[store.append(f"s-{i}", [ev(i)], ANY_VERSION, idempotency_key="same") for i in range(8)]
    )
    assert sum(not r.replayed for r in results) == 1
    assert len(await store.read_all()) == 1


async def test_read_all_is_in_position_order_after_a_checkpoint(store):
    for i in range(5):
        await store.append(f"s-{i % 2}", [ev(i)], ANY_VERSION)
    everything = await store.read_all(0)
    assert [e.data["n"] for e in everything] == [0, 1, 2, 3, 4]
    rest = await store.read_all(everything[1].position, limit=2)
    assert [e.data["n"] for e in rest] == [2, 3]
    assert await store.head_position() == everything[-1].position


async def test_read_stream_up_to_a_version_or_a_moment(store):
    await store.append("s-1", [ev(1), ev(2), ev(3)], NO_STREAM)
    assert [e.version for e in await store.read_stream("s-1", to_version=2)] == [1, 2]
    recorded = (await store.read_stream("s-1"))[0].recorded_at
    assert await store.read_stream("s-1", as_of=recorded - timedelta(seconds=1)) == []
    assert len(await store.read_stream("s-1", as_of=recorded)) == 3


async def test_read_stream_after_a_version(store):
    await store.append("s-1", [ev(1), ev(2), ev(3)], NO_STREAM)
    assert [e.version for e in await store.read_stream("s-1", after_version=1)] == [2, 3]
    assert [e.version for e in await store.read_stream("s-1", after_version=0)] == [1, 2, 3]
    assert await store.read_stream("s-1", after_version=3) == []
    assert [e.version for e in await store.read_stream("s-1", after_version=1, to_version=2)] == [2]


async def test_occurred_at_and_envelope_fields_round_trip(store):
    when = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    corr = uuid.uuid4()
    new = ev(
        1, occurred_at=when, branch_id="b-7", correlation_id=corr, policy_version="grading-2026"
    )
    await store.append("s-1", [new], NO_STREAM)
    (stored,) = await store.read_stream("s-1")
    assert stored.occurred_at == when and stored.event_id == new.event_id
    assert (stored.branch_id, stored.correlation_id, stored.policy_version) == (
        "b-7",
        corr,
        "grading-2026",
    )


async def test_every_envelope_field_round_trips_in_one_batch_and_verifies(store):
    """The group commit's document leaves out an event's trailing empty fields: full, partly
    empty and bare events side by side must each keep their own fields and hash."""
    when = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    corr, cause = uuid.uuid4(), uuid.uuid4()
    full = ev(
        1,
        occurred_at=when,
        branch_id="b-7",
        correlation_id=corr,
        causation_id=cause,
        policy_version="grading-2026",
        schema_version=2,
    )
    gaps = ev(2, policy_version="pay-2026")  # only the last optional field
    moment = ev(3, occurred_at=when + timedelta(days=1))  # only the first optional field
    bare = ev(4)
    await asyncio.gather(
        store.append("s-1", [full, gaps], NO_STREAM), store.append("s-2", [moment, bare], NO_STREAM)
    )
    stored = {e.event_id: e for e in await store.read_all()}
    got = stored[full.event_id]
    assert (got.occurred_at, got.branch_id) == (when, "b-7")
    assert (got.correlation_id, got.causation_id) == (corr, cause)
    assert (got.policy_version, got.schema_version, got.actor) == ("grading-2026", 2, full.actor)
    got = stored[gaps.event_id]
    assert (got.policy_version, got.branch_id, got.correlation_id) == ("pay-2026", None, None)
    assert stored[moment.event_id].occurred_at == when + timedelta(days=1)
    assert stored[bare.event_id].policy_version is None
    assert [stored[e.event_id].data["n"] for e in (full, gaps, moment, bare)] == [1, 2, 3, 4]
    assert await store.verify() == []


async def test_stream_is_hash_chained_and_verifies_clean(store):
    await store.append("s-1", [ev(1), ev(2)], NO_STREAM)
    await store.append("s-1", [ev(3)], 2)
    events = await store.read_stream("s-1")
    assert events[0].prev_hash is None
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert await store.verify() == []


async def test_append_of_nothing_is_refused(store):
    with pytest.raises(ValueError):
        await store.append("s-1", [], NO_STREAM)


async def test_verify_takes_one_stream_several_or_all(store):
    await store.append("s-1", [ev(1)], NO_STREAM)
    await store.append("s-2", [ev(2)], NO_STREAM)
    assert await store.verify("s-1") == []
    assert await store.verify(["s-1", "s-2"]) == []
    assert await store.verify([]) == []
    assert await store.verify() == []


# What audits read beside the payload: as-of boards filter on recorded_at, the relay and
# projections on position, dispute replays follow causation and correlation.
AUDITED_FIELDS = {
    "recorded_at": lambda e: e.recorded_at - timedelta(days=3),
    "position": lambda e: e.position + 1000,
    "causation_id": lambda e: uuid.uuid4(),
    "correlation_id": lambda e: uuid.uuid4(),
    "idempotency_key": lambda e: "another-key",
}


@pytest.mark.parametrize("field", AUDITED_FIELDS)
async def test_an_edit_of_what_audits_read_breaks_the_events_hash(store, field):
    await store.append("s-1", [ev(1), ev(2, correlation_id=uuid.uuid4())], NO_STREAM)
    edited = (await store.read_stream("s-1"))[1]
    await tamper(store, edited, field, AUDITED_FIELDS[field](edited))
    found = await store.verify()
    assert [(t.stream_id, t.version, t.problem) for t in found] == [
        ("s-1", 2, "content does not match its hash")
    ]


async def tamper(store, envelope, field: str, value) -> None:
    """Edit one stored column in place, as someone with write access to the database would."""
    if isinstance(store, InMemoryEventStore):
        store.tamper(envelope.position, **{field: value})
        return
    await store.pool.execute(
        f"UPDATE events SET {field} = $2 WHERE event_id = $1", envelope.event_id, value
    )
