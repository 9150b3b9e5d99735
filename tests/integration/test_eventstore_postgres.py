"""PostgreSQL-only proofs: tampering shows, concurrency under load, gap safety."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest

from shared.events import NewEvent
from shared.eventstore import NO_STREAM, ConcurrencyError


def ev(n: int) -> NewEvent:
    return NewEvent(type="Thing", data={"n": n})


async def test_verify_reports_an_edited_event_row(pg_store, pg_pool):
    await pg_store.append("s-1", [ev(1), ev(2), ev(3)], NO_STREAM)
    await pg_store.append("s-2", [ev(9)], NO_STREAM)
    await pg_pool.execute(
        "UPDATE events SET data = '{\"n\": 20}' WHERE stream_id = 's-1' AND version = 2"
    )
    found = await pg_store.verify()
    assert [(t.stream_id, t.version, t.problem) for t in found] == [
        ("s-1", 2, "content does not match its hash")
    ]
    assert await pg_store.verify("s-2") == []


async def test_verify_reports_a_deleted_event_as_a_broken_link(pg_store, pg_pool):
    await pg_store.append("s-1", [ev(1), ev(2), ev(3)], NO_STREAM)
    await pg_pool.execute("DELETE FROM events WHERE stream_id = 's-1' AND version = 2")
    found = await pg_store.verify()
    assert [(t.version, t.problem) for t in found] == [(3, "chain link broken")]


async def test_32_writers_lose_no_update_and_report_every_conflict(pg_store):
    """32 concurrent writers, 2,000 streams, 20,000 appends with expected versions."""
    streams = [f"s-{i}" for i in range(2000)]
    known: dict[str, int] = {}  # what the writers believe (possibly stale)
    successes: dict[str, int] = dict.fromkeys(streams, 0)
    conflicts = 0
    rng = random.Random(7)
    todo = [rng.choice(streams) for _ in range(20_000)]

    async def writer(work: list[str]) -> None:
        nonlocal conflicts
        for n, stream in enumerate(work):
            expected = known.get(stream, 0)
            try:
                result = await pg_store.append(stream, [ev(n)], expected)
            except ConcurrencyError as exc:
                conflicts += 1
                known[stream] = exc.actual
                continue
            assert result.first_version == expected + 1
            successes[stream] += 1
            known[stream] = max(known.get(stream, 0), result.last_version)

    await asyncio.gather(*[writer(todo[i::32]) for i in range(32)])
    assert sum(successes.values()) + conflicts == 20_000
    everything = []
    after = 0
    while batch := await pg_store.read_all(after, 5000):
        everything.extend(batch)
        after = batch[-1].position
    assert len(everything) == sum(successes.values())
    positions = [e.position for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert len({e.event_id for e in everything}) == len(everything)
    for stream in rng.sample(streams, 50):
        versions = [e.version for e in await pg_store.read_stream(stream)]
        assert versions == list(range(1, successes[stream] + 1))


async def test_group_commit_refuses_only_the_conflicting_appends_of_a_batch(pg_store):
    """Ten concurrent appends to one new stream land in one batch: one wins, nine conflict."""
    outcomes = await asyncio.gather(
        *(pg_store.append("s-1", [ev(n)], NO_STREAM) for n in range(10)), return_exceptions=True
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert len(won) == 1 and len(lost) == 9
    assert all(c.actual == 1 for c in lost)
    others = await asyncio.gather(
        *(pg_store.append(f"x-{n}", [ev(n)], NO_STREAM) for n in range(10))
    )
    assert sorted(r.first_position for r in others) == list(range(2, 12))


async def test_group_commit_with_one_key_twice_in_a_batch_appends_once(pg_store):
    first, second = await asyncio.gather(
        pg_store.append("s-1", [ev(1)], None, idempotency_key="k"),
        pg_store.append("s-2", [ev(2)], None, idempotency_key="k"),
    )
    assert [first.replayed, second.replayed] == [False, True]
    assert second.stream_id == "s-1" and second.first_position == first.first_position
    assert len(await pg_store.read_all()) == 1


async def test_a_batch_with_a_stored_event_id_replays_it_and_appends_the_others(pg_store):
    """Only the insert sees a repeated event id: the set-wise statement fails whole, and the
    batch is decided append by append (gl_append_grouped_each), replaying the repeat only."""
    stored = ev(1)
    first = await pg_store.append("s-1", [stored], NO_STREAM)

    repeat, fresh, other = await asyncio.gather(
        pg_store.append("s-1", [stored], None),
        pg_store.append("s-2", [ev(2)], NO_STREAM),
        pg_store.append("s-3", [ev(3), ev(4)], NO_STREAM),
    )

    assert repeat.replayed and repeat.first_position == first.first_position
    assert not fresh.replayed and not other.replayed
    assert [e.stream_id for e in await pg_store.read_all()] == ["s-1", "s-2", "s-3", "s-3"]
    assert await pg_store.verify() == []


async def test_transaction_store_reads_its_own_appends_and_rolls_back_with_the_caller(pg_pool):
    from shared.eventstore import TransactionEventStore

    async with pg_pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        store = TransactionEventStore(conn, "core")
        await store.append("s-1", [ev(1)], NO_STREAM)
        await store.append("s-1", [ev(2)], 1)
        assert [e.version for e in await store.read_stream("s-1")] == [1, 2]
        await tx.rollback()
    assert await pg_pool.fetchval("SELECT count(*) FROM events") == 0


async def test_a_batch_with_one_stale_append_commits_the_others(pg_store):
    """Distinct streams, one stale expected version: the set-wise path falls back per append."""
    await pg_store.append("s-0", [ev(0)], NO_STREAM)
    seen = ev(99)
    await pg_store.append("s-seen", [seen], NO_STREAM)
    outcomes = await asyncio.gather(
        pg_store.append("s-0", [ev(1)], NO_STREAM),  # stale: s-0 is at version 1
        pg_store.append("s-seen", [seen], None),  # a repeated event id: the first result
        *(pg_store.append(f"s-{n}", [ev(n)], NO_STREAM) for n in range(1, 6)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], ConcurrencyError) and outcomes[0].actual == 1
    assert outcomes[1].replayed and outcomes[1].stream_id == "s-seen"
    assert [o.first_version for o in outcomes[2:]] == [1] * 5
    assert len(await pg_store.read_all()) == 7
    assert await pg_store.verify() == []


async def test_a_group_commit_batch_holds_at_most_64_appends(pg_store, pg_pool):
    """Beyond 64 subtransactions a fallback batch would overflow PostgreSQL's cache: more
    concurrent appends than that go in several batches, all committed."""
    from shared.groupcommit import AppendRequest, GroupCommit

    group = GroupCommit(pg_pool)
    loop = asyncio.get_running_loop()
    group._batcher._queue = [
        (AppendRequest(f"s-{n}", [ev(n)], None, None), loop.create_future()) for n in range(150)
    ]
    assert [len(group._batcher._take()) for _ in range(3)] == [64, 64, 22]
    results = await asyncio.gather(
        *(pg_store.append(f"s-{n}", [ev(n)], NO_STREAM) for n in range(150))
    )
    assert len({r.first_position for r in results}) == 150


async def test_a_committed_append_wakes_in_process_tailers_and_a_replay_does_not(pg_store):
    woken: list[int] = []
    pg_store.on_commit.append(lambda: woken.append(1))
    await pg_store.append("s-1", [ev(1)], NO_STREAM, idempotency_key="k")
    await pg_store.append("s-1", [ev(1)], NO_STREAM, idempotency_key="k")  # replayed
    assert woken == [1]


async def test_keyed_appends_of_one_plain_batch_each_replay_their_own_span(pg_store):
    """The set-wise path records every key of the batch with its append's versions and
    positions (gl_append_grouped derives them from the document's grouping)."""
    firsts = await asyncio.gather(
        pg_store.append("s-1", [ev(1), ev(2)], NO_STREAM, idempotency_key="k-1"),
        pg_store.append("s-2", [ev(3)], NO_STREAM),
        pg_store.append("s-3", [ev(4), ev(5), ev(6)], NO_STREAM, idempotency_key="k-3"),
    )
    assert [(r.first_position, r.last_position) for r in firsts] == [(1, 2), (3, 3), (4, 6)]
    again = await asyncio.gather(
        pg_store.append("s-1", [ev(7)], None, idempotency_key="k-1"),
        pg_store.append("s-3", [ev(8)], None, idempotency_key="k-3"),
    )
    assert all(r.replayed for r in again)
    assert [
        (r.stream_id, r.first_version, r.last_version, r.first_position, r.last_position)
        for r in again
    ] == [("s-1", 1, 2, 1, 2), ("s-3", 1, 3, 4, 6)]
    assert await pg_store.head_position() == 6


async def test_concurrent_stream_reads_share_a_statement_and_each_gets_its_own_events(pg_store):
    """Plain reads made at once go in one batch: every reader gets its stream's events after
    its version, in version order, whatever else the batch holds (empty streams included)."""
    for n in range(1, 6):
        await pg_store.append(f"s-{n}", [ev(n * 10 + k) for k in range(n)], NO_STREAM)
    reads = [("s-1", 0), ("s-5", 2), ("nothing-here", 0), ("s-3", 0), ("s-5", 0), ("s-4", 4)]
    batches: list[list[tuple[str, int]]] = []
    run = pg_store._reads._run

    async def counted(batch):
        batches.append(list(batch))
        return await run(batch)

    pg_store._reads._run = counted

    batched = await asyncio.gather(
        *(pg_store.read_stream(stream, after_version=after) for stream, after in reads)
    )

    assert batches == [reads]  # one statement for the six reads
    alone = [
        [e for e in await pg_store.read_stream(stream, to_version=99) if e.version > after]
        for stream, after in reads
    ]
    assert [[(e.stream_id, e.version, e.data) for e in got] for got in batched] == [
        [(e.stream_id, e.version, e.data) for e in want] for want in alone
    ]
    assert [len(got) for got in batched] == [1, 3, 0, 3, 5, 0]
    assert [e.version for e in batched[1]] == [3, 4, 5]
    assert [e.data["n"] for e in batched[4]] == [50, 51, 52, 53, 54]


# Values that pass the Python side (NewEvent does not validate) and that PostgreSQL refuses:
# jsonb cannot hold U+0000, and schema_version is an integer column.
REFUSED_BY_POSTGRES = {
    "a NUL in the data": NewEvent(type="Thing", data={"note": "bad\x00byte"}),
    "an integer overflow": NewEvent(type="Thing", data={"n": 0}, schema_version=2**40),
}


@pytest.mark.parametrize("bad", REFUSED_BY_POSTGRES.values(), ids=REFUSED_BY_POSTGRES.keys())
async def test_one_append_the_database_refuses_fails_alone_and_its_batch_commits(pg_store, bad):
    """Concurrent appends share one group commit; one of them carries a value PostgreSQL
    refuses. Only its caller gets the error; every other append of the batch is stored."""
    outcomes = await asyncio.gather(
        *(pg_store.append(f"s-{n}", [ev(n)], NO_STREAM) for n in range(3)),
        pg_store.append("s-bad", [bad], NO_STREAM),
        *(pg_store.append(f"s-{n}", [ev(n), ev(n)], NO_STREAM) for n in range(3, 6)),
        return_exceptions=True,
    )

    assert isinstance(outcomes[3], asyncpg.PostgresError)
    good = outcomes[:3] + outcomes[4:]
    assert [type(o).__name__ for o in good if isinstance(o, BaseException)] == []
    stored = await pg_store.read_all()
    assert sorted({e.stream_id for e in stored}) == [f"s-{n}" for n in range(6)]
    assert len(stored) == 9 and await pg_store.verify() == []
