"""An event's publish as AMQP 0-9-1 frames, written with precompiled ``struct`` formats.

The relay publishes every event once. Through aiormq's ``basic_publish`` most of that CPU went to
pamqp building frame objects and marshalling them field by field, and to a task, a lock, a timeout
and three futures per publish. Here the three frames of an event's publish (``Basic.Publish``, the
content header, the body, split at the connection's frame size) are written directly, and
:func:`shared.relay.publish_batch` hands a whole batch to the connection's writer at once: a
fraction of the CPU per event (figures, guards and the way back, ``GRADELINE_RELAY_PUBLISH=plain``:
ADR 0011).

The layout is the AMQP 0-9-1 specification's: general frame format (§2.3.5, §4.2.3), content
framing (§4.2.6), the ``Basic`` class's property list and flags, field tables with RabbitMQ's
type tags. ``tests/unit/test_amqp_frames.py`` checks that pamqp (aiormq's own codec) decodes
every frame back to the publish, properties and body that :func:`shared.relay.to_properties`
and ``Envelope.to_json`` define.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from shared.events import Envelope

FRAME_METHOD, FRAME_HEADER, FRAME_BODY = 1, 2, 3
FRAME_END = b"\xce"
FRAME_HEAD = struct.Struct(">BHI")  # type, channel, payload size
BASIC_CLASS = 60
PUBLISH_HEAD = struct.Struct(">HHH").pack(BASIC_CLASS, 40, 0)  # Basic.Publish, ticket 0
MANDATORY, NOT_MANDATORY = b"\x01", b"\x00"  # the bits: mandatory (bit 0), immediate (bit 1) off
HEADER_HEAD = struct.Struct(">HHQH")  # class, weight 0, body size, property flags
LONG_STRING_SIZE = struct.Struct(">I")
LONG_LONG = struct.Struct(">q")
TIMESTAMP = struct.Struct(">Q")

# Basic property flags (bit 15 is the first property).
CONTENT_TYPE, HEADERS, DELIVERY_MODE = 0x8000, 0x2000, 0x1000
CORRELATION_ID, MESSAGE_ID, TIMESTAMP_FLAG, TYPE, APP_ID = 0x0400, 0x0080, 0x0040, 0x0020, 0x0008
FIXED_FLAGS = CONTENT_TYPE | HEADERS | DELIVERY_MODE | MESSAGE_ID | TIMESTAMP_FLAG | TYPE | APP_ID
PERSISTENT = b"\x02"


def short_string(value: str) -> bytes:
    """A short string: one length byte, then at most 255 bytes of UTF-8."""
    data = value.encode()
    if len(data) > 255:
        raise ValueError(f"an AMQP short string holds 255 bytes at most, not {len(data)}")
    return bytes((len(data),)) + data


JSON_CONTENT_TYPE = short_string("application/json")


def headers_table(envelope: Envelope) -> bytes:
    """The event's headers as a field table: ``stream_id`` (the consistent-hash exchange
    partitions on it), ``version`` and ``position``, keys in sorted order as pamqp writes them."""
    stream_id = envelope.stream_id.encode()
    table = b"".join(
        (
            b"\x08positionl",
            LONG_LONG.pack(envelope.position),
            b"\x09stream_idS",
            LONG_STRING_SIZE.pack(len(stream_id)),
            stream_id,
            b"\x07versionl",
            LONG_LONG.pack(envelope.version),
        )
    )
    return LONG_STRING_SIZE.pack(len(table)) + table


def timestamp(moment: datetime) -> bytes:
    """Whole seconds since the epoch; a naive moment is UTC (as pamqp reads it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return TIMESTAMP.pack(int(moment.timestamp()))


def frame(kind: int, channel: int, payload: bytes) -> bytes:
    return FRAME_HEAD.pack(kind, channel, len(payload)) + payload + FRAME_END


def event_publish(
    channel: int,
    exchange: str,
    routing_key: str,
    envelope: Envelope,
    body: bytes,
    max_content: int,
    mandatory: bool = True,
) -> bytes:
    """The frames that publish ``body`` (the event's wire form) persistent on ``exchange``,
    with the properties of :func:`shared.relay.to_properties`; the body is split into frames of
    at most ``max_content`` bytes (the connection's frame size less the frame's own 8).

    ``mandatory``: a message that reaches no queue comes back (``basic.return``, before its
    confirm) instead of being confirmed as if it had been delivered."""
    bits = MANDATORY if mandatory else NOT_MANDATORY
    method = b"".join((PUBLISH_HEAD, short_string(exchange), short_string(routing_key), bits))
    flags = FIXED_FLAGS
    correlation = b""
    if envelope.correlation_id is not None:
        flags |= CORRELATION_ID
        correlation = short_string(str(envelope.correlation_id))
    header = b"".join(
        (
            HEADER_HEAD.pack(BASIC_CLASS, 0, len(body), flags),
            JSON_CONTENT_TYPE,
            headers_table(envelope),
            PERSISTENT,
            correlation,
            short_string(str(envelope.event_id)),
            timestamp(envelope.recorded_at),
            short_string(envelope.type),
            short_string(envelope.service),
        )
    )
    frames = [frame(FRAME_METHOD, channel, method), frame(FRAME_HEADER, channel, header)]
    frames += [
        frame(FRAME_BODY, channel, body[start : start + max_content])
        for start in range(0, len(body), max_content)
    ]
    return b"".join(frames)
