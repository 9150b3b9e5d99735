"""Gap safety: a transaction holding a lower position that commits late is never skipped.

The adversarial interleaving is forced, not hoped for: transaction A appends and stays open while
B appends to another stream. Positions are handed out under a lock held to commit, so B waits for
A; a reader (and the relay) tailing by position sees A then B, never B alone past A's gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import aio_pika

from shared import db
from shared.events import NewEvent
from shared.eventstore import NO_STREAM
from shared.relay import Relay


def ev(n: int) -> NewEvent:
    return NewEvent(type="Thing", data={"n": n})


class Interleaving(NamedTuple):
    commit_a: Any  # commits A's transaction
    a: Any  # what A's append answered
    b: asyncio.Task  # B's append, started while A is open


@asynccontextmanager
async def a_open_while_b_appends(
    pg_store, service_db, xid_first: bool = False
) -> AsyncIterator[Interleaving]:
    """A appends to stream-a in a transaction it leaves open; B appends to stream-b meanwhile.
    ``xid_first``: A takes its xid before it appends, as a naive store would."""
    conn_a = await db.connect(service_db)
    try:
        tx = conn_a.transaction()
        await tx.start()
        if xid_first:
            await conn_a.execute("SELECT txid_current()")
        a = await pg_store.append("stream-a", [ev(1)], NO_STREAM, conn=conn_a)
        b_task = asyncio.create_task(pg_store.append("stream-b", [ev(2)], NO_STREAM))
        yield Interleaving(tx.commit, a, b_task)
    finally:
        await conn_a.close()


async def test_late_committing_lower_position_is_read_before_the_higher(pg_store, service_db):
    async with a_open_while_b_appends(pg_store, service_db, xid_first=True) as (commit_a, a, b):
        await asyncio.sleep(0.3)
        assert not b.done(), "B must wait for A's position to become visible"
        assert await pg_store.read_all(0) == []
        await commit_a()
        b_result = await asyncio.wait_for(b, 5)
    assert a.first_position < b_result.first_position
    assert [e.stream_id for e in await pg_store.read_all(0)] == ["stream-a", "stream-b"]


async def test_a_reader_checkpointing_between_commits_skips_nothing(pg_store, service_db):
    await pg_store.append("s-0", [ev(0)], NO_STREAM)
    async with a_open_while_b_appends(pg_store, service_db) as (commit_a, _, b):
        seen = await pg_store.read_all(0)  # the reader checkpoints while A is open
        checkpoint = seen[-1].position
        await commit_a()
        await asyncio.wait_for(b, 5)
    rest = await pg_store.read_all(checkpoint)
    assert [e.data["n"] for e in seen + rest] == [0, 1, 2]


async def test_relay_delivers_both_in_order_when_the_lower_commits_last(
    pg_store, service_db, settings, amqp
):
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(settings.exchange_name(), "topic", durable=True)
    queue = await channel.declare_queue(f"{settings.namespace}.capture", exclusive=True)
    await queue.bind(exchange, "core.#")
    relay = Relay(settings, "core", service_db)
    relay_task = asyncio.create_task(relay.run())
    try:
        async with a_open_while_b_appends(pg_store, service_db) as (commit_a, _, b):
            await asyncio.sleep(0.2)
            await commit_a()
            await asyncio.wait_for(b, 5)
        received = []
        async with asyncio.timeout(10):
            async with queue.iterator() as messages:
                async for message in messages:
                    await message.ack()
                    received.append(message.headers["stream_id"])
                    if len(received) == 2:
                        break
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
    assert received == ["stream-a", "stream-b"]
    assert isinstance(message, aio_pika.abc.AbstractIncomingMessage)
