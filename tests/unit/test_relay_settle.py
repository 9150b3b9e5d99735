"""The relay's in-flight batches: the checkpoint moves over fully confirmed batches, in order."""

from __future__ import annotations

import asyncio
from collections import deque

import aio_pika
import pytest
from aiormq.abc import ConfirmationFrameType
from pamqp.commands import Basic

from shared.relay import _InFlight, _settle

Confirms = asyncio.Future[list[ConfirmationFrameType]]


def batch(last: int, count: int) -> tuple[_InFlight, Confirms]:
    confirms: Confirms = asyncio.get_running_loop().create_future()
    return _InFlight(last, count, confirms), confirms


def acks(count: int) -> list[ConfirmationFrameType]:
    return [Basic.Ack(delivery_tag=n + 1) for n in range(count)]


async def test_only_the_confirmed_head_settles_even_when_a_later_batch_confirmed_first():
    (a, ca), (b, cb), (c, cc) = batch(10, 10), batch(15, 5), batch(40, 25)
    in_flight = deque([a, b, c])
    cb.set_result(acks(5))  # the second batch's confirms came before the first's
    assert await _settle(in_flight) is None
    ca.set_result(acks(10))
    assert await _settle(in_flight) == (15, 15)  # both, in one checkpoint move
    assert list(in_flight) == [c]
    cc.set_result(acks(25))
    assert await _settle(in_flight) == (40, 25)
    assert not in_flight


async def test_a_failed_confirm_raises_before_the_checkpoint_passes_its_batch():
    (a, ca), (b, cb) = batch(10, 10), batch(20, 10)
    in_flight = deque([a, b])
    ca.set_exception(ConnectionError("channel closed"))
    cb.set_result(acks(10))
    with pytest.raises(ConnectionError):
        await _settle(in_flight)
    assert list(in_flight) == [b]  # never settled: the relay restarts from the old checkpoint


async def test_a_nack_fails_its_batch_before_the_checkpoint_passes_it():
    (a, ca), (b, cb) = batch(10, 3), batch(20, 10)
    in_flight = deque([a, b])
    ca.set_result([*acks(2), Basic.Nack(delivery_tag=3)])  # the broker could not take one
    cb.set_result(acks(10))
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await _settle(in_flight)
    assert list(in_flight) == [b]


async def test_the_checkpoint_moves_over_confirmed_batches_before_a_nacked_one_then_fails():
    """Batches 1 and 2 confirmed, 3 nacked, 4 confirmed, all settled at once: the checkpoint
    takes 1-2 (their events are not published again), then batch 3 fails (issue 14, item 9)."""
    (a, ca), (b, cb), (c, cc), (d, cd) = batch(10, 10), batch(20, 10), batch(30, 10), batch(40, 10)
    in_flight = deque([a, b, c, d])
    ca.set_result(acks(10))
    cb.set_result(acks(10))
    cc.set_result([*acks(5), Basic.Nack(delivery_tag=6), *acks(4)])
    cd.set_result(acks(10))
    assert await _settle(in_flight) == (20, 20)
    assert list(in_flight) == [c, d]
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await _settle(in_flight)
    assert list(in_flight) == [d]  # never settled: the relay restarts from position 20
