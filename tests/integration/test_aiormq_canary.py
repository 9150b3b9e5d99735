"""A canary for the aiormq internals the relay and the consumer lean on (ADR 0011).

``shared.relay.publish_batch`` writes into an aiormq ``Channel``'s state as ``basic_publish`` does
(its lock, the writer's queue, delivery tags, confirmations, returnable message ids), and
``shared.consumer`` takes raw ``DeliveredMessage`` objects. None of that is aiormq's documented
API: an upgrade may change it. These tests fail first, naming what moved and what to do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import inspect
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import aio_pika
import aiormq
import pytest
from aiormq.abc import ChannelFrame, DeliveredMessage
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _async_context(value: Any) -> bool:
    return hasattr(value, "__aenter__") and hasattr(value, "__aexit__")


# What publish_batch uses on the concrete channel: name -> (what it must be, check).
RELAY_USES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "lock": ("an async context manager", _async_context),
    "is_closed": ("a bool", lambda v: isinstance(v, bool)),
    "number": ("an int", lambda v: isinstance(v, int)),
    "max_content_size": ("an int", lambda v: isinstance(v, int)),
    "write_queue": ("an asyncio.Queue", lambda v: isinstance(v, asyncio.Queue)),
    "delivery_tag": ("an int", lambda v: isinstance(v, int)),
    "confirmations": ("a dict", lambda v: isinstance(v, dict)),
    "message_id_delivery_tag": ("a dict", lambda v: isinstance(v, dict)),
    "create_future": ("a method", inspect.ismethod),
}
# What the consumer uses: on its channels, and on each delivery.
CONSUMER_CHANNEL_USES = {"basic_consume", "basic_ack", "on_consumer_cancel_callbacks"}
DELIVERY_FIELDS = {"delivery", "header", "body", "channel"}


def relay_message(what: str) -> str:
    return (
        f"aiormq's {what} that shared/relay.py publish_batch writes; "
        "set GRADELINE_RELAY_PUBLISH=plain and see ADR 0011"
    )


@pytest.fixture
async def channel(amqp_url: str) -> AsyncIterator[aiormq.Channel]:
    connection = await aio_pika.connect(amqp_url)
    try:
        opened = await connection.channel(publisher_confirms=True, on_return_raises=True)
        yield cast(aiormq.Channel, await opened.get_underlay_channel())
    finally:
        await connection.close()


def test_aiormq_is_within_the_pinned_range_whose_internals_were_checked():
    """The pin has an upper bound: a new major version is taken only after this canary and the
    relay tests have run against it."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    [pin] = [Requirement(d) for d in dependencies if Requirement(d).name == "aiormq"]
    assert any(s.operator == "<" for s in pin.specifier), (
        f"the aiormq pin {pin} has no upper bound; keep one (ADR 0011)"
    )
    installed = importlib.metadata.version("aiormq")
    assert pin.specifier.contains(installed), (
        f"aiormq {installed} is outside {pin.specifier}, the range shared/relay.py publish_batch "
        "was written for; set GRADELINE_RELAY_PUBLISH=plain and see ADR 0011"
    )


@pytest.mark.parametrize("name", RELAY_USES)
async def test_the_channel_has_what_the_relay_writes(channel: aiormq.Channel, name: str):
    kind, check = RELAY_USES[name]
    assert hasattr(channel, name), relay_message(f"Channel no longer has {name}")
    assert check(getattr(channel, name)), relay_message(f"Channel.{name} is no longer {kind},")


async def test_the_channel_makes_futures_and_frames_as_the_relay_queues_them(
    channel: aiormq.Channel,
):
    future = channel.create_future()
    assert isinstance(future, asyncio.Future), relay_message("Channel.create_future changed,")
    future.cancel()
    fields = {f.name for f in dataclasses.fields(ChannelFrame)}
    assert {"payload", "should_close"} <= fields, relay_message(
        f"ChannelFrame has fields {sorted(fields)}, no longer payload and should_close,"
    )
    async with channel.lock:  # taken and released as publish_batch takes it
        pass


async def test_the_channel_and_deliveries_have_what_the_consumer_reads(channel: aiormq.Channel):
    for name in CONSUMER_CHANNEL_USES:
        assert hasattr(channel, name), (
            f"aiormq's Channel no longer has {name} that shared/consumer.py uses; see ADR 0011"
        )
    assert isinstance(channel.on_consumer_cancel_callbacks, set)
    fields = {f.name for f in dataclasses.fields(DeliveredMessage)}
    assert fields >= DELIVERY_FIELDS, (
        f"aiormq's DeliveredMessage has fields {sorted(fields)}, no longer all of "
        f"{sorted(DELIVERY_FIELDS)} that shared/consumer.py reads; see ADR 0011"
    )
