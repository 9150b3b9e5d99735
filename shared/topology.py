"""The RabbitMQ topology of the deployment, defined once: who consumes what, and its declaration.

Topology of a consuming service ``svc`` in namespace ``ns``::

    ns.events (topic) --binding keys--> ns.svc.in (x-consistent-hash on header stream_id)
        --> ns.svc.p0 .. ns.svc.p<N-1>   quorum queues, single active consumer each
        --dead letters--> ns.svc.dlx (fanout) --> ns.svc.dlq

:data:`CONSUMERS` is the deployment's table of consuming services and the routing keys they bind
(routing keys are ``<producer>.<EventType>``). A service's consumer declares its own part when it
starts; a producer's relay declares the part of every service that consumes it before its first
publish (:func:`declare_producer_topology`), so an event published before its consumers ever ran
waits in their queues (ADR 0007). ``deploy/rabbitmq/definitions.json`` is the same topology.
Declarations are idempotent: whoever comes first creates, the others find it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from shared.settings import Settings

# The binding key of every partition queue: its weight on the hash ring (all equal).
PARTITION_WEIGHT = "1"

# Each consuming service of the deployment and the routing keys it binds; services' consumers.py
# take their BINDING_KEYS from here (a service never imports another).
CONSUMERS: Mapping[str, tuple[str, ...]] = {
    "training": ("enrollment.*", "assessment.*"),
    "assessment": ("enrollment.*", "training.*"),
    "compensation": ("enrollment.*", "assessment.*", "training.*"),
}
Table = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Topology:
    """Exchange and queue names of one consuming service."""

    namespace: str
    service: str
    partitions: int

    @property
    def partition_exchange(self) -> str:
        return f"{self.namespace}.{self.service}.in"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.{self.service}.dlx"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.namespace}.{self.service}.dlq"

    def partition_queue(self, index: int) -> str:
        return f"{self.namespace}.{self.service}.p{index}"


def topic_matches(binding_key: str, routing_key: str) -> bool:
    """Whether a topic exchange routes ``routing_key`` along a binding of ``binding_key``:
    dot-separated words, ``*`` one word, ``#`` zero or more."""
    return _match(binding_key.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match(rest, words[1:])


def consumers_of(producer: str, table: Table = CONSUMERS) -> dict[str, tuple[str, ...]]:
    """The services of ``table`` that bind some of ``producer``'s events, with their keys."""
    return {
        service: tuple(keys)
        for service, keys in table.items()
        if any(key.split(".")[0] in (producer, "*", "#") for key in keys)
    }


def is_consumed(routing_key: str, table: Table = CONSUMERS) -> bool:
    """Whether some service of ``table`` binds ``routing_key``: such an event must reach a queue."""
    return any(topic_matches(key, routing_key) for keys in table.values() for key in keys)


async def declare_events_exchange(channel: AbstractChannel, settings: Settings) -> AbstractExchange:
    return await channel.declare_exchange(
        settings.exchange_name(), aio_pika.ExchangeType.TOPIC, durable=True
    )


async def declare_topology(
    channel: AbstractChannel, settings: Settings, topology: Topology, binding_keys: Sequence[str]
) -> list[AbstractQueue]:
    """Declare (idempotently) the exchanges and queues of a consuming service."""
    events = await declare_events_exchange(channel, settings)
    try:
        partition = await channel.declare_exchange(
            topology.partition_exchange,
            "x-consistent-hash",
            durable=True,
            arguments={"hash-header": "stream_id"},
        )
    except aio_pika.exceptions.ChannelClosed as exc:
        raise RuntimeError(
            "RabbitMQ lacks the consistent-hash exchange: run "
            "`rabbitmq-plugins enable rabbitmq_consistent_hash_exchange`"
        ) from exc
    for key in binding_keys:
        await partition.bind(events, routing_key=key)
    dlx = await channel.declare_exchange(
        topology.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dlq = await channel.declare_queue(
        topology.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dlq.bind(dlx)
    queues = []
    for index in range(topology.partitions):
        queue = await channel.declare_queue(
            topology.partition_queue(index),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-single-active-consumer": True,
                "x-dead-letter-exchange": topology.dead_letter_exchange,
                # A message that kills its consumer over and over still ends in the DLQ.
                "x-delivery-limit": max(20, settings.consumer_max_attempts * 4),
            },
        )
        await queue.bind(partition, routing_key=PARTITION_WEIGHT)
        queues.append(queue)
    return queues


async def declare_producer_topology(
    channel: AbstractChannel, settings: Settings, producer: str, table: Table = CONSUMERS
) -> AbstractExchange:
    """Declare the events exchange and the whole topology of every service of ``table`` that
    consumes ``producer``'s events (the relay does, before its first publish); the exchange."""
    for service, keys in consumers_of(producer, table).items():
        topology = Topology(settings.namespace, service, settings.consumer_partitions)
        await declare_topology(channel, settings, topology, keys)
    return await declare_events_exchange(channel, settings)
