"""Version order at the consumer (ADR 0008): each upstream stream's events applied in version
order whatever order the broker delivers them in.

A stream's versions start at 1 and are contiguous, and a consuming service receives every event
of the streams it consumes (it binds ``<producer>.*``). So an event of version ``v`` may be applied
once the inbox holds version ``v - 1`` of the same (service, stream), or when ``v`` is 1. An event
that comes earlier is *parked*: kept in ``inbox_parked`` in the consumer's transaction and acked,
so it neither fills the prefetch nor spins through requeues. The transaction that applies a
stream's event applies that stream's parked successors after it, in version order.

Two transactions can race over one stream while its events sit in two queues (the partition count
changed): one parks ``v + 1`` while the other applies ``v``, neither seeing the other's rows.
Every transaction that applies or parks checks, under the inbox lock held to its commit (so after
every earlier such commit), that no such pair was missed; when one was, it rolls back and runs
again, and then sees the other's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog

from shared.db import Conn
from shared.events import Envelope
from shared.inbox import Handler, apply_effects, insert_into_inbox, lock_inbox

Key = tuple[str, str, int]  # (service, stream_id, version)
Stream = tuple[str, str]  # (service, stream_id)
RACE_RETRIES = 5

log = structlog.get_logger("gradeline.ordering")


def key(envelope: Envelope) -> Key:
    return (envelope.service, envelope.stream_id, envelope.version)


def predecessor(envelope: Envelope) -> Key:
    return (envelope.service, envelope.stream_id, envelope.version - 1)


def successor(envelope: Envelope) -> Key:
    return (envelope.service, envelope.stream_id, envelope.version + 1)


def stream_of(envelope: Envelope) -> Stream:
    return (envelope.service, envelope.stream_id)


@dataclass
class Plan:
    """What one transaction does with its events, in the order it applies them."""

    applied: list[Envelope] = field(default_factory=list)
    parked: list[Envelope] = field(default_factory=list)  # to park now
    unparked: list[Envelope] = field(default_factory=list)  # parked before, applied now


def plan_in_order(
    fresh: Sequence[Envelope], present: set[Key], parked: Sequence[Envelope] = ()
) -> Plan:
    """Order ``fresh`` (new events, in delivery order) and ``parked`` (earlier parked events of
    the same streams) by the version rule. ``present`` holds the keys known to be in the inbox
    (at least each event's predecessor when it is there). Streams keep their delivery order
    relative to one another, so set-wise handlers still see stretches of one type together."""
    plan = Plan()
    done = set(present)
    waiting = {key(e): e for e in parked}
    parked_ids = {e.event_id for e in parked}

    def apply_with_successors(envelope: Envelope) -> None:
        while True:
            plan.applied.append(envelope)
            done.add(key(envelope))
            following = waiting.pop(successor(envelope), None)
            if following is None:
                return
            envelope = following

    for envelope in sorted(parked, key=lambda e: e.version):
        if predecessor(envelope) in done and key(envelope) in waiting:
            apply_with_successors(waiting.pop(key(envelope)))
    for envelope in fresh:
        if envelope.version == 1 or predecessor(envelope) in done:
            apply_with_successors(envelope)
        else:
            waiting.setdefault(key(envelope), envelope)
    plan.parked = [e for e in waiting.values() if e.event_id not in parked_ids]
    plan.unparked = [e for e in plan.applied if e.event_id in parked_ids]
    return plan


@dataclass(frozen=True)
class Outcome:
    applied: list[Envelope]  # in the order applied, parked successors included
    parked: list[Envelope]
    duplicates: list[Envelope]  # already in the inbox or parked, or twice in the batch
    unparked: int  # of ``applied``, how many had been parked
    # Streams with parked events left alone (``unpark=False``): the caller applies them next.
    left_parked: frozenset[Stream] = frozenset()


class _Raced(Exception):
    """Another transaction parked or applied a neighbour of ours meanwhile: run again."""


async def handle_in_order(
    pool: asyncpg.Pool,
    handler: Handler,
    envelopes: Sequence[Envelope],
    *,
    unpark: bool = True,
    streams: Iterable[Stream] = (),
) -> Outcome:
    """Apply ``envelopes`` in version order per stream, in one transaction: new events whose
    predecessor is in, parked successors after them (when ``unpark``), the rest parked.

    ``streams``: streams whose ready parked events to apply besides (the periodic sweep).
    Raises what a handler raises (nothing is then applied nor parked), and
    ``asyncpg.UniqueViolationError`` when another consumer recorded one of them meanwhile.
    """
    for _ in range(RACE_RETRIES):
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await _handle(conn, handler, envelopes, unpark, set(streams))
        except _Raced:
            log.info("ordering.raced", events=len(envelopes))
    raise RuntimeError(f"version order kept racing after {RACE_RETRIES} tries")


# Each lookup is a LATERAL subquery with LIMIT 1, which the planner cannot flatten into a join:
# an index probe per event, whatever the tables' sizes and statistics (flattened, it was planned
# as a hash of the whole inbox while the table had no statistics).
_LOOKUP = """
SELECT (i.hit OR p.hit) IS NOT NULL AS known, pr.hit IS NOT NULL AS has_predecessor,
       sp.hit IS NOT NULL AS stream_parked
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY
     AS e(event_id, service, stream_id, version, ord)
LEFT JOIN LATERAL (SELECT true AS hit FROM inbox WHERE event_id = e.event_id LIMIT 1) i ON true
LEFT JOIN LATERAL (SELECT true AS hit FROM inbox_parked
                   WHERE event_id = e.event_id LIMIT 1) p ON true
LEFT JOIN LATERAL (SELECT true AS hit FROM inbox WHERE stream_id = e.stream_id
                   AND version = e.version - 1 AND service = e.service LIMIT 1) pr ON true
LEFT JOIN LATERAL (SELECT true AS hit FROM inbox_parked WHERE stream_id = e.stream_id
                   AND service = e.service LIMIT 1) sp ON true
ORDER BY e.ord
"""


async def _handle(
    conn: Conn, handler: Handler, envelopes: Sequence[Envelope], unpark: bool, streams: set[Stream]
) -> Outcome:
    rows = await conn.fetch(
        _LOOKUP,
        [e.event_id for e in envelopes],
        [e.service for e in envelopes],
        [e.stream_id for e in envelopes],
        [e.version for e in envelopes],
    )
    fresh: list[Envelope] = []
    duplicates: list[Envelope] = []
    present: set[Key] = set()
    ids: set[object] = set()
    for envelope, row in zip(envelopes, rows, strict=True):
        if row["known"] or envelope.event_id in ids:
            duplicates.append(envelope)
            continue
        ids.add(envelope.event_id)
        fresh.append(envelope)
        if row["has_predecessor"]:
            present.add(predecessor(envelope))
        if row["stream_parked"]:
            streams.add(stream_of(envelope))
    parked = await _parked_events(conn, streams, present) if unpark and streams else []
    plan = plan_in_order(fresh, present, parked)
    await apply_effects(conn, handler, plan.applied)
    if plan.applied or plan.parked:
        await lock_inbox(conn)
        await _check_no_race(conn, plan, unpark)
        await _record(conn, plan)
    left = frozenset() if unpark else frozenset(streams)
    return Outcome(plan.applied, plan.parked, duplicates, len(plan.unparked), left)


async def _parked_events(conn: Conn, streams: set[Stream], present: set[Key]) -> list[Envelope]:
    """The parked events of ``streams``; adds to ``present`` each one's predecessor found in."""
    services, stream_ids = zip(*streams, strict=True)
    rows = await conn.fetch(
        """SELECT p.envelope, pr.hit IS NOT NULL AS has_predecessor
           FROM unnest($1::text[], $2::text[]) AS s(service, stream_id)
           CROSS JOIN LATERAL (SELECT * FROM inbox_parked WHERE stream_id = s.stream_id
                               AND service = s.service OFFSET 0) p  -- OFFSET 0: not flattened
           LEFT JOIN LATERAL (SELECT true AS hit FROM inbox i WHERE i.stream_id = p.stream_id
                              AND i.version = p.version - 1 AND i.service = p.service LIMIT 1
                             ) pr ON true""",
        list(services),
        list(stream_ids),
    )
    parked = [Envelope.from_stored(r["envelope"]) for r in rows]  # validated on receipt
    ready = (e for e, r in zip(parked, rows, strict=True) if r["has_predecessor"])
    present.update(predecessor(e) for e in ready)
    return parked


_RACE = """
SELECT EXISTS (SELECT FROM unnest($1::text[], $2::text[], $3::int[])
                           AS k(service, stream_id, version)
               CROSS JOIN LATERAL (SELECT FROM inbox_parked WHERE stream_id = k.stream_id
                                   AND version = k.version AND service = k.service LIMIT 1) hit)
    OR EXISTS (SELECT FROM unnest($4::text[], $5::text[], $6::int[])
                           AS k(service, stream_id, version)
               CROSS JOIN LATERAL (SELECT FROM inbox WHERE stream_id = k.stream_id
                                   AND version = k.version AND service = k.service LIMIT 1) hit)
"""


async def _check_no_race(conn: Conn, plan: Plan, unpark: bool) -> None:
    """Under the inbox lock: no successor of what we apply was parked since we looked (when we
    unpark), and no predecessor of what we park was recorded since."""
    successors: dict[Stream, int] = {}
    if unpark:
        for envelope in plan.applied:
            stream = stream_of(envelope)
            successors[stream] = max(successors.get(stream, 0), envelope.version + 1)
    predecessors = [predecessor(e) for e in plan.parked]
    if not successors and not predecessors:
        return
    raced = await conn.fetchval(
        _RACE,
        [s for s, _ in successors],
        [t for _, t in successors],
        list(successors.values()),
        [p[0] for p in predecessors],
        [p[1] for p in predecessors],
        [p[2] for p in predecessors],
    )
    if raced:
        raise _Raced


async def _record(conn: Conn, plan: Plan) -> None:
    if plan.unparked:
        await conn.execute(
            "DELETE FROM inbox_parked WHERE event_id = ANY($1::uuid[])",
            [e.event_id for e in plan.unparked],
        )
    if plan.applied:
        await insert_into_inbox(conn, plan.applied)
    if plan.parked:
        await conn.execute(
            "INSERT INTO inbox_parked (event_id, service, stream_id, version, envelope)"
            " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[],"
            " $5::text[]::jsonb[]) ON CONFLICT (event_id) DO NOTHING",
            [e.event_id for e in plan.parked],
            [e.service for e in plan.parked],
            [e.stream_id for e in plan.parked],
            [e.version for e in plan.parked],
            [e.to_json().decode() for e in plan.parked],
        )


@dataclass(frozen=True)
class ParkedSummary:
    count: int
    oldest_seconds: float  # 0 when none
    stale: int  # parked longer than the threshold asked for


async def parked_summary(pool: asyncpg.Pool, stale_after: float = 300.0) -> ParkedSummary:
    row = await pool.fetchrow(
        "SELECT count(*) AS n,"
        " coalesce(extract(epoch FROM now() - min(parked_at)), 0)::float8 AS oldest,"
        " count(*) FILTER (WHERE parked_at < now() - make_interval(secs => $1)) AS stale"
        " FROM inbox_parked",
        stale_after,
    )
    assert row is not None
    return ParkedSummary(int(row["n"]), float(row["oldest"]), int(row["stale"]))


async def ready_parked_streams(pool: asyncpg.Pool, limit: int = 100) -> list[Stream]:
    """Streams with a parked event whose predecessor is in the inbox: left over when a batch
    fell back to one event at a time (which applies no parked successor)."""
    rows = await pool.fetch(
        """SELECT DISTINCT p.service, p.stream_id FROM inbox_parked p
           CROSS JOIN LATERAL (SELECT FROM inbox i WHERE i.stream_id = p.stream_id
                               AND i.version = p.version - 1 AND i.service = p.service LIMIT 1) hit
           LIMIT $1""",
        limit,
    )
    return [(r["service"], r["stream_id"]) for r in rows]
