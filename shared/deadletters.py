"""Dead letters that say why they failed, and a look at them that leaves them in place.

The consumer does not reject a message it gives up on (RabbitMQ would dead-letter it with no word
of the error): it publishes a copy to the service's dead-letter exchange with headers naming the
reason, the error, the attempts, when and which consumer, waits for the broker's confirm, then
acks the original. A crash in between leaves the event both in its partition and in the DLQ; the
inbox drops the second copy when it is re-driven. A message that kept killing its consumer is still
dead-lettered by the broker (``x-delivery-limit``), with RabbitMQ's own ``x-first-death-reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel
from aiormq.abc import DeliveredMessage

from shared.relay import persistent_message

REASON = "gradeline-dead-letter-reason"
ERROR = "gradeline-dead-letter-error"
ATTEMPTS = "gradeline-dead-letter-attempts"
FAILED_AT = "gradeline-dead-letter-failed-at"
CONSUMER = "gradeline-dead-letter-consumer"
OUR_HEADERS = (REASON, ERROR, ATTEMPTS, FAILED_AT, CONSUMER)
ERROR_TEXT_LIMIT = 1000  # a header, not a log: enough to recognise the error

UNDECODABLE = "undecodable"
HANDLER_FAILED = "handler-failed"


def headers_to_keep(headers: dict[str, Any] | None) -> dict[str, Any]:
    """A dead letter's headers without the broker's (``x-*``) and ours: what a re-driven
    message carries, as it was first published."""
    return {
        k: v for k, v in (headers or {}).items() if not k.startswith("x-") and k not in OUR_HEADERS
    }


async def publish_dead_letter(
    channel: AbstractChannel,
    exchange: str,
    message: DeliveredMessage,
    *,
    reason: str,
    error: str,
    attempts: int,
    consumer: str,
) -> None:
    """Publish ``message`` to ``exchange`` with the reason it failed, and wait for the confirm
    (``channel`` has publisher confirms on). The caller acks the original afterwards."""
    p = message.header.properties
    headers = {
        **(p.headers or {}),
        REASON: reason,
        ERROR: error[:ERROR_TEXT_LIMIT],
        ATTEMPTS: attempts,
        FAILED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
        CONSUMER: consumer,
    }
    copy = persistent_message(message.body, p, headers)
    target = await channel.get_exchange(exchange, ensure=False)
    await target.publish(copy, routing_key=message.routing_key or "")


@dataclass(frozen=True)
class DeadLetter:
    """What ``gradeline dlq peek`` shows of one dead letter."""

    type: str | None
    stream_id: str | None
    version: int | None
    event_id: str | None
    reason: str
    error: str | None
    attempts: int | None
    failed_at: str | None

    @classmethod
    def of(cls, message: aio_pika.abc.AbstractIncomingMessage) -> DeadLetter:
        headers = message.headers or {}
        reason = headers.get(REASON) or headers.get("x-first-death-reason") or "unknown"
        failed_at = headers.get(FAILED_AT) or _broker_death_time(headers)
        return cls(
            type=message.type,
            stream_id=_text(headers.get("stream_id")),
            version=_int(headers.get("version")),
            event_id=message.message_id,
            reason=str(_text(reason)),
            error=_text(headers.get(ERROR)),
            attempts=_int(headers.get(ATTEMPTS)),
            failed_at=_text(failed_at),
        )


async def peek(
    connection: aio_pika.abc.AbstractConnection, queue: str, limit: int
) -> list[DeadLetter]:
    """Up to ``limit`` dead letters from the head of ``queue``, left in place: taken without
    acknowledging, and put back when the channel closes. A quorum queue puts them back behind
    those not taken: a peek at part of the queue changes its order, which a re-drive does not
    mind (consumers apply each stream in version order whatever the delivery order)."""
    channel = await connection.channel()
    try:
        dlq = await channel.get_queue(queue, ensure=True)
        seen: list[DeadLetter] = []
        while len(seen) < limit:
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                break
            seen.append(DeadLetter.of(message))
        return seen
    finally:
        await channel.close()  # the unacknowledged messages go back to the queue


def _broker_death_time(headers: dict[str, Any]) -> str | None:
    """When RabbitMQ dead-lettered it (``x-death``: most recent first)."""
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        time = deaths[0].get("time")
        return time.isoformat(timespec="seconds") if isinstance(time, datetime) else _text(time)
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
