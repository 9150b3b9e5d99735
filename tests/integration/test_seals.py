"""Seals: a keyed digest of every stream head, kept in the store, checked against it. The hash
chain alone shows an edited event; only the seal shows a stream's last events deleted or a whole
chain recomputed by someone without the key."""

from __future__ import annotations

import asyncio

from shared.events import NewEvent
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.seal import check_seal, seal_periodically, write_seal

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def ev(n: int) -> NewEvent:
    return NewEvent(type="Thing", data={"n": n})


async def filled(store: PostgresEventStore) -> None:
    await store.append("s-1", [ev(1), ev(2), ev(3)], NO_STREAM)
    await store.append("s-2", [ev(4)], NO_STREAM)


async def everything_found(store: PostgresEventStore, key: bytes = KEY) -> list[str]:
    """What ``gradeline verify`` reports of the store: its chain, then its newest seal."""
    chain = [f"{t.stream_id}#{t.version}: {t.problem}" for t in await store.verify()]
    report = await check_seal(store.pool, store.service, key)
    return chain + report.problems


async def test_a_clean_store_matches_its_seal(pg_store):
    await filled(pg_store)
    seal = await write_seal(pg_store.pool, "core", KEY)
    assert seal is not None and (seal.position, seal.streams) == (4, 2)
    await pg_store.append("s-3", [ev(5)], NO_STREAM)  # after the seal: not its business
    assert await everything_found(pg_store) == []


async def test_deleting_a_streams_last_event_is_reported_by_name(pg_store, pg_pool):
    await filled(pg_store)
    await write_seal(pg_pool, "core", KEY)
    await pg_pool.execute("DELETE FROM events WHERE stream_id = 's-1' AND version = 3")
    assert await pg_store.verify() == []  # the chain that is left is whole
    found = await everything_found(pg_store)
    assert len(found) == 1 and found[0].startswith("stream s-1:") and "deleted" in found[0]


async def test_deleting_a_whole_stream_is_reported_by_name(pg_store, pg_pool):
    await filled(pg_store)
    await write_seal(pg_pool, "core", KEY)
    await pg_pool.execute("DELETE FROM events WHERE stream_id = 's-2'")
    found = await everything_found(pg_store)
    assert len(found) == 1 and found[0].startswith("stream s-2:")


async def recompute_chain(pool, stream_id: str) -> None:
    """What someone who knows the digest but not the seal key can do after an edit."""
    prev = None
    for (position,) in await pool.fetch(
        "SELECT position FROM events WHERE stream_id = $1 ORDER BY version", stream_id
    ):
        prev = await _rehash(pool, position, prev)


async def _rehash(pool, position: int, prev: bytes | None) -> bytes:
    await pool.execute("UPDATE events SET prev_hash = $2 WHERE position = $1", position, prev)
    return await pool.fetchval(
        "UPDATE events e SET hash = gl_stored_digest(e) WHERE position = $1 RETURNING hash",
        position,
    )


async def test_an_edit_with_the_whole_chain_recomputed_is_reported_by_name(pg_store, pg_pool):
    await filled(pg_store)
    await write_seal(pg_pool, "core", KEY)
    await pg_pool.execute(
        "UPDATE events SET data = '{\"n\": 20}' WHERE stream_id = 's-1' AND version = 2"
    )
    await recompute_chain(pg_pool, "s-1")
    assert await pg_store.verify() == []  # a consistent chain: only the seal can tell
    found = await everything_found(pg_store)
    assert len(found) == 1 and found[0].startswith("stream s-1:") and "differs" in found[0]


async def test_a_seal_checked_with_another_key_is_reported(pg_store, pg_pool):
    await filled(pg_store)
    await write_seal(pg_pool, "core", KEY)
    found = await everything_found(pg_store, OTHER_KEY)
    assert len(found) == 1 and "another key" in found[0]


async def test_a_seal_rewritten_to_match_a_truncated_store_is_reported(pg_store, pg_pool):
    """Without the key, a seal edited to agree with the edited store no longer matches its MAC."""
    await filled(pg_store)
    await write_seal(pg_pool, "core", KEY)
    await pg_pool.execute("DELETE FROM events WHERE stream_id = 's-1' AND version = 3")
    await pg_pool.execute(
        "UPDATE seals SET heads = (SELECT jsonb_agg(jsonb_build_array(h->>0, (h->>1)::int - 1,"
        " encode(e.hash, 'hex'))) FROM jsonb_array_elements(heads) h"
        " JOIN events e ON e.stream_id = h->>0 AND e.version = (h->>1)::int - 1)"
        " WHERE heads IS NOT NULL"
    )
    found = await everything_found(pg_store)
    assert any("does not match its key" in line for line in found)


async def test_a_store_without_a_seal_says_so(pg_store):
    await filled(pg_store)
    report = await check_seal(pg_store.pool, "core", KEY)
    assert report.seal is None and report.problems == []


async def test_sealing_again_without_new_events_writes_nothing(pg_store, pg_pool):
    await filled(pg_store)
    assert await write_seal(pg_pool, "core", KEY) is not None
    assert await write_seal(pg_pool, "core", KEY) is None
    await pg_store.append("s-2", [ev(9)], 1)
    assert await write_seal(pg_pool, "core", KEY) is not None
    assert await pg_pool.fetchval("SELECT count(*) FROM seals") == 2


async def test_a_service_process_seals_periodically(pg_store, pg_pool):
    await filled(pg_store)
    task = asyncio.create_task(seal_periodically(pg_pool, "core", KEY, interval_seconds=0.2))
    try:
        await asyncio.sleep(0.1)
        assert await pg_pool.fetchval("SELECT max(position) FROM seals") == 4
        await pg_store.append("s-3", [ev(5)], NO_STREAM)
        await asyncio.sleep(0.5)
        assert await pg_pool.fetchval("SELECT max(position) FROM seals") == 5
    finally:
        task.cancel()


# The chains as a release before migration 0011 wrote them: every event hashed with digest 1
# (gl_event_digest), chained in its stream; 0011 marked such rows digest_version 1.
AS_HASHED_BEFORE_0011 = """
DO $$
DECLARE
    r events;
    prev bytea;
BEGIN
    FOR r IN SELECT * FROM events ORDER BY stream_id, version LOOP
        IF r.version = 1 THEN
            prev := NULL;
        END IF;
        UPDATE events SET prev_hash = prev, digest_version = 1,
               hash = gl_event_digest(prev, r.event_id, r.stream_id, r.version, r.type,
                                      r.schema_version, r.occurred_at, r.data, r.actor,
                                      r.branch_id, r.policy_version)
         WHERE position = r.position RETURNING hash INTO prev;
    END LOOP;
END
$$
"""


async def test_events_hashed_before_migration_0011_verify_and_their_chains_go_on(pg_store):
    """History hashed with digest 1 keeps its digest; the chain goes on under digest 2, and the
    whole store verifies and seals."""
    await pg_store.append("s-1", [ev(1), ev(2)], NO_STREAM)
    await pg_store.append("s-2", [ev(3)], NO_STREAM)
    await pg_store.pool.execute(AS_HASHED_BEFORE_0011)

    await pg_store.append("s-1", [ev(4)], 2)
    events = await pg_store.read_stream("s-1")
    assert events[2].prev_hash == events[1].hash
    digests = await pg_store.pool.fetch("SELECT digest_version FROM events ORDER BY position")
    assert [r[0] for r in digests] == [1, 1, 1, 2]
    assert await pg_store.verify() == []
    await write_seal(pg_store.pool, "core", KEY)
    assert (await check_seal(pg_store.pool, "core", KEY)).problems == []
