"""The outbox relay: publishes a service's events, in position order, to the topic exchange.

The event table is the outbox. One relay per service is active at a time: it holds a session
advisory lock on a dedicated connection and writes its checkpoint through that same connection,
so a relay that lost its lock (its connection died) cannot move the checkpoint. Events are
published persistent with publisher confirms, pipelined within and across batches (up to
``MAX_BATCHES_IN_FLIGHT`` batches unconfirmed); the checkpoint moves only over batches whose every
confirm arrived, in order. A crash between confirm and checkpoint republishes those batches:
consumers' inboxes make that harmless (at-least-once on the bus, exactly-once in effect).

Before its first publish on every (re)connect the relay declares the queues of every service that
consumes its events (``shared.topology``), and it publishes ``mandatory``: an event that reaches no
queue comes back (``basic.return``) and fails its batch like a nack, so it is never checkpointed;
the relay reports it (:attr:`Relay.blocked`) and retries with back-off until it routes (ADR 0007).

A batch goes to the broker as hand-marshalled frames written into aiormq's channel state
(:func:`publish_batch`), or with ``GRADELINE_RELAY_PUBLISH=plain`` through aiormq's own
``basic_publish`` (:func:`publish_each`); ADR 0011.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import aio_pika
import aiormq
import asyncpg
import structlog
from aiormq.abc import ChannelFrame, DeliveredMessage
from pamqp.commands import Basic

from shared import amqp_frames, db
from shared.events import Envelope
from shared.eventstore import fetch_after
from shared.settings import Settings
from shared.topology import declare_events_exchange as declare_events_exchange
from shared.topology import declare_producer_topology

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
    """The same event as an aio-pika message (for tools publishing through aio-pika).

    Mandatory is a publish's flag, not a message's: aio-pika's ``Exchange.publish`` sets it by
    default, and answers a message that reached no queue with the returned message instead of an
    ack (or raises ``PublishError`` on a channel opened with ``on_return_raises=True``)."""
    properties = to_properties(envelope)
    return persistent_message(envelope.to_json(), properties, properties.headers)


def persistent_message(
    body: bytes, p: Basic.Properties, headers: dict[str, Any] | None
) -> aio_pika.Message:
    """An aio-pika message of ``body`` with ``headers`` and the properties of ``p`` that
    :func:`to_properties` sets, persistent."""
    return aio_pika.Message(
        body=body,
        headers=headers,
        content_type=p.content_type,
        message_id=p.message_id,
        type=p.message_type,
        app_id=p.app_id,
        timestamp=p.timestamp,
        correlation_id=p.correlation_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


# What a publish's confirmation future resolves to: an ack or nack, or the message itself when the
# broker returned it (a mandatory publish that reached no queue).
Confirmation = Basic.Ack | Basic.Nack | Basic.Reject | DeliveredMessage


def everything(routing_key: str) -> bool:
    """Every event must reach a queue (the relay's default)."""
    return True


async def publish_batch(
    channel: aiormq.Channel,
    exchange: str,
    batch: Sequence[Envelope],
    mandatory: Callable[[str], bool] = everything,
) -> asyncio.Future[list[Confirmation]]:
    """Publish a batch of events; a future of the broker's confirms, in the batch's order.

    What ``basic_publish(..., wait=False)`` does for each event, done once for the batch: under the
    channel's lock, the frames (``shared.amqp_frames``) go to the connection's writer in one piece,
    and each publish takes the channel's next delivery tag with a confirmation future that
    aiormq's confirm handling resolves (or rejects when the channel closes). The writer sends the
    batch in a few socket writes; the relay bounds what is unconfirmed by batches in flight.
    None of that channel state is aiormq's documented API: ADR 0011 says what it buys against
    :func:`publish_each` (one ``basic_publish`` per event), and a canary test guards its shape.

    Publishes whose routing key ``mandatory`` names are mandatory. aiormq finds a returned
    message's confirmation by its message id (the event id), so each is registered as
    ``basic_publish`` does, until the batch is settled.
    """
    keys = [routing_key(e) for e in batch]
    flags = [mandatory(key) for key in keys]
    payload = b"".join(
        amqp_frames.event_publish(
            channel.number, exchange, key, e, e.to_json(), channel.max_content_size, flag
        )
        for e, key, flag in zip(batch, keys, flags, strict=True)
    )
    async with channel.lock:
        if channel.is_closed:  # a closed channel's writer would never send these
            raise aiormq.exceptions.ChannelInvalidStateError("the relay's channel is closed")
        await channel.write_queue.put(ChannelFrame(payload=payload, should_close=False))
        # Registered only once the frames are queued (no await in between, so no confirm can
        # come first): a publish cancelled while waiting for queue room took no delivery tag.
        confirms = []
        returnable: dict[str, int] = {}
        for envelope, flag in zip(batch, flags, strict=True):
            channel.delivery_tag += 1
            confirmation = channel.create_future()
            channel.confirmations[channel.delivery_tag] = confirmation
            confirms.append(confirmation)
            if flag:
                returnable[str(envelope.event_id)] = channel.delivery_tag
        channel.message_id_delivery_tag.update(returnable)
    settled: asyncio.Future[list[Confirmation]] = asyncio.gather(*confirms)
    settled.add_done_callback(functools.partial(_forget_returnable, channel, returnable))
    return settled


async def publish_each(
    channel: aiormq.Channel,
    exchange: str,
    batch: Sequence[Envelope],
    mandatory: Callable[[str], bool] = everything,
) -> asyncio.Future[list[Confirmation]]:
    """What :func:`publish_batch` does, through aiormq's public ``basic_publish``, one publish
    per event (``GRADELINE_RELAY_PUBLISH=plain``): nothing marshalled or written into the
    channel here, at several times the CPU per event (ADR 0011).

    The publishes start in the batch's order and take the channel's lock in that order, so they
    reach the broker in it. aiormq registers each one's confirmation and message id itself; a
    returned publish fails its confirmation as in :func:`publish_batch`.
    """
    if channel.is_closed:  # as publish_batch: refused at once, before any delivery tag
        raise aiormq.exceptions.ChannelInvalidStateError("the relay's channel is closed")
    publishes = []
    for envelope in batch:
        key = routing_key(envelope)
        publishes.append(
            channel.basic_publish(
                envelope.to_json(),
                exchange=exchange,
                routing_key=key,
                properties=to_properties(envelope),
                mandatory=mandatory(key),
                wait=False,
            )
        )
    return cast("asyncio.Future[list[Confirmation]]", asyncio.gather(*publishes))


class Publish(Protocol):
    """How the relay hands a batch to the broker: :func:`publish_batch` or :func:`publish_each`."""

    async def __call__(
        self,
        channel: aiormq.Channel,
        exchange: str,
        batch: Sequence[Envelope],
        mandatory: Callable[[str], bool] = everything,
    ) -> asyncio.Future[list[Confirmation]]: ...


# By the ``relay_publish`` setting.
PUBLISHERS: dict[str, Publish] = {"frames": publish_batch, "plain": publish_each}


def _forget_returnable(
    channel: aiormq.Channel, returnable: dict[str, int], settled: asyncio.Future[object]
) -> None:
    """Once every publish of a batch is confirmed, its message ids are no longer needed. A
    failed batch (the first failure ends the wait) keeps them: a later return of the same batch
    must still find its publish, and the relay closes the channel after a failure anyway."""
    if settled.cancelled() or settled.exception() is not None:
        return
    for message_id, tag in returnable.items():
        if channel.message_id_delivery_tag.get(message_id) == tag:
            del channel.message_id_delivery_tag[message_id]


class UnroutableEvent(Exception):
    """The broker returned a mandatory publish: the event reached no queue."""

    def __init__(self, position: int | None, routing_key: str, reply: str) -> None:
        super().__init__(position, routing_key, reply)
        self.position = position
        self.routing_key = routing_key
        self.reply = reply

    @classmethod
    def of(cls, returned: DeliveredMessage) -> UnroutableEvent:
        headers = returned.header.properties.headers or {}
        position = headers.get("position")
        delivery = cast(Basic.Return, returned.delivery)
        return cls(
            int(position) if isinstance(position, int) else None,
            delivery.routing_key or "",
            f"{delivery.reply_code} {delivery.reply_text}",
        )

    def describe(self) -> str:
        return (
            f"unroutable event at position {self.position} ({self.routing_key}): {self.reply};"
            " a consuming service's queues or bindings are missing"
        )


def require_acks(confirms: Sequence[Confirmation]) -> None:
    """A nack (the broker could not take a message) or a return (it reached no queue) fails its
    batch: it is published again."""
    for confirm in confirms:
        if isinstance(confirm, DeliveredMessage):
            raise UnroutableEvent.of(confirm)
        if not isinstance(confirm, Basic.Ack):
            raise aio_pika.exceptions.DeliveryError(None, confirm)


async def settled_confirms(confirms: asyncio.Future[list[Confirmation]]) -> None:
    """Wait for a batch's confirms; raise :class:`UnroutableEvent` for a returned publish (on a
    channel that raises returns, as the relay's does) and ``DeliveryError`` for a nack."""
    try:
        require_acks(await confirms)
    except aiormq.exceptions.PublishError as exc:
        if exc.message is None:  # aiormq always passes the returned message; typed optional
            raise UnroutableEvent(None, "", str(exc)) from exc
        raise UnroutableEvent.of(exc.message) from exc


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
    """Run with ``await relay.run()`` until cancelled; ``wake()`` cuts the wait after appends.

    ``mandatory`` names the routing keys whose events must reach a queue (all, by default; a
    service's relay exempts those no consuming service binds, see ``shared.workers``).
    ``on_unroutable`` is told of each batch the broker returned, as it happens (metrics).
    """

    def __init__(
        self,
        settings: Settings,
        service: str,
        dsn: str,
        *,
        mandatory: Callable[[str], bool] = everything,
        on_unroutable: Callable[[UnroutableEvent], None] | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.dsn = dsn
        self.mandatory = functools.cache(mandatory)  # routing keys are the few event types
        self.publish = PUBLISHERS[settings.relay_publish]
        self.on_unroutable = on_unroutable
        self.published = 0  # events confirmed by the broker, for tests and metrics
        self.active = False  # holds the lock
        # The unroutable event the checkpoint is held before, until it goes through.
        self.blocked: UnroutableEvent | None = None
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
                if isinstance(exc, UnroutableEvent):
                    self._report_unroutable(exc)
                delay = backoff.next_delay()
                log.error("relay.retry", service=self.service, error=repr(exc), delay=delay)
                await asyncio.sleep(delay)
            finally:
                self.active = False

    def _report_unroutable(self, event: UnroutableEvent) -> None:
        self.blocked = event
        log.error(
            "relay.unroutable",
            service=self.service,
            position=event.position,
            routing_key=event.routing_key,
            reply=event.reply,
        )
        if self.on_unroutable is not None:
            self.on_unroutable(event)

    async def _run_once(self, backoff: Backoff) -> None:
        conn = await db.connect(self.dsn, liveness=self.settings.db_liveness())
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                self.blocked = None  # another replica relays (and reports); stand by
                await asyncio.sleep(1.0)
                return
            self.active = True
            # The checkpoint is a hint of where to resume: a crash that loses its last updates
            # only republishes confirmed events, which consumers' inboxes drop as duplicates. So
            # its writes (this connection's only ones) need not wait for the WAL flush, which
            # would otherwise stall publishing after every settled batch.
            await conn.execute("SET synchronous_commit TO off")
            connection = await aio_pika.connect(self.settings.amqp_url)
            try:
                # A returned publish fails its confirmation (aiormq's PublishError).
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                # Every consuming service's queues exist before the first publish: an event
                # published before its consumers ever started waits for them.
                exchange = await declare_producer_topology(channel, self.settings, self.service)
                underlay = await channel.get_underlay_channel()
                # The concrete channel: publish_batch uses its lock, tags and confirmations,
                # publish_each its basic_publish.
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
        # (the bus suite's p99 shows it: docs/benchmarks.md). The checkpoint still moves only over
        # batches whose every confirm arrived, in order.
        in_flight: deque[_InFlight] = deque()
        published = position  # the last position handed to the broker
        try:
            while True:
                batch: list[Envelope] = []
                if len(in_flight) < MAX_BATCHES_IN_FLIGHT:
                    batch = await fetch_after(conn, published, size, self.service)
                if batch:
                    confirms = await self.publish(channel, exchange, batch, self.mandatory)
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
                    if self.blocked and (self.blocked.position or 0) <= position:
                        self.blocked = None
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
    confirms: asyncio.Future[list[Confirmation]]


async def _settle(in_flight: deque[_InFlight]) -> tuple[int, int] | None:
    """Pop the confirmed batches at the head of ``in_flight``: (last position, events), or None.

    A failed confirm (a nack, a return, a closed channel) raises here, before the checkpoint
    moves past its batch: batches behind it wait, however many were confirmed. Confirmed batches
    ahead of it are returned first (the checkpoint takes them), and the next call raises.
    """
    settled: tuple[int, int] | None = None
    while in_flight and in_flight[0].confirms.done():
        if settled is not None and _failed(in_flight[0].confirms):
            break
        done = in_flight.popleft()
        await settled_confirms(done.confirms)  # raises the batch's failure, if any
        settled = (done.last_position, done.count + (settled[1] if settled else 0))
    return settled


def _failed(confirms: asyncio.Future[list[Confirmation]]) -> bool:
    if confirms.cancelled() or confirms.exception() is not None:
        return True
    return not all(isinstance(confirm, Basic.Ack) for confirm in confirms.result())


async def relay_lag(pool: asyncpg.Pool, service: str) -> int:
    """Events stored but not yet confirmed by the broker."""
    lag = await pool.fetchval(
        "SELECT coalesce((SELECT max(position) FROM events), 0)"
        " - coalesce((SELECT position FROM checkpoints WHERE name = $1), 0)",
        checkpoint_name(service),
    )
    return int(lag)
