"""Which partition queues this replica consumes: a membership lease in the service's database.

Each replica of a consuming service beats a row of ``consumer_members`` (its id, ``now()``) every
third of the TTL and reads the replicas seen within the TTL; partition ``p`` goes to the
``p % n``-th of the ``n`` live replicas sorted by id (:func:`share`). Every replica computes the
same answer from the same rows, so there is nothing to elect, and a replica that stops beating
(killed, cut off from PostgreSQL) drops out of everyone's list once its row is older than the TTL.

The lease spreads the work; it does not guard order. The partition queues keep their single
active consumer, so two replicas that briefly disagree (one has not read the latest rows yet)
both subscribe and the broker still delivers to one of them. Hence the fallback: when the lease
cannot be read, the replica consumes every partition, as before the lease (ADR 0019).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog

from shared.db import DATABASE_AWAY

# What a failed beat may raise: the database away, or the table not there or refusing.
LEASE_UNREADABLE: tuple[type[BaseException], ...] = (*DATABASE_AWAY, asyncpg.PostgresError)

log = structlog.get_logger("gradeline.partition_lease")

# Rows not renewed for this many TTLs are deleted by the next beat of any replica.
FORGET_AFTER_TTLS = 100

_BEAT = """
INSERT INTO consumer_members (service, replica, last_seen, partitions)
VALUES ($1, $2, now(), $3)
ON CONFLICT (service, replica) DO UPDATE SET last_seen = now(), partitions = $3
"""
_LIVE = """
SELECT replica FROM consumer_members
WHERE service = $1 AND last_seen > now() - make_interval(secs => $2)
"""
_FORGET = """
DELETE FROM consumer_members WHERE service = $1 AND last_seen < now() - make_interval(secs => $2)
"""


@dataclass(frozen=True)
class Assignment:
    """The partitions to consume, and from how many live replicas that share was computed
    (0: the lease could not be read, and the share is every partition)."""

    partitions: frozenset[int]
    members: int

    @property
    def fallback(self) -> bool:
        return self.members == 0


def share(replica: str, members: Sequence[str], partitions: int) -> frozenset[int]:
    """``replica``'s partitions: ``p`` goes to ``sorted(members)[p % n]``. Round robin rather
    than rendezvous hashing: with four partitions, hashing leaves a replica idle too often; the
    price is that a join or leave moves more partitions, each a short hand-over."""
    ordered = sorted(set(members))
    index = ordered.index(replica)
    return frozenset(p for p in range(partitions) if p % len(ordered) == index)


def replica_id() -> str:
    """Host, process and a random suffix: two consumers of one process are two replicas."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class PartitionLease:
    """One replica's membership in its service's lease table."""

    def __init__(self, pool: asyncpg.Pool, service: str, ttl_seconds: float) -> None:
        self.pool = pool
        self.service = service
        self.ttl = ttl_seconds
        self.replica = replica_id()

    @property
    def beat_interval(self) -> float:
        """Three beats per TTL: one late or lost beat does not drop the replica."""
        return self.ttl / 3

    async def renew(self, partitions: int, consuming: Sequence[int] = ()) -> Assignment:
        """Beat (noting the partitions ``consuming`` now) and compute this replica's share of
        ``partitions``; every partition when the table cannot be read or written."""
        try:
            async with self.pool.acquire(timeout=self.ttl) as conn, conn.transaction():
                await conn.execute(_BEAT, self.service, self.replica, sorted(consuming))
                members = [r["replica"] for r in await conn.fetch(_LIVE, self.service, self.ttl)]
                await conn.execute(_FORGET, self.service, self.ttl * FORGET_AFTER_TTLS)
        except LEASE_UNREADABLE as exc:
            log.warning("partition_lease.unreadable", service=self.service, error=repr(exc))
            return Assignment(frozenset(range(partitions)), members=0)
        return Assignment(share(self.replica, members, partitions), members=len(members))

    async def leave(self) -> None:
        """Delete this replica's row: the others take its partitions at their next beat
        rather than after the TTL."""
        async with self.pool.acquire(timeout=self.ttl) as conn:
            await conn.execute(
                "DELETE FROM consumer_members WHERE service = $1 AND replica = $2",
                self.service,
                self.replica,
            )
