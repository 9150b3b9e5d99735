"""The relay's hand-written AMQP frames decode, with pamqp (aiormq's codec), to exactly the
publish that ``to_properties`` and ``Envelope.to_json`` define."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pamqp import frame as pamqp_frame
from pamqp.body import ContentBody
from pamqp.commands import Basic
from pamqp.header import ContentHeader

from shared import amqp_frames
from shared.events import Actor, Envelope
from shared.relay import routing_key, to_properties


def envelope(**changes: object) -> Envelope:
    moment = datetime(2026, 11, 27, 12, 30, 45, 123456, tzinfo=UTC)
    fields: dict[str, object] = dict(
        event_id=uuid.uuid4(),
        stream_id="trainee-t-0001",
        version=1,
        position=1,
        type="TraineeEnrolled",
        schema_version=1,
        occurred_at=moment,
        recorded_at=moment,
        data={"name": "张伟"},
        actor=Actor("clerk-1", "branch_clerk"),
        branch_id="bo-east",
        correlation_id=uuid.uuid4(),
        causation_id=None,
        idempotency_key="k-1",
        policy_version=None,
        service="enrollment",
        prev_hash=b"\x00" * 32,
        hash=b"\x01" * 32,
    )
    return Envelope(**{**fields, **changes})  # type: ignore[arg-type]


def decode(data: bytes) -> list[tuple[int, object]]:
    """Every frame in ``data`` as (channel, frame), checking that nothing is left over."""
    frames: list[tuple[int, object]] = []
    while data:
        used, channel, decoded = pamqp_frame.unmarshal(data)
        frames.append((channel, decoded))
        data = data[used:]
    return frames


def published(
    e: Envelope,
    channel: int = 1,
    exchange: str = "gl.events",
    max_content: int = 4096,
    **options: bool,
) -> tuple[Basic.Publish, ContentHeader, list[bytes], set[int]]:
    body = e.to_json()
    frames = decode(
        amqp_frames.event_publish(
            channel, exchange, routing_key(e), e, body, max_content, **options
        )
    )
    (_, method), (_, header), *bodies = frames
    assert isinstance(method, Basic.Publish) and isinstance(header, ContentHeader)
    assert all(isinstance(b, ContentBody) for _, b in bodies)
    chunks = [b.value for _, b in bodies]  # type: ignore[attr-defined]
    return method, header, chunks, {c for c, _ in frames}


def expected_properties(e: Envelope) -> Basic.Properties:
    """``to_properties`` as the wire carries it: AMQP timestamps are whole seconds."""
    p = to_properties(e)
    p.timestamp = p.timestamp.replace(microsecond=0) if p.timestamp else None
    return p


def test_an_event_publish_decodes_to_its_exchange_key_properties_and_body():
    e = envelope()
    method, header, chunks, channels = published(e, channel=7)
    assert (method.exchange, method.routing_key) == ("gl.events", "enrollment.TraineeEnrolled")
    assert (method.mandatory, method.immediate) == (True, False)
    assert channels == {7}
    assert header.body_size == len(e.to_json()) and b"".join(chunks) == e.to_json()
    assert header.properties == expected_properties(e)
    assert header.properties.delivery_mode == 2  # persistent
    assert header.properties.headers == {"stream_id": "trainee-t-0001", "version": 1, "position": 1}


def test_an_event_publish_is_mandatory_unless_asked_otherwise():
    """A mandatory publish that reaches no queue comes back (basic.return) instead of being
    confirmed as if delivered: the relay never checkpoints it (issue 14, items 0 and 9)."""
    method, _, _, _ = published(envelope())
    assert method.mandatory is True
    method, header, _, _ = published(envelope(), mandatory=False)
    assert (method.mandatory, method.immediate) == (False, False)
    assert header.properties.message_id is not None


def test_an_event_without_correlation_leaves_the_property_out():
    e = envelope(correlation_id=None)
    _, header, _, _ = published(e)
    assert header.properties.correlation_id is None
    assert header.properties == expected_properties(e)


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_a_body_is_split_into_frames_of_at_most_the_content_size(extra: int):
    e = envelope(data={"text": "x" * 5000})
    size = len(e.to_json()) // 2 + extra  # two frames, or three with a one-byte remainder
    _, header, chunks, _ = published(e, max_content=size)
    assert all(len(c) <= size for c in chunks)
    assert len(chunks) == -(-len(e.to_json()) // size)
    assert b"".join(chunks) == e.to_json() and header.body_size == len(e.to_json())


def test_a_short_string_over_255_bytes_is_refused_not_truncated():
    assert amqp_frames.short_string("é" * 127) == b"\xfe" + "é".encode() * 127  # 254 bytes
    assert len(amqp_frames.short_string("x" * 255)) == 256
    with pytest.raises(ValueError, match="255 bytes"):
        amqp_frames.short_string("x" * 256)
    with pytest.raises(ValueError, match="255 bytes"):
        published(envelope(type="T" * 250))  # the routing key enrollment.TTT... is over 255


def test_a_timestamp_is_whole_utc_seconds_whatever_the_offset():
    moment = datetime(2026, 11, 27, 20, 30, 45, 999999, tzinfo=timezone(timedelta(hours=8)))
    _, header, _, _ = published(envelope(recorded_at=moment))
    assert header.properties.timestamp == datetime(2026, 11, 27, 12, 30, 45, tzinfo=UTC)
    naive = datetime(2026, 11, 27, 12, 30, 45)  # read as UTC, as pamqp reads it
    assert amqp_frames.timestamp(naive) == amqp_frames.timestamp(naive.replace(tzinfo=UTC))


@settings(max_examples=200, deadline=None)
@given(
    stream_id=st.text(min_size=1, max_size=300),
    event_type=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60),
    service=st.sampled_from(["enrollment", "training", "assessment", "compensation"]),
    version=st.integers(1, 2**63 - 1),
    position=st.integers(1, 2**63 - 1),
    correlated=st.booleans(),
    seconds=st.integers(0, 4_102_444_800),  # 1970 .. 2100
    text=st.text(max_size=3000),
    channel=st.integers(1, 2047),
    max_content=st.integers(1, 5000),
)
def test_any_event_decodes_to_what_to_properties_says(
    stream_id,
    event_type,
    service,
    version,
    position,
    correlated,
    seconds,
    text,
    channel,
    max_content,
):
    e = envelope(
        stream_id=stream_id,
        type=event_type,
        service=service,
        version=version,
        position=position,
        correlation_id=uuid.uuid4() if correlated else None,
        recorded_at=datetime.fromtimestamp(seconds, UTC),
        data={"text": text},
    )
    method, header, chunks, channels = published(e, channel=channel, max_content=max_content)
    assert method.routing_key == f"{service}.{event_type}" and channels == {channel}
    assert header.properties == expected_properties(e)
    assert b"".join(chunks) == e.to_json() and all(len(c) <= max_content for c in chunks)
