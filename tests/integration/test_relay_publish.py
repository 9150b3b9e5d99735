"""The relay's two ways to publish a batch on a real broker (``GRADELINE_RELAY_PUBLISH``, ADR
0012): what arrives, in what order, and the channel's confirm bookkeeping shared with aiormq's own
``basic_publish``. ``publish_batch`` writes hand-marshalled frames into the channel; the plain
way, ``publish_each``, is aiormq's ``basic_publish`` per event and must marshal nothing itself."""

from __future__ import annotations

import asyncio
from typing import cast

import aio_pika
import aiormq
import pytest
from pamqp.commands import Basic

from shared import amqp_frames
from shared.relay import PUBLISHERS, Publish, declare_events_exchange, routing_key
from tests.unit.test_amqp_frames import envelope

BIG = 300_000  # bytes of event data: over twice RabbitMQ's default frame size of 128 KiB


@pytest.fixture(params=["frames", "plain"])
def relay_publish(request, monkeypatch) -> str:
    """Each way of publishing in turn (the ``relay_publish`` setting); the plain one must not
    use the hand-marshalled frames."""
    if request.param == "plain":

        def refuse(*args: object) -> bytes:
            raise AssertionError("the plain publish marshalled an AMQP frame of its own")

        monkeypatch.setattr(amqp_frames, "event_publish", refuse)
    return str(request.param)


@pytest.fixture
def publish(relay_publish: str) -> Publish:
    return PUBLISHERS[relay_publish]


async def capture(settings, amqp):
    """A quorum queue bound to every event on the namespace's exchange; the concrete channel."""
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await declare_events_exchange(channel, settings)
    queue = await channel.declare_queue(
        f"{settings.namespace}.capture", durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(exchange, "#")
    underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
    return channel, exchange.name, queue, underlay


async def received(queue, count: int) -> list[aio_pika.abc.AbstractIncomingMessage]:
    messages = []
    async with asyncio.timeout(30), queue.iterator() as it:
        async for message in it:
            await message.ack()
            messages.append(message)
            if len(messages) == count:
                return messages
    raise AssertionError("unreachable")


async def test_a_batch_arrives_whole_in_order_with_each_events_properties(settings, amqp, publish):
    _, exchange, queue, channel = await capture(settings, amqp)
    batch = [
        envelope(stream_id=f"trainee-{n % 7}", version=n // 7 + 1, position=n + 1)
        for n in range(300)
    ]
    batch[150] = batch[150]._replace(data={"text": "長" * (BIG // 3)})  # split across frames
    confirms = await (await publish(channel, exchange, batch))
    assert len(confirms) == 300 and all(isinstance(c, Basic.Ack) for c in confirms)

    messages = await received(queue, 300)
    assert [m.message_id for m in messages] == [str(e.event_id) for e in batch]
    for message, e in zip(messages, batch, strict=True):
        assert message.body == e.to_json()
        assert message.routing_key == routing_key(e) == "enrollment.TraineeEnrolled"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert (message.type, message.app_id, message.correlation_id) == (
            e.type,
            e.service,
            str(e.correlation_id),
        )
        assert {k: message.headers[k] for k in ("stream_id", "version", "position")} == {
            "stream_id": e.stream_id,
            "version": e.version,
            "position": e.position,
        }
    assert len(messages[150].body) > BIG


async def test_batches_and_single_publishes_on_one_channel_share_its_delivery_tags(
    settings, amqp, publish
):
    """The batch takes the channel's tags as ``basic_publish`` does: mixing the two, every
    publish still gets its own confirm."""
    _, exchange, queue, channel = await capture(settings, amqp)
    first = [envelope(position=n) for n in range(1, 11)]
    last = [envelope(position=n) for n in range(12, 22)]
    a = await publish(channel, exchange, first)
    single = await channel.basic_publish(b"{}", exchange=exchange, routing_key="x.Single")
    b = await publish(channel, exchange, last)
    assert isinstance(single, Basic.Ack)
    assert all(isinstance(c, Basic.Ack) for c in [*await a, *await b])
    assert channel.delivery_tag == 21 and not channel.confirmations
    assert len(await received(queue, 21)) == 21


async def test_a_closed_channel_refuses_the_batch_and_takes_no_delivery_tag(
    settings, amqp, publish
):
    _, exchange, _, channel = await capture(settings, amqp)
    await channel.close()
    with pytest.raises(aiormq.exceptions.ChannelInvalidStateError):
        await publish(channel, exchange, [envelope()])
    assert channel.delivery_tag == 0 and not channel.confirmations
