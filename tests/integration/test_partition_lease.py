"""The partition lease against PostgreSQL (shared/partition_lease.py, ADR 0019): who counts as
live, leaving, and the fallback to every partition when the lease cannot be read."""

from __future__ import annotations

import asyncio

from shared.consumer import Consumer
from shared.partition_lease import PartitionLease
from tests.integration.test_bus import EFFECTS_DDL, record_effect


async def test_replicas_seen_within_the_ttl_share_the_partitions_and_a_silent_one_drops_out(
    pg_pool,
):
    first, second = (PartitionLease(pg_pool, "sink", ttl_seconds=5) for _ in range(2))

    alone = await first.renew(4)
    assert (alone.partitions, alone.members) == ({0, 1, 2, 3}, 1)
    await second.renew(4, consuming=[])
    shares = [await first.renew(4, consuming=[0, 1, 2, 3]), await second.renew(4)]
    assert sorted(shares[0].partitions | shares[1].partitions) == [0, 1, 2, 3]
    assert not shares[0].partitions & shares[1].partitions
    assert [s.members for s in shares] == [2, 2]

    await pg_pool.execute(  # the second one's process was killed a while ago
        "UPDATE consumer_members SET last_seen = now() - interval '6 seconds' WHERE replica = $1",
        second.replica,
    )
    held = sorted(shares[0].partitions)
    assert (await first.renew(4, consuming=held)).partitions == {0, 1, 2, 3}
    recorded = await pg_pool.fetchval(
        "SELECT partitions FROM consumer_members WHERE replica = $1", first.replica
    )
    assert recorded == held  # what it consumed at that beat, for operators


async def test_a_replica_that_leaves_is_gone_from_the_others_next_beat(pg_pool):
    first, second = (PartitionLease(pg_pool, "sink", ttl_seconds=60) for _ in range(2))
    await first.renew(4)
    await second.renew(4)

    await second.leave()

    assert (await first.renew(4)).members == 1


async def test_a_consumer_that_cannot_read_the_lease_consumes_every_partition(
    settings, pg_pool, pg_store
):
    """Safe because each partition keeps a single active consumer: as before the lease."""
    await pg_pool.execute(EFFECTS_DDL)
    await pg_pool.execute("DROP TABLE consumer_members")
    consumer = Consumer(settings, "sink", pg_pool, record_effect, ["core.#"])
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.ready.wait(), 30)

        assert consumer.assignment is not None and consumer.assignment.fallback
        consumed = sorted(p.index for p in consumer._partitions.values() if p.index is not None)
        assert consumed == list(range(settings.consumer_partitions))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
