"""Events: the envelope every stored and published event carries, and the payload registry.

The store and the bus move :class:`Envelope` objects whose ``data`` is plain JSON. Typed payloads
(:class:`Event` subclasses, one per event type and schema version) are registered by name in an
:class:`EventRegistry`, which encodes them for appending and decodes envelopes on read, upcasting an
old schema version step by step first. Stored rows are never rewritten: upcasting happens on read.
"""

from __future__ import annotations

import copy
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, create_model

JsonDict = dict[str, Any]
Upcaster = Callable[[JsonDict], JsonDict]


class Event(BaseModel):
    """Base class of every event payload. Subclasses set ``event_type`` and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    # The field holding the id of the person whose personal fields (``Annotated[...,
    # shared.personal.PERSONAL]``) this event carries: their key seals them (docs/privacy.md).
    data_subject: ClassVar[str | None] = None


class Actor(NamedTuple):
    """Who caused the event: the token's subject and the role it acted in."""

    sub: str
    role: str

    def as_json(self) -> JsonDict:
        return {"sub": self.sub, "role": self.role}


SYSTEM_ACTOR = Actor(sub="system", role="system")


class _NewEventFields(NamedTuple):
    type: str
    data: JsonDict
    schema_version: int
    event_id: uuid.UUID
    occurred_at: datetime | None  # None: the store's transaction time
    branch_id: str | None
    actor: Actor
    correlation_id: uuid.UUID | None
    causation_id: uuid.UUID | None
    idempotency_key: str | None
    policy_version: str | None


class NewEvent(_NewEventFields):
    """An event about to be appended: everything but what the store assigns.

    Immutable, and a NamedTuple rather than a frozen dataclass for the reason :class:`Envelope`
    is one: every appended event is built once, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) costs several times a tuple's making.
    """

    __slots__ = ()

    def __new__(
        cls,
        type: str,
        data: JsonDict,
        schema_version: int = 1,
        event_id: uuid.UUID | None = None,  # None: a new random id
        occurred_at: datetime | None = None,
        branch_id: str | None = None,
        actor: Actor = SYSTEM_ACTOR,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
        policy_version: str | None = None,
    ) -> NewEvent:
        return super().__new__(
            cls,
            type,
            data,
            schema_version,
            uuid.uuid4() if event_id is None else event_id,
            occurred_at,
            branch_id,
            actor,
            correlation_id,
            causation_id,
            idempotency_key,
            policy_version,
        )


class Envelope(NamedTuple):
    """A stored event, as read from the store or received from the bus.

    ``position`` is the event's place in its service's store, ``version`` its place in its stream.
    ``hash`` chains the stream: it covers the event and ``prev_hash`` (its predecessor's hash).
    A NamedTuple, not a dataclass: tailing builds one per row, and a tuple is 4x cheaper to make.
    """

    event_id: uuid.UUID
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    data: JsonDict
    actor: Actor
    branch_id: str | None = None
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    policy_version: str | None = None
    service: str = ""
    prev_hash: str | None = None
    hash: str | None = None

    def as_json(self) -> JsonDict:
        # Ids as str here: asyncpg's own UUID type would cost orjson a fallback call each.
        return {
            **self._asdict(),
            "event_id": str(self.event_id),
            "actor": self.actor.as_json(),
        }

    def to_json(self) -> bytes:
        """The wire form published on the bus and kept in inboxes."""
        # default=str: asyncpg hands out its own UUID type, which orjson does not know.
        return orjson.dumps(self.as_json(), default=str)

    @staticmethod
    def from_json(raw: bytes | str | Mapping[str, Any]) -> Envelope:
        """Parse and validate the wire form (raises ``pydantic.ValidationError``)."""
        obj = orjson.loads(raw) if isinstance(raw, bytes | str) else raw
        wire = EnvelopeModel.model_validate(obj)
        fields = {name: getattr(wire, name) for name in Envelope._fields}
        actor = fields["actor"]
        return Envelope(**{**fields, "actor": Actor(actor.sub, actor.role)})

    @staticmethod
    def from_stored(obj: Mapping[str, Any]) -> Envelope:
        """The wire form as kept in an inbox: trusted (validated on receipt), so no validation."""

        def opt_uuid(value: Any) -> uuid.UUID | None:
            return None if value is None else uuid.UUID(value)

        actor = obj["actor"]
        return Envelope(
            uuid.UUID(obj["event_id"]),
            obj["stream_id"],
            obj["version"],
            obj["position"],
            obj["type"],
            obj["schema_version"],
            datetime.fromisoformat(obj["occurred_at"]),
            datetime.fromisoformat(obj["recorded_at"]),
            obj["data"],
            Actor(actor["sub"], actor["role"]),
            obj.get("branch_id"),
            opt_uuid(obj.get("correlation_id")),
            opt_uuid(obj.get("causation_id")),
            obj.get("idempotency_key"),
            obj.get("policy_version"),
            obj.get("service", ""),
            obj.get("prev_hash"),
            obj.get("hash"),
        )


