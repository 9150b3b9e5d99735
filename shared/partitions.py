"""Partition queues left over when ``GRADELINE_CONSUMER_PARTITIONS`` was lowered (ADR 0008).

Going from 8 partitions to 4 leaves ``p4``..``p7`` bound to the consistent-hash exchange, so a
share of every stream would still be routed there, and nobody would consume them. A consumer
therefore looks for partition queues past its count (at start and at every sweep, because a
producer or a replica still on the old count may declare them again), and for each one found:

1. unbinds it from the partition exchange: no new event is routed to it;
2. consumes it like its other partitions (what it holds is applied in version order with the
   rest: an event of a stream that moved waits, parked, for its predecessor from the old queue);
3. publishes a *drain marker* to it through the default exchange, behind what it holds. The
   replica that receives the marker is the queue's active consumer (single active consumer), and
   has settled everything before it; when nothing came after the marker, it deletes the queue.

Quorum queues refuse ``queue.delete`` with ``if-empty`` (RabbitMQ answers NOT_IMPLEMENTED and
closes the connection), hence the marker. What is left is the instant between the marker's check
and the delete, in which a producer re-binding the queue (an old replica restarting) could route
an event to it; that event is then a missing version whose successors stay parked, reported by
``gradeline_consumer_parked_stale_events`` and mended by a back-fill.
"""

from __future__ import annotations

import contextlib

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection
from aiormq.abc import DeliveredMessage

from shared.topology import PARTITION_WEIGHT

log = structlog.get_logger("gradeline.partitions")

DRAIN_MARKER = "gradeline.drain-marker"


def is_drain_marker(message: DeliveredMessage) -> bool:
    return message.header.properties.message_type == DRAIN_MARKER


async def surplus_queues(
    connection: AbstractConnection, namespace: str, service: str, partitions: int
) -> list[str]:
    """Partition queues ``p<partitions>``, ``p<partitions + 1>``, ... that exist, up to the
    first missing one (a passive declare each; a missing queue closes its channel)."""
    found: list[str] = []
    while True:
        name = f"{namespace}.{service}.p{partitions + len(found)}"
        channel = await connection.channel()
        try:
            await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return found
        await channel.close()
        found.append(name)


async def retire(channel: AbstractChannel, queue: str, partition_exchange: str) -> None:
    """Take ``queue`` off the hash ring (idempotent), then mark its present end."""
    underlay = await channel.get_underlay_channel()
    await underlay.queue_unbind(queue, partition_exchange, routing_key=PARTITION_WEIGHT)
    await channel.default_exchange.publish(
        aio_pika.Message(b"", type=DRAIN_MARKER), routing_key=queue
    )


async def delete_if_empty(connection: AbstractConnection, queue: str) -> bool:
    """Delete ``queue`` if nothing waits in it (the caller has settled all it received)."""
    channel = await connection.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        if declared.declaration_result.message_count:
            return False
        await channel.queue_delete(queue)
    except aio_pika.exceptions.ChannelClosed:
        return False  # deleted meanwhile (by another replica's marker)
    finally:
        with contextlib.suppress(Exception):
            await channel.close()
    log.info("partitions.surplus_deleted", queue=queue)
    return True
