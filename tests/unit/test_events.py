"""Payload registry: encode, decode, upcasting on read, the catalog, and the wire envelope."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.events import Actor, Envelope, Event, EventRegistry, UnknownEventType

registry = EventRegistry()


@registry.register
class ScoreRecorded(Event):
    event_type = "ScoreRecorded"
    schema_version = 3
    trainee_id: str
    score: Decimal
    rater: str


@registry.upcaster("ScoreRecorded", 1)
def _v1_to_v2(data: dict) -> dict:
    points = data.pop("points")  # upcasters get a copy: mutating it leaves storage untouched
    return {**data, "score": str(points)}


@registry.upcaster("ScoreRecorded", 2)
def _v2_to_v3(data: dict) -> dict:
    return {**data, "rater": data.get("rater", "unknown")}


def envelope(data: dict, schema_version: int, type_: str = "ScoreRecorded") -> Envelope:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    return Envelope(
        uuid.uuid4(),
        "trainee-1",
        1,
        1,
        type_,
        schema_version,
        now,
        now,
        data,
        Actor("u", "examiner"),
    )


def test_encode_keeps_decimals_exact_and_names_type_and_version():
    new = registry.encode(ScoreRecorded(trainee_id="t1", score=Decimal("79.9"), rater="hr"))
    assert (new.type, new.schema_version, new.data["score"]) == ("ScoreRecorded", 3, "79.9")


def test_old_schema_versions_are_upcast_on_read_step_by_step():
    v1 = envelope({"trainee_id": "t1", "points": 95.5}, 1)
    decoded = registry.decode(v1)
    assert decoded == ScoreRecorded(trainee_id="t1", score=Decimal("95.5"), rater="unknown")
    assert v1.data == {"trainee_id": "t1", "points": 95.5}  # the stored form is untouched


def test_unknown_type_and_future_version_are_refused():
    with pytest.raises(UnknownEventType):
        registry.decode(envelope({}, 1, type_="Nope"))
    with pytest.raises(UnknownEventType):
        registry.decode(envelope({"trainee_id": "t1", "score": "1", "rater": "x"}, 4))


def test_registering_two_classes_under_one_name_is_an_error():
    other = EventRegistry()

    class A(Event):
        event_type = "Same"

    class B(Event):
        event_type = "Same"

    other.register(A)
    with pytest.raises(ValueError):
        other.register(B)


def test_catalog_has_envelope_and_every_payload_schema():
    catalog = registry.catalog("assessment")
    schema = catalog["events"]["ScoreRecorded"]
    assert schema["x-routing-key"] == "assessment.ScoreRecorded"
    assert schema["x-schema-version"] == 3
    assert set(schema["required"]) == {"trainee_id", "score", "rater"}
    assert "stream_id" in catalog["envelope"]["properties"]


def test_wire_envelope_round_trips_through_json_and_the_trusted_path():
    original = envelope({"trainee_id": "t1", "score": "80.0", "rater": "hr"}, 3)
    assert Envelope.from_json(original.to_json()) == original
    import orjson

    assert Envelope.from_stored(orjson.loads(original.to_json())) == original


def test_malformed_wire_envelope_is_a_validation_error():
    with pytest.raises(ValidationError):
        Envelope.from_json(b'{"event_id": "not-a-uuid"}')


@given(st.binary(max_size=300))
def test_decoder_never_crashes_on_arbitrary_bytes(raw):
    with contextlib.suppress(ValidationError, ValueError):
        Envelope.from_json(raw)


@given(
    st.dictionaries(
        st.text(max_size=10), st.one_of(st.none(), st.integers(), st.text()), max_size=6
    )
)
def test_upcaster_rejects_garbage_payloads_cleanly(data):
    with contextlib.suppress(ValidationError, KeyError, UnknownEventType):
        registry.decode(envelope(data, 1))