def _wire_model(shape: type[tuple[Any, ...]], **overrides: Any) -> type[BaseModel]:
    """A pydantic model of a NamedTuple's fields: validates the wire form, and its JSON Schema is
    an object (a NamedTuple's own schema would be an array)."""
    hints = typing.get_type_hints(shape)
    defaults: dict[str, Any] = getattr(shape, "_field_defaults", {})
    fields: dict[str, Any] = {
        name: (overrides.get(name, hints[name]), defaults.get(name, ...))
        for name in getattr(shape, "_fields", ())
    }
    model: type[BaseModel] = create_model(
        shape.__name__, __config__=ConfigDict(frozen=True), __doc__=shape.__doc__, **fields
    )
    return model


ActorModel = _wire_model(Actor)
EnvelopeModel = _wire_model(Envelope, actor=ActorModel)

E = TypeVar("E", bound=Event)


class UnknownEventType(LookupError):
    """An envelope names a type (or schema version) this registry does not know."""


class EventRegistry:
    """Event payload types by name, their schema versions and the upcasters between them."""

    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[E]) -> type[E]:
        """Class decorator: register the current schema of an event type."""
        if not cls.event_type:
            raise ValueError(f"{cls.__name__} has no event_type")
        known = self._types.get(cls.event_type)
        if known is not None and known is not cls:
            raise ValueError(f"event type {cls.event_type!r} registered twice")
        self._types[cls.event_type] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: a function turning ``data`` of ``from_version`` into ``from_version + 1``."""

        def add(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return add

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._types

    @property
    def types(self) -> Mapping[str, type[Event]]:
        return dict(self._types)

    def encode(self, event: Event, **envelope: Any) -> NewEvent:
        """A typed payload as a :class:`NewEvent`; keyword arguments fill the envelope."""
        cls = type(event)
        if self._types.get(cls.event_type) is not cls:
            raise UnknownEventType(f"{cls.__name__} is not registered")
        data = event.model_dump(mode="json")
        return NewEvent(
            type=cls.event_type, schema_version=cls.schema_version, data=data, **envelope
        )

    def upcast(self, event_type: str, schema_version: int, data: JsonDict) -> JsonDict:
        """``data`` brought from ``schema_version`` up to the registered (current) version."""
        cls = self._types.get(event_type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {event_type!r}")
        version = schema_version
        if version < cls.schema_version:
            data = copy.deepcopy(data)  # an upcaster may mutate; the envelope's data must not
        while version < cls.schema_version:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {event_type} v{version}")
            data = step(data)
            version += 1
        if version > cls.schema_version:
            raise UnknownEventType(f"{event_type} v{schema_version} is newer than this code")
        return data

    def decode(self, envelope: Envelope) -> Event:
        """The typed payload of an envelope, upcast to the current schema version."""
        cls = self._types.get(envelope.type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {envelope.type!r}")
        data = self.upcast(envelope.type, envelope.schema_version, envelope.data)
        return cls.model_validate(data)

    def decode_all(self, envelopes: Iterable[Envelope]) -> list[Event]:
        return [self.decode(e) for e in envelopes]

    def catalog(self, service: str = "") -> JsonDict:
        """The event catalog: a JSON Schema document with the envelope and every payload."""
        payloads = {
            name: {
                **cls.model_json_schema(),
                "x-event-type": name,
                "x-schema-version": cls.schema_version,
                "x-routing-key": f"{service}.{name}" if service else name,
            }
            for name, cls in sorted(self._types.items())
        }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"Gradeline event catalog{': ' + service if service else ''}",
            "envelope": EnvelopeModel.model_json_schema(),
            "events": payloads,
        }
