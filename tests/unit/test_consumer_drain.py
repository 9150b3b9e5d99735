"""A surplus partition is forgotten once its queue is drained and deleted (shared/consumer.py).
Deleting the queue makes the broker cancel its consumer, and that cancel may arrive while the
consumer is still awaiting the deletion: whichever comes first forgets the partition, and the
other must not fail (it did: a KeyError that restarted the consumer mid-drain)."""

from __future__ import annotations

from types import SimpleNamespace

from shared import consumer as consumer_module
from shared.consumer import Consumer, _Partition
from shared.settings import Settings


class Channel:
    closed = False

    async def close(self) -> None:
        self.closed = True


async def no_handler(conn, envelope) -> None:  # never called here
    raise AssertionError


async def test_a_cancel_arriving_while_the_drained_queue_is_deleted_is_no_error(monkeypatch):
    consumer = Consumer(Settings(), "sink", None, no_handler, ["core.#"])  # type: ignore[arg-type]
    consumer._connection = object()  # type: ignore[assignment]
    underlay, channel = object(), Channel()
    partition = _Partition("ns.sink.p7", channel, surplus=True, last_delivered=7)  # type: ignore[arg-type]
    consumer._partitions[id(underlay)] = partition
    marker = SimpleNamespace(channel=underlay, delivery=SimpleNamespace(delivery_tag=7))

    async def deleted_and_cancelled_meanwhile(connection, queue: str) -> bool:
        assert queue == "ns.sink.p7"
        consumer._partitions.pop(id(underlay), None)  # the broker's cancel, mid-await
        return True

    monkeypatch.setattr(
        consumer_module.partitions, "delete_if_empty", deleted_and_cancelled_meanwhile
    )
    await consumer._drained(marker)  # type: ignore[arg-type]
    assert consumer._partitions == {}
    assert channel.closed
