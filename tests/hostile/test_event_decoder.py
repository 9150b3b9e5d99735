"""hypothesis fuzzing of the event decoder (shared/events.py): whatever arrives from the bus or an
inbox, decoding fails only with the documented errors (pydantic's ValidationError for a bad
envelope or payload, UnknownEventType for a type or version this code does not know); valid events
survive encode -> envelope -> wire -> decode unchanged; upcasters run in version order."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.assessment.domain.events import registry as assessment_events
from services.compensation.domain.events import registry as compensation_events
from services.enrollment.domain.events import registry as enrollment_events
from services.training.domain.events import registry as training_events
from shared.events import Actor, Envelope, Event, EventRegistry, UnknownEventType

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None)
REGISTRIES = [enrollment_events, training_events, assessment_events, compensation_events]
KNOWN_TYPES = sorted({name for r in REGISTRIES for name in r.types})

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=20)
    | st.floats(allow_nan=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def envelope(type_: str, data: dict, schema_version: int = 1) -> Envelope:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return Envelope(
        uuid.uuid4(), "s-1", 1, 1, type_, schema_version, now, now, data, Actor("u", "r")
    )


def wire_like(draw_dict: dict) -> dict:
    base = orjson.loads(envelope("X", {}).to_json())
    return {**base, **draw_dict}


@FUZZ
@given(st.dictionaries(st.sampled_from(Envelope._fields), json_values, max_size=6))
def test_envelope_from_json_fails_only_with_a_validation_error(changes):
    with contextlib.suppress(ValidationError):
        Envelope.from_json(wire_like(changes))


@FUZZ
@given(st.binary(max_size=200) | json_values.map(orjson.dumps))
def test_envelope_from_raw_bytes_fails_only_with_a_parse_or_validation_error(raw):
    with contextlib.suppress(ValidationError, orjson.JSONDecodeError):
        Envelope.from_json(raw)


@FUZZ
@given(
    st.sampled_from(KNOWN_TYPES) | st.text(max_size=20),
    st.integers(min_value=-3, max_value=5),
    st.dictionaries(st.text(max_size=15), json_values, max_size=6),
)
def test_decoding_any_payload_fails_only_with_the_documented_errors(type_, version, data):
    for registry in REGISTRIES:
        try:
            decoded = registry.decode(envelope(type_, data, version))
        except (ValidationError, UnknownEventType):
            continue
        assert isinstance(decoded, Event)


fuzz_registry = EventRegistry()


@fuzz_registry.register
class Scored(Event):
    event_type: ClassVar[str] = "Scored"
    schema_version: ClassVar[int] = 3
    trainee_id: str
    score: Decimal
    series: list[str]
    steps: list[int] = []


@fuzz_registry.upcaster("Scored", 1)
def _v1_to_v2(data: dict) -> dict:
    upcast = {key: value for key, value in data.items() if key != "product"}
    return {**upcast, "series": [data["product"]] if "product" in data else [], "steps": [1]}


@fuzz_registry.upcaster("Scored", 2)
def _v2_to_v3(data: dict) -> dict:
    return {**data, "steps": [*data.get("steps", []), 2]}


scored = st.builds(
    Scored,
    trainee_id=st.text(max_size=30),
    score=st.decimals(min_value=0, max_value=100, places=1),
    series=st.lists(st.text(max_size=10), max_size=4),
    steps=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3),  # orjson: 64-bit ints
)


@FUZZ
@given(scored)
def test_encode_then_decode_is_the_identity(event):
    new = fuzz_registry.encode(event)
    stored = envelope(new.type, new.data, new.schema_version)
    assert fuzz_registry.decode(stored) == event
    over_the_wire = Envelope.from_json(stored.to_json())
    assert fuzz_registry.decode(over_the_wire) == event


@FUZZ
@given(
    st.text(max_size=30), st.decimals(min_value=0, max_value=100, places=1), st.text(max_size=10)
)
def test_upcasters_run_in_version_order_without_touching_the_stored_data(trainee, score, product):
    v1 = {"trainee_id": trainee, "score": str(score), "product": product}
    stored = envelope("Scored", v1, 1)
    decoded = fuzz_registry.decode(stored)
    assert decoded.steps == [1, 2]  # v1 -> v2 first, then v2 -> v3
    assert decoded.series == [product]
    assert stored.data == {"trainee_id": trainee, "score": str(score), "product": product}
    v2 = {"trainee_id": trainee, "score": str(score), "series": [], "steps": [1]}
    from_v2 = fuzz_registry.decode(envelope("Scored", v2, 2))
    assert from_v2.steps == [1, 2]


def test_a_version_newer_than_the_code_is_refused():
    try:
        fuzz_registry.decode(envelope("Scored", {}, 4))
    except UnknownEventType as refused:
        assert "newer" in str(refused)
    else:
        raise AssertionError("a v4 payload decoded with v3 code")
