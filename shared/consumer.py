"""The inbox consumer: upstream events in, each effect exactly once, per-stream order kept.

Topology of a consuming service ``svc`` in namespace ``ns``::

    ns.events (topic) --binding keys--> ns.svc.in (x-consistent-hash on header stream_id)
        --> ns.svc.p0 .. ns.svc.p<N-1>   quorum queues, single active consumer each
        --dead letters--> ns.svc.dlx (fanout) --> ns.svc.dlq

Every event of one stream lands in the same partition queue, and a partition has one active
consumer however many replicas run, so per-stream order holds while replicas share the work.
The replicas spread the partitions between them through a lease in the service's database
(``shared.partition_lease``, ADR 0019): each subscribes to its share only, and hands a
partition that moved to another replica over between two of its batches. Within a process one
applier takes the deliveries of all its partitions in arrival order.

Handling a message is one PostgreSQL transaction: the handler's effect and the inbox row (unique
event id, full envelope kept for replay), then the ack. A redelivered duplicate finds its inbox row
and is acked without effect. Each stream's events are applied in version order whatever the
delivery order: one that arrives before its predecessor is parked in the database until the
predecessor is applied (``shared.ordering``, ADR 0008). A failing handler is retried with
back-off; after ``consumer_max_attempts`` the message is published to the dead-letter exchange
with the reason in its headers (``shared.deadletters``), from which :func:`redrive` puts it back.
Partition queues past the configured count are drained, then deleted (``shared.partitions``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg
import pydantic
import structlog
from aio_pika.abc import AbstractChannel
from aiormq.abc import DeliveredMessage

from shared import deadletters, partitions
from shared.db import DATABASE_AWAY
from shared.events import Envelope
from shared.inbox import Handler, handle_once  # noqa: F401 (tests import handle_once from here)
from shared.ordering import (
    Outcome,
    Stream,
    handle_in_order,
    parked_summary,
    ready_parked_streams,
)
from shared.partition_lease import Assignment, PartitionLease
from shared.partitions import is_drain_marker, retire, surplus_queues
from shared.relay import Backoff
from shared.settings import Settings

# Re-exported: the topology was defined here before shared.topology (``as`` makes it explicit).
from shared.topology import Topology as Topology
from shared.topology import declare_topology as declare_topology

log = structlog.get_logger("gradeline.consumer")


@dataclass
class _Partition:
    """A queue this process consumes, on a channel of its own."""

    queue: str
    channel: AbstractChannel
    surplus: bool  # past the partition count: being drained, then deleted
    last_delivered: int = 0  # delivery tag of the latest message received on the channel
    index: int | None = None  # its number, for a partition within the count


class Consumer:
    """Consumes one service's partition queues into its inbox; run until cancelled."""

    def __init__(
        self,
        settings: Settings,
        service: str,
        pool: asyncpg.Pool,
        handler: Handler,
        binding_keys: Sequence[str],
        *,
        retry_delay: float = 0.2,
        on_committed: Callable[[Sequence[Envelope]], None] | None = None,
        on_assignment: Callable[[Assignment, bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.handler = handler
        self.binding_keys = list(binding_keys)
        self.topology = Topology(settings.namespace, service, settings.consumer_partitions)
        self.retry_delay = retry_delay
        # Told of each batch once its transaction committed (duplicates included), before the
        # ack: the moment an effect became visible (metrics, latency benchmarks).
        self.on_committed = on_committed
        # Told of this replica's share of the partitions when it changes, and whether that
        # was a rebalance (a share before it) or the first share (metrics).
        self.on_assignment = on_assignment
        self.lease = PartitionLease(pool, service, settings.consumer_lease_ttl_seconds)
        self.assignment: Assignment | None = None
        self.rebalances = 0
        self.handled = 0  # effects applied (not duplicates), parked ones once applied
        self.duplicates = 0
        self.parked = 0  # events that came before their stream's previous version
        self.dead_lettered = 0
        self.ready = asyncio.Event()  # set once the queues are declared and consumed
        # Held while a batch is handled and acknowledged: a partition is released between two.
        self._batch_lock = asyncio.Lock()
        self._handovers: set[asyncio.Task[None]] = set()
        self._partitions: dict[int, _Partition] = {}  # by id() of the AMQP channel
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._publisher: AbstractChannel | None = None  # dead letters, drain markers
        self._stopped: asyncio.Future[str] | None = None  # one per connection

    async def run(self) -> None:
        backoff = Backoff()
        try:
            while True:
                try:
                    await self._consume(backoff)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    delay = backoff.next_delay()
                    log.error("consumer.retry", service=self.topology.service, error=repr(exc))
                    await asyncio.sleep(delay)
        finally:
            # Stopped: the other replicas take our partitions at their next beat. Best effort:
            # if the database is away, our row expires after the TTL all the same.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.lease.leave(), self.lease.beat_interval)

    async def _consume(self, backoff: Backoff) -> None:
        connection = await aio_pika.connect(self.settings.amqp_url)
        try:
            channel = await connection.channel()
            await declare_topology(channel, self.settings, self.topology, self.binding_keys)
            # Set when the connection drops, or when the broker cancels the consumer of one
            # of our partitions (deleted by a replica running with fewer partitions).
            stopped: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._stopped = stopped
            connection.close_callbacks.add(lambda *_: self._stop("AMQP connection closed"))
            self._connection, self._partitions = connection, {}
            self._publisher = await connection.channel(publisher_confirms=True)
            arrived: asyncio.Queue[DeliveredMessage] = asyncio.Queue()
            await self._rebalance(arrived)
            await self._retire_surplus(arrived)
            workers = [
                asyncio.create_task(self._apply(arrived)),
                asyncio.create_task(self._sweep(arrived)),
                asyncio.create_task(self._keep_lease(arrived)),
            ]
            self.ready.set()
            backoff.reset()
            try:
                # Until the connection drops or a worker fails; then reconnect from scratch.
                waits: list[asyncio.Future[Any]] = [stopped, *workers]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for worker in workers:
                    if worker.done() and worker.exception():
                        raise worker.exception()  # type: ignore[misc]
                raise ConnectionError(stopped.result())
            finally:
                for worker in [*workers, *self._handovers]:
                    worker.cancel()
                await asyncio.gather(*workers, *self._handovers, return_exceptions=True)
        finally:
            self.ready.clear()
            if not connection.is_closed:
                await connection.close()

    async def _subscribe(
        self,
        name: str,
        arrived: asyncio.Queue[DeliveredMessage],
        *,
        surplus: bool,
        index: int | None = None,
    ) -> None:
        """Consume one queue on a channel of its own (so that acknowledging with
        ``multiple=True`` settles that queue's deliveries only), into ``arrived``.

        Deliveries are taken straight from the AMQP channel (aiormq), not as aio-pika's
        ``IncomingMessage``: building that object cost about as much as the rest of receiving
        a message (as on the relay's publishing side).
        """
        assert self._connection is not None
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.settings.consumer_prefetch)
        underlay = await channel.get_underlay_channel()
        partition = _Partition(name, channel, surplus, index=index)
        self._partitions[id(underlay)] = partition

        async def deliver(message: DeliveredMessage) -> None:
            partition.last_delivered = _delivery_tag(message)
            arrived.put_nowait(message)

        def cancelled(_: object) -> None:
            if surplus:
                self._partitions.pop(id(underlay), None)  # drained and deleted
            else:
                self._stop(f"the broker cancelled the consumer of {name}")

        underlay.on_consumer_cancel_callbacks.add(cancelled)
        await underlay.basic_consume(name, deliver)

    async def _keep_lease(self, arrived: asyncio.Queue[DeliveredMessage]) -> None:
        while True:
            await asyncio.sleep(self.lease.beat_interval)
            await self._rebalance(arrived)

    async def _rebalance(self, arrived: asyncio.Queue[DeliveredMessage]) -> None:
        """Beat the lease, consume the partitions of our share we do not consume yet, and
        release those no longer ours. A partition taken waits behind its former owner (single
        active consumer) until that one releases it; nothing has to happen in step."""
        consuming = {p.index: key for key, p in self._partitions.items() if p.index is not None}
        assignment = await self.lease.renew(self.topology.partitions, sorted(consuming))
        for index in sorted(assignment.partitions - consuming.keys()):
            queue = self.topology.partition_queue(index)
            await self._subscribe(queue, arrived, surplus=False, index=index)
        for index in sorted(consuming.keys() - assignment.partitions):
            # Not awaited: it waits for the batch in hand, and the beats must go on meanwhile.
            handover = asyncio.create_task(self._release(consuming[index]))
            self._handovers.add(handover)
            handover.add_done_callback(self._handovers.discard)
        if assignment != self.assignment:
            moved = self.assignment is not None and (
                assignment.partitions != self.assignment.partitions
            )
            self.rebalances += moved
            log.info(
                "consumer.assignment",
                service=self.topology.service,
                replica=self.lease.replica,
                partitions=sorted(assignment.partitions),
                members=assignment.members,
            )
            self.assignment = assignment
            if self.on_assignment is not None:
                self.on_assignment(assignment, moved)

    async def _release(self, key: int) -> None:
        """Hand a partition over to the replica it moved to, between two batches: the batch in
        hand is committed and acknowledged first. Closing the channel gives what we received
        but did not handle back to the queue, ahead of the rest, for the next active consumer;
        the applier drops its copies (:meth:`_apply`). Cancelling the consumer instead would
        let the next one start on later events while we still held earlier ones: those would
        be parked, and our batches would race its parking (``shared.ordering``)."""
        async with self._batch_lock:
            partition = self._partitions.pop(key, None)  # None: released already
            if partition is not None:
                await partition.channel.close()

    def _stop(self, reason: str) -> None:
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(reason)

    async def _apply(self, arrived: asyncio.Queue[DeliveredMessage]) -> None:
        """Every partition this process consumes, in arrival order, one batch at a time.

        Whatever has arrived while the previous batch was being handled is handled next as one
        batch, in one transaction: one commit and one inbox-lock hold for the lot, whichever
        partitions it came from. Each stream's events are applied in version order whatever
        order they arrived in (:func:`shared.ordering.handle_in_order`).

        One applier rather than one per partition: four transactions at a time contended for
        the inbox lock and the cores, each with a small batch (the bus suite's latency figures:
        docs/benchmarks.md). The price: a message being retried (``_process``'s back-off)
        holds this process's other partitions too, for at most ``consumer_max_attempts``
        back-offs, after which it is dead-lettered; replicas on other partitions go on.
        """
        while True:
            batch = [await arrived.get()]
            while len(batch) < self.settings.consumer_batch_size and not arrived.empty():
                batch.append(arrived.get_nowait())
            async with self._batch_lock:
                # Deliveries of a partition released meanwhile went back to its queue.
                batch = [m for m in batch if id(m.channel) in self._partitions]
                if batch:
                    await self._process_batch(batch)

    async def _process_batch(self, batch: list[DeliveredMessage]) -> None:
        events = [m for m in batch if not is_drain_marker(m)]
        markers = [m for m in batch if is_drain_marker(m)]
        if len(events) > 1 and await self._handle_together(events):
            # Each channel's last delivery in the batch settles it and every earlier one on
            # its channel: those were all handled (applied, parked or dropped), in this batch
            # or before it.
            last: dict[int, DeliveredMessage] = {id(m.channel): m for m in batch}
            for message in last.values():
                await message.channel.basic_ack(_delivery_tag(message), multiple=True)
        else:
            for message in events:
                await self._process(message)
            for marker in markers:
                await marker.channel.basic_ack(_delivery_tag(marker))
        for marker in markers:
            await self._drained(marker)

    async def _handle_together(self, batch: list[DeliveredMessage]) -> bool:
        """The batch in one transaction; False when something in it fails (or will not decode):
        then it is handled one by one, so that only the culprit is retried and dead-lettered."""
        try:
            envelopes = [Envelope.from_json(m.body) for m in batch]
            outcome = await handle_in_order(self.pool, self.handler, envelopes)
        except DATABASE_AWAY:
            raise  # the database is away: reconnect loop, the messages will be redelivered
        except Exception:
            return False
        self._count(outcome)
        return True

    async def _process(self, message: DeliveredMessage) -> None:
        try:
            envelope = Envelope.from_json(message.body)
        except (pydantic.ValidationError, ValueError) as exc:
            log.error(
                "consumer.undecodable",
                error=str(exc),
                message_id=message.header.properties.message_id,
            )
            await self._dead_letter(message, deadletters.UNDECODABLE, str(exc), 1)
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                # Its parked successors in a transaction of their own (below): a failing one
                # must not fail this event and dead-letter it in its place.
                outcome = await handle_in_order(self.pool, self.handler, [envelope], unpark=False)
            except asyncpg.UniqueViolationError:
                # The same event committed meanwhile by a former active consumer.
                outcome = Outcome(applied=[], parked=[], duplicates=[envelope], unparked=0)
            except DATABASE_AWAY:
                raise  # the database is away: reconnect loop, the message will be redelivered
            except Exception as exc:
                log.warning(
                    "consumer.handler_failed",
                    event_id=str(envelope.event_id),
                    type=envelope.type,
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt >= self.settings.consumer_max_attempts:
                    await self._dead_letter(message, deadletters.HANDLER_FAILED, repr(exc), attempt)
                    return
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
                continue
            self._count(outcome)
            await message.channel.basic_ack(_delivery_tag(message))
            if outcome.left_parked:
                await self._apply_parked(outcome.left_parked)
            return

    async def _apply_parked(self, streams: Iterable[Stream]) -> None:
        """Parked events of ``streams`` whose predecessor is in, each stream on its own; one
        that fails stays parked (the sweep tries it again, the parked metrics show it)."""
        for stream in streams:
            try:
                outcome = await handle_in_order(self.pool, self.handler, [], streams=[stream])
            except DATABASE_AWAY:
                raise
            except Exception as exc:
                log.warning(
                    "consumer.parked_failed",
                    service=stream[0],
                    stream_id=stream[1],
                    error=repr(exc),
                )
                continue
            self._count(outcome)

    def _count(self, outcome: Outcome) -> None:
        self.handled += len(outcome.applied)
        self.duplicates += len(outcome.duplicates)
        self.parked += len(outcome.parked)
        if outcome.parked:
            log.warning(
                "consumer.parked",
                count=len(outcome.parked),
                events=[f"{e.service}:{e.stream_id}#{e.version}" for e in outcome.parked[:5]],
            )
        if self.on_committed is not None and (outcome.applied or outcome.duplicates):
            self.on_committed([*outcome.applied, *outcome.duplicates])

    async def _dead_letter(
        self, message: DeliveredMessage, reason: str, error: str, attempts: int
    ) -> None:
        """To the dead-letter queue with the reason (confirmed), then off the partition."""
        assert self._publisher is not None
        await deadletters.publish_dead_letter(
            self._publisher,
            self.topology.dead_letter_exchange,
            message,
            reason=reason,
            error=error,
            attempts=attempts,
            consumer=self.topology.service,
        )
        await message.channel.basic_ack(_delivery_tag(message))
        self.dead_lettered += 1

    async def _sweep(self, arrived: asyncio.Queue[DeliveredMessage]) -> None:
        """Every ``consumer_sweep_seconds``: partitions past the count, parked events whose
        predecessor came in meanwhile, and a warning while some wait too long."""
        while True:
            await asyncio.sleep(self.settings.consumer_sweep_seconds)
            await self._retire_surplus(arrived)
            await self._apply_parked(await ready_parked_streams(self.pool))
            summary = await parked_summary(self.pool, self.settings.consumer_parked_alert_seconds)
            if summary.stale:
                log.warning(
                    "consumer.parked_stale",
                    service=self.topology.service,
                    stale=summary.stale,
                    parked=summary.count,
                    oldest_seconds=round(summary.oldest_seconds),
                )

    async def _retire_surplus(self, arrived: asyncio.Queue[DeliveredMessage]) -> None:
        """Drain and delete the partition queues past the count (``shared.partitions``)."""
        assert self._connection is not None and self._publisher is not None
        t = self.topology
        consumed = {p.queue for p in self._partitions.values()}
        for name in await surplus_queues(self._connection, t.namespace, t.service, t.partitions):
            if name not in consumed:
                log.warning("consumer.surplus_partition", queue=name, partitions=t.partitions)
                await self._subscribe(name, arrived, surplus=True)
            await retire(self._publisher, name, t.partition_exchange)

    async def _drained(self, marker: DeliveredMessage) -> None:
        """A drain marker was settled: if nothing came after it, its queue goes."""
        partition = self._partitions.get(id(marker.channel))
        if partition is None or not partition.surplus:
            return  # a partition of ours, marked by a replica running with fewer partitions
        if partition.last_delivered != _delivery_tag(marker):
            return  # more came after it: a later marker will tell
        assert self._connection is not None
        if await partitions.delete_if_empty(self._connection, partition.queue):
            # The broker cancels the consumer of the deleted queue, and its cancel (which
            # forgets the partition too) may have come during the deletion's await.
            self._partitions.pop(id(marker.channel), None)
            await partition.channel.close()


def _delivery_tag(message: DeliveredMessage) -> int:
    tag = message.delivery.delivery_tag  # type: ignore[union-attr]
    assert tag is not None, "a consumed delivery always carries its tag"
    return tag


async def redrive(settings: Settings, service: str, limit: int | None = None) -> int:
    """Move dead letters back to the service's partition exchange; returns how many. They go
    as first published: without the broker's ``x-*`` headers nor the reason they failed."""
    topology = Topology(settings.namespace, service, settings.consumer_partitions)
    connection = await aio_pika.connect(settings.amqp_url)
    moved = 0
    try:
        channel = await connection.channel(publisher_confirms=True)
        dlq = await channel.get_queue(topology.dead_letter_queue)
        target = await channel.get_exchange(topology.partition_exchange)
        while limit is None or moved < limit:
            message = await dlq.get(fail=False, no_ack=False)
            if message is None:
                break
            headers = deadletters.headers_to_keep(message.headers)
            await target.publish(
                aio_pika.Message(
                    body=message.body,
                    headers=headers,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    type=message.type,
                    app_id=message.app_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=message.routing_key or "",
            )
            await message.ack()
            moved += 1
    finally:
        await connection.close()
    return moved


async def peek_dead_letters(
    settings: Settings, service: str, limit: int
) -> list[deadletters.DeadLetter]:
    """The first ``limit`` dead letters of the service, left where they are."""
    topology = Topology(settings.namespace, service, settings.consumer_partitions)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        return await deadletters.peek(connection, topology.dead_letter_queue, limit)
    except aio_pika.exceptions.ChannelClosed:
        return []  # no dead-letter queue yet: the service never ran here
    finally:
        await connection.close()


async def queue_depths(settings: Settings, service: str) -> dict[str, int]:
    """Messages waiting in each partition queue (those past the count still being drained
    included) and in the DLQ (passive declares: no creation)."""
    topology = Topology(settings.namespace, service, settings.consumer_partitions)
    names = [topology.partition_queue(i) for i in range(topology.partitions)]
    connection = await aio_pika.connect(settings.amqp_url)
    depths: dict[str, int] = {}
    try:
        names += await surplus_queues(connection, settings.namespace, service, topology.partitions)
        names.append(topology.dead_letter_queue)
        for name in names:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                continue  # not declared yet: nothing waits in it
            depths[name] = int(queue.declaration_result.message_count or 0)
            await channel.close()
    finally:
        await connection.close()
    return depths


async def dlq_depth(settings: Settings, service: str) -> int:
    topology = Topology(settings.namespace, service, settings.consumer_partitions)
    return (await queue_depths(settings, service)).get(topology.dead_letter_queue, 0)
