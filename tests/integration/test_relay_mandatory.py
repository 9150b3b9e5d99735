"""The relay on the real broker: an event that reaches no queue, or that the broker refuses, is
never checkpointed as published; the relay retries until it goes through (issue 14, items 0, 9).

An unroutable event is made by a producer ("core") that no service of the deployment consumes,
publishing every event mandatory, with a queue bound to some of its event types only. A real nack
comes from a queue at its length limit with ``x-overflow: reject-publish``.
"""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from shared import workers
from shared.api import create_service_app
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from shared.relay import Relay, checkpoint_name, declare_events_exchange
from tests.integration import test_relay_publish
from tests.support import long_secret, running

pytestmark = pytest.mark.timeout(60)
relay_publish = test_relay_publish.relay_publish  # each test in both modes (ADR 0011)


def everything(routing_key: str) -> bool:
    return True


async def append(store, kinds: list[str]) -> None:
    for n, kind in enumerate(kinds):
        await store.append(f"thing-{n % 3}", [NewEvent(type=kind, data={"n": n})], ANY_VERSION)


async def checkpoint(pool, service: str = "core") -> int:
    position = await pool.fetchval(
        "SELECT position FROM checkpoints WHERE name = $1", checkpoint_name(service)
    )
    return int(position or 0)


def sample(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def capture(settings, amqp, key: str, **arguments):
    """A queue bound to ``key`` on the namespace's events exchange."""
    channel = await amqp.channel()
    exchange = await declare_events_exchange(channel, settings)
    queue = await channel.declare_queue(
        f"{settings.namespace}.capture", durable=True, arguments=arguments or None
    )
    await queue.bind(exchange, key)
    return queue, exchange


async def depth(amqp, name: str) -> int:
    """Messages waiting in queue ``name`` (a passive declare)."""
    channel = await amqp.channel()
    try:
        declared = await channel.declare_queue(name, passive=True)
        return declared.declaration_result.message_count or 0
    finally:
        await channel.close()


async def until(check, seconds: float = 20):
    async with asyncio.timeout(seconds):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


async def test_an_unroutable_event_is_never_checkpointed_is_reported_and_goes_once_bound(
    settings, amqp, relay_publish
):
    """Batches of at most 3 in flight; events 7 to 10 reach no queue: the broker returns them,
    the checkpoint stays before them, ``/ready`` and the metrics say the relay is blocked at
    position 7; once a queue binds those events, the relay completes."""
    settings = long_secret(settings).model_copy(
        update={"relay_batch_size": 3, "relay_publish": relay_publish}
    )
    app = create_service_app(
        settings,
        service="core",
        title="core",
        routers=[],
        background=[workers.relay(mandatory=everything)],
    )
    queue, exchange = await capture(settings, amqp, "core.Wanted")
    async with running(app, settings, "core") as svc:
        await append(svc.app.state.store, ["Wanted"] * 6 + ["Unwanted"] * 4)

        async def blocked() -> str | None:
            # The returned events are counted as they come back; the blocked position is set
            # once the batch is settled, a moment later: wait for both.
            text = (await svc.client.get("/metrics")).text
            returned = sample(text, 'gradeline_relay_unroutable_events_total{service="core"}')
            at = sample(text, 'gradeline_relay_blocked_position{service="core"}')
            return text if returned and at else None

        text = await until(blocked)
        assert sample(text, 'gradeline_relay_blocked_position{service="core"}') == 7.0
        ready = await svc.client.get("/ready")
        assert ready.status_code == 503
        reason = ready.json()["checks"]["relay"]
        assert reason.startswith("blocked") and "position 7" in reason, reason
        assert "core.Unwanted" in reason and "core.Unwanted" in ready.json()["detail"]
        await asyncio.sleep(0.5)  # the relay retries meanwhile: nothing passes position 6
        # Batches are cut from what was appended by then: the checkpoint stops before the batch
        # holding position 7, wherever that batch begins.
        assert await checkpoint(svc.pool) < 7

        await queue.bind(exchange, "core.#")  # what a consuming service's start-up declares

        async def done() -> bool:
            return await checkpoint(svc.pool) == 10

        await until(done)
        assert (await svc.client.get("/ready")).status_code == 200
        text = (await svc.client.get("/metrics")).text
        assert sample(text, 'gradeline_relay_blocked_position{service="core"}') == 0.0
    positions = []
    while message := await queue.get(no_ack=True, fail=False):
        positions.append(message.headers["position"])
    assert sorted(set(positions)) == list(range(1, 11))


async def test_a_nack_keeps_the_checkpoint_before_the_nacked_batch(
    settings, service_db, pg_pool, pg_store, amqp, relay_publish
):
    """Five batches of 10 in flight into a queue that takes 25 messages and refuses the rest
    (reject-publish: real nacks). The checkpoint stops at 20, the last batch whose every event
    was taken, while later batches are refused too; as the queue is drained the relay publishes
    the rest again and completes."""
    settings = settings.model_copy(update={"relay_batch_size": 10, "relay_publish": relay_publish})
    queue, _ = await capture(
        settings, amqp, "core.#", **{"x-max-length": 25, "x-overflow": "reject-publish"}
    )
    await append(pg_store, ["Thing"] * 50)
    relay = Relay(settings, "core", service_db)
    task = asyncio.create_task(relay.run())
    try:

        async def full() -> bool:
            return await depth(amqp, queue.name) == 25

        await until(full)
        await asyncio.sleep(1.0)  # several refused rounds
        assert await checkpoint(pg_pool) == 20

        seen: set[int] = set()

        async def drained() -> bool:
            while message := await queue.get(no_ack=True, fail=False):
                seen.add(message.headers["position"])
            return await checkpoint(pg_pool) == 50 and len(seen) == 50

        await until(drained, 30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert seen == set(range(1, 51))


async def test_the_deployments_relay_declares_its_consumers_queues_before_publishing(
    settings, amqp, relay_publish
):
    """Enrollment's relay alone, no consuming service started: its events wait in the
    partition queues of training, assessment and compensation (what they bind, ADR 0002)."""
    settings = long_secret(settings).model_copy(update={"relay_publish": relay_publish})
    app = create_service_app(
        settings, service="enrollment", title="enrollment", routers=[], background=[workers.relay()]
    )
    async with running(app, settings, "enrollment") as svc:
        await append(svc.app.state.store, ["TraineeEnrolled"] * 5)

        async def relayed() -> bool:
            return await checkpoint(svc.pool, "enrollment") == 5

        await until(relayed)
    for service in ("training", "assessment", "compensation"):
        queues = [
            f"{settings.namespace}.{service}.p{i}" for i in range(settings.consumer_partitions)
        ]
        assert sum([await depth(amqp, name) for name in queues]) == 5, service
    with pytest.raises(aio_pika.exceptions.ChannelClosed):
        await (await amqp.channel()).declare_queue(
            f"{settings.namespace}.enrollment.p0", passive=True
        )
