"""The outbox relay: publishes a service's events, in position order, to the topic exchange.

The event table is the outbox. One relay per service is active at a time: it holds a session
advisory lock on a dedicated connection and writes its checkpoint through that same connection,
so a relay that lost its lock (its connection died) cannot move the checkpoint. Events are
published persistent with publisher confirms, pipelined within and across batches (up to
``MAX_BATCHES_IN_FLIGHT`` batches unconfirmed); the checkpoint moves only over batches whose every
confirm arrived, in order. A crash between confirm and checkpoint republishes those batches:
consumers' inboxes make that harmless (at-least-once on the bus, exactly-once in effect).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import aio_pika
import aiormq
import asyncpg
import structlog
from aio_pika.abc import AbstractExchange
from aiormq.abc import ChannelFrame, ConfirmationFrameType
from pamqp.commands import Basic

from shared import amqp_frames, db
from shared.events import Envelope
from shared.eventstore import fetch_after
from shared.settings import Settings

RELAY_LOCK = 7265616402
# Batches published but not yet confirmed at once: bounds what a broker failure re-publishes.
MAX_BATCHES_IN_FLIGHT = 8
log = structlog.get_logger("gradeline.relay")


def checkpoint_name(service: str) -> str:
    return f"relay:{service}"


def routing_key(envelope: Envelope) -> str:
    return f"{envelope.service}.{envelope.type}"


def to_properties(envelope: Envelope) -> Basic.Properties:
    """The AMQP properties of an event. ``stream_id`` is a header: consumers partition on it."""
    return Basic.Properties(
        content_type="application/json",
        delivery_mode=2,  # persistent
        message_id=str(envelope.event_id),
        message_type=envelope.type,
        app_id=envelope.service,
        timestamp=envelope.recorded_at,
        correlation_id=str(envelope.correlation_id) if envelope.correlation_id else None,
        headers={
            "stream_id": envelope.stream_id,
            "version": envelope.version,
            "position": envelope.position,
        },
    )


def to_message(envelope: Envelope) -> aio_pika.Message:
    """The same event as an aio-pika message (for tools publishing through aio-pika)."""
    p = to_properties(envelope)
    return aio_pika.Message(
        body=envelope.to_json(), content_type=p.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=p.message_id,
        type=p.message_type, app_id=p.app_id, timestamp=p.timestamp,
        correlation_id=p.correlation_id, headers=p.headers,
    )  # fmt: skip


async def publish_batch(
    channel: aiormq.Channel, exchange: str, batch: Sequence[Envelope]
) -> asyncio.Future[list[ConfirmationFrameType]]:
    """Publish a batch of events; a future of the broker's confirms, in the batch's order.

    What ``basic_publish(..., wait=False)`` does for each event, done once for the batch: under the
    channel's lock, the frames (``shared.amqp_frames``) go to the connection's writer in one piece,
    and each publish takes the channel's next delivery tag with a confirmation future that
    aiormq's confirm handling resolves (or rejects when the channel closes). The writer sends the
    batch in a few socket writes; the relay bounds what is unconfirmed by batches in flight.
    Measured (20,000 events to a quorum queue): 237 -> 56 µs of CPU per event, 3.9k -> 9.7k
    events/s, against one ``basic_publish`` per event.
    """
    payload = b"".join(
        amqp_frames.event_publish(channel.number, exchange, routing_key(e), e, e.to_json(),
                                  channel.max_content_size)
        for e in batch
    )  # fmt: skip
    async with channel.lock:
        if channel.is_closed:  # a closed channel's writer would never send these
            raise aiormq.exceptions.ChannelInvalidStateError("the relay's channel is closed")
        await channel.write_queue.put(ChannelFrame(payload=payload, should_close=False))
        # Registered only once the frames are queued (no await in between, so no confirm can
        # come first): a publish cancelled while waiting for queue room took no delivery tag.
        confirms = []
        for _ in batch:
            channel.delivery_tag += 1
            confirmation = channel.create_future()
            channel.confirmations[channel.delivery_tag] = confirmation
            confirms.append(confirmation)
    return asyncio.gather(*confirms)


def require_acks(confirms: Sequence[ConfirmationFrameType]) -> None:
    """A nack (the broker could not take a message) fails its batch: it is published again."""
    for confirm in confirms:
        if not isinstance(confirm, Basic.Ack):
            raise aio_pika.exceptions.DeliveryError(None, confirm)


async def declare_events_exchange(
    channel: aio_pika.abc.AbstractChannel, settings: Settings
) -> AbstractExchange:
    return await channel.declare_exchange(
        settings.exchange_name(), aio_pika.ExchangeType.TOPIC, durable=True
    )


@dataclass
class Backoff:
    """Exponential back-off with jitter, reset after a success."""

    initial: float = 0.05
    maximum: float = 5.0
    current: float = field(init=False, default=0.0)

    def next_delay(self) -> float:
        self.current = min(self.maximum, self.current * 2 if self.current else self.initial)
        return self.current * (0.5 + random.random() / 2)

    def reset(self) -> None:
        self.current = 0.0


class Relay:
    """Run with ``await relay.run()`` until cancelled; ``wake()`` cuts the wait after appends."""

    def __init__(self, settings: Settings, service: str, dsn: str) -> None:
        self.settings = settings
        self.service = service
        self.dsn = dsn
        self.published = 0  # events confirmed by the broker, for tests and metrics
        self.active = False  # holds the lock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._run_once(backoff)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = backoff.next_delay()
                log.error("relay.retry", service=self.service, error=repr(exc), delay=delay)
                await asyncio.sleep(delay)
            finally:
                self.active = False

    async def _run_once(self, backoff: Backoff) -> None:
        conn = await db.connect(self.dsn)
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                await asyncio.sleep(1.0)  # another replica relays; stand by
                return
            self.active = True
            # The checkpoint is a hint of where to resume: a crash that loses its last updates
            # only republishes confirmed events, which consumers' inboxes drop as duplicates. So
            # its writes (this connection's only ones) need not wait for the WAL flush, which
            # would otherwise stall publishing after every settled batch.
            await conn.execute("SET synchronous_commit TO off")
            connection = await aio_pika.connect(self.settings.amqp_url)
            try:
                channel = await connection.channel(publisher_confirms=True)
                exchange = await declare_events_exchange(channel, self.settings)
                underlay = await channel.get_underlay_channel()
                # The concrete channel: publish_batch uses its lock, tags and confirmations.
                await self._publish_forever(
                    conn, cast(aiormq.Channel, underlay), exchange.name, backoff
                )
            finally:
                await connection.close()
        finally:
            await conn.close()

    async def _publish_forever(
        self,
        conn: asyncpg.Connection,
        channel: aiormq.Channel,
        exchange: str,
        backoff: Backoff,
    ) -> None:
        name = checkpoint_name(self.service)
        await conn.execute(
            "INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING", name
        )
        position = int(
            await conn.fetchval("SELECT position FROM checkpoints WHERE name = $1", name)
        )
        size = self.settings.relay_batch_size
        # Batches handed to the broker whose confirms are outstanding, oldest first. A confirm
        # takes milliseconds to tens of them (a quorum queue writes its log first); waiting for
        # a batch's confirms before publishing the next put that wait on every event behind it
        # (measured: p99 append -> consumer 140 ms at 1,000 ev/s). The checkpoint still moves
        # only over batches whose every confirm arrived, in order.
        in_flight: deque[_InFlight] = deque()
        published = position  # the last position handed to the broker
        try:
            while True:
                batch: list[Envelope] = []
                if len(in_flight) < MAX_BATCHES_IN_FLIGHT:
                    batch = await fetch_after(conn, published, size, self.service)
                if batch:
                    confirms = await publish_batch(channel, exchange, batch)
                    in_flight.append(_InFlight(batch[-1].position, len(batch), confirms))
                    published = batch[-1].position
                if len(batch) < size:  # caught up (or enough in flight): let confirms arrive
                    if not in_flight:
                        await self._idle()
                        continue
                    await asyncio.wait(
                        [in_flight[0].confirms], timeout=self.settings.poll_interval_seconds
                    )
                settled = await _settle(in_flight)
                if settled:
                    position, count = settled
                    await conn.execute(
                        "UPDATE checkpoints SET position = $2, updated_at = now() WHERE name = $1",
                        name,
                        position,
                    )
                    self.published += count
                    backoff.reset()
        finally:
            for batch_in_flight in in_flight:  # never leave confirms unobserved
                batch_in_flight.confirms.cancel()
            await asyncio.gather(*(b.confirms for b in in_flight), return_exceptions=True)

    async def _idle(self) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval_seconds)


@dataclass(frozen=True, slots=True)
class _InFlight:
    last_position: int
    count: int
    confirms: asyncio.Future[list[ConfirmationFrameType]]


async def _settle(in_flight: deque[_InFlight]) -> tuple[int, int] | None:
    """Pop the confirmed batches at the head of ``in_flight``: (last position, events), or None.

    A failed confirm raises here, before the checkpoint moves past its batch.
    """
    settled: tuple[int, int] | None = None
    while in_flight and in_flight[0].confirms.done():
        done = in_flight.popleft()
        require_acks(await done.confirms)  # raises the batch's failure, if any
        settled = (done.last_position, done.count + (settled[1] if settled else 0))
    return settled


async def relay_lag(pool: asyncpg.Pool, service: str) -> int:
    """Events stored but not yet confirmed by the broker."""
    lag = await pool.fetchval(
        "SELECT coalesce((SELECT max(position) FROM events), 0)"
        " - coalesce((SELECT position FROM checkpoints WHERE name = $1), 0)",
        checkpoint_name(service),
    )
    return int(lag)
