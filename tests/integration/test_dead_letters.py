"""Dead letters carry why they failed, ``gradeline dlq peek`` shows them without taking them,
and a re-drive sends them back as first published (issue 14, item 13). Real broker."""

from __future__ import annotations

import asyncio

import aio_pika
from typer.testing import CliRunner

from ops.cli import app
from shared import deadletters
from shared.consumer import Consumer, Topology, dlq_depth, redrive
from shared.events import Envelope
from shared.relay import to_message
from tests.support import delivered

SERVICE = "assessment"  # a consuming service the CLI knows, in the test's own namespace
runner = CliRunner()


def event(stream: str, data: dict) -> Envelope:
    return delivered("core", "Thing", stream, data)


async def fragile(conn, envelope: Envelope) -> None:
    if envelope.data.get("poison"):
        raise ValueError("cannot handle this one")


async def publish(settings, *messages: aio_pika.Message) -> None:
    topology = Topology(settings.namespace, SERVICE, settings.consumer_partitions)
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.partition_exchange)
        for message in messages:
            await exchange.publish(message, routing_key="core.Thing")


async def cli(settings, *args: str):
    """The command in a thread: it runs its own event loop, as it does from a shell."""
    env = {
        "GRADELINE_AMQP_URL": settings.amqp_url,
        "GRADELINE_NAMESPACE": settings.namespace,
        "COLUMNS": "200",
    }
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def test_dead_letters_say_why_peek_leaves_them_and_redrive_strips_the_reason(
    settings, pg_pool
):
    consumer = Consumer(settings, SERVICE, pg_pool, fragile, ["core.#"], retry_delay=0.01)
    running = asyncio.create_task(consumer.run())
    await asyncio.wait_for(consumer.ready.wait(), 30)
    bad = event("s-bad", {"poison": True})
    garbage = aio_pika.Message(
        b"{not json", headers={"stream_id": "s-odd"}, type="Thing", message_id="not-an-event"
    )
    await publish(settings, to_message(bad), garbage)
    async with asyncio.timeout(30):
        while await dlq_depth(settings, SERVICE) < 2:
            await asyncio.sleep(0.1)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    peeked = await cli(settings, "dlq", "peek", SERVICE, "--limit", "5")

    assert peeked.exit_code == 0, peeked.output
    assert str(bad.event_id) in peeked.output
    assert "handler-failed" in peeked.output and "cannot handle this one" in peeked.output
    assert "undecodable" in peeked.output and "not-an-event" in peeked.output
    assert "s-bad" in peeked.output and str(settings.consumer_max_attempts) in peeked.output
    assert await dlq_depth(settings, SERVICE) == 2  # still there
    again = await cli(settings, "dlq", "peek", SERVICE, "--limit", "1")
    shown = again.output.count("handler-failed") + again.output.count("undecodable")
    assert shown == 1, again.output

    assert await redrive(settings, SERVICE) == 2
    redriven = await delivered_from_partitions(settings, 2)
    assert {m.message_id for m in redriven} == {str(bad.event_id), "not-an-event"}
    for message in redriven:
        assert not set(message.headers) & set(deadletters.OUR_HEADERS), message.headers
        assert not [h for h in message.headers if h.startswith("x-")], message.headers
    assert {m.headers["stream_id"] for m in redriven} == {"s-bad", "s-odd"}


async def delivered_from_partitions(settings, count: int) -> list:
    """The first ``count`` messages delivered from the partitions (basic.get is refused on
    queues with a single active consumer: a consumer of each, then)."""
    topology = Topology(settings.namespace, SERVICE, settings.consumer_partitions)
    got: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def take(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        got.append(message)

    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for index in range(topology.partitions):
            queue = await channel.get_queue(topology.partition_queue(index))
            await queue.consume(take, no_ack=True)
        async with asyncio.timeout(10):
            while len(got) < count:
                await asyncio.sleep(0.05)
    return got


async def test_peek_of_a_service_that_never_ran_here_shows_none(settings):
    result = await cli(settings, "dlq", "peek", "compensation")
    assert result.exit_code == 0, result.output
    assert "no dead letters" in result.output
