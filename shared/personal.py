"""Personal data that can be forgotten: crypto-shredding of event fields (docs/privacy.md).

Every personal field of an event (a trainee's name, a certificate, a comment someone wrote about a
trainee) is stored encrypted with a key of its own *data subject*, one key per person, and the key
lives in a key store apart from the events. Erasing a person destroys their key: every copy of
their fields, in the store, on the bus, in inboxes and in backups, becomes unreadable at once,
while the events themselves, their hashes and seals, and every decision, number and id in them
stay as they were. Grading, pay and audits never need a key.

- An event type marks its personal fields with ``Annotated[str, PERSONAL]`` and names the field
  holding its subject's id with ``data_subject`` (a field may name another with
  ``personal(subject=...)``); :func:`personal_fields` reads the marks, and the event catalog shows
  them (``"x-personal"``).
- :meth:`PersonalData.seal` turns the marked values of new events into tokens (AES-256-GCM under
  the subject's key; the event id and the field's name are the associated data, so a token
  cannot be moved to another event or field); the event store calls it before appending, so the
  hash chain covers the ciphertext.
- :meth:`PersonalData.reveal` turns tokens back into values, or into :data:`ERASED` once the
  subject's key is gone. Tokens name their subject, so a service revealing another's events needs
  no knowledge of their types. Events stored before a type's fields were marked carry clear
  values: reveal shows them while the subject lives and the marker after, like a token (the
  upcaster path); ``gradeline personal reencrypt`` seals them in place once.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field

from shared.batching import Batcher
from shared.events import Envelope, Event, EventRegistry, JsonDict, NewEvent

PERSONAL_MARK = "x-personal"
# What a personal field reads as once its subject's key is destroyed: in projections, answers,
# exports and the pages (which show it as "erased" / "已删除").
ERASED = "[erased]"
TOKEN_PREFIX = "gl-enc:1:"
_STRING, _JSON = "s", "j"  # what the token's plaintext is: the string itself, or JSON
_NONCE_BYTES = 12
_KIND = len(TOKEN_PREFIX)  # where a token's kind is, then its subject ("gl-enc:1:s:<subject>:")
_SUBJECT = _KIND + 2
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_KEYS_PER_QUERY = 5_000  # subjects in one key-store query, at most (a batch of requests)
_DATA = Envelope._fields.index("data")
_NO_KEY = object()  # a subject the key store does not know (its clear values stay as they are)
KEY_BYTES = 32  # AES-256


def personal(subject: str | None = None) -> Any:
    """The mark of a personal field, for ``Annotated[...]``: of the event's ``data_subject``, or
    of the person whose id is in the field ``subject``."""
    return Field(json_schema_extra={PERSONAL_MARK: subject or True})


PERSONAL = personal()


@dataclass(frozen=True)
class PersonalFields:
    """An event type's personal fields, each with the field that holds its subject's id."""

    fields: tuple[tuple[str, str], ...]  # (field, subject field)


NOTHING_PERSONAL = PersonalFields(())


def personal_fields(cls: type[Event]) -> PersonalFields | None:
    """The marked fields of an event type (None: it has none)."""
    found: list[tuple[str, str]] = []
    default_subject = getattr(cls, "data_subject", None)
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra
        mark = extra.get(PERSONAL_MARK) if isinstance(extra, dict) else None
        if not mark:
            continue
        subject = mark if isinstance(mark, str) else default_subject
        if not subject or subject not in cls.model_fields:
            raise ValueError(f"{cls.__name__}.{name} is personal but names no subject field")
        found.append((name, subject))
    return PersonalFields(tuple(found)) if found else None


def personal_map(*registries: EventRegistry) -> dict[str, PersonalFields]:
    """Every event type of the registries, by type name, with its personal fields: none for
    most. A type known to hold nothing personal is never searched for tokens when read."""
    found: dict[str, PersonalFields] = {}
    for registry in registries:
        for name, cls in registry.types.items():
            found[name] = personal_fields(cls) or NOTHING_PERSONAL
    return found


class SubjectErased(Exception):
    """A new event would hold personal data of a person whose data was erased."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"the personal data of {subject} was erased; nothing new is kept")
        self.subject = subject


class KeyStore(Protocol):
    """Where the subjects' keys are kept: a PostgreSQL table of its own (shared.keystore), or a
    KMS or Vault behind the same four calls. A destroyed key is gone for good."""

    async def keys(self, subjects: Collection[str], *, create: bool) -> Mapping[str, bytes | None]:
        """Each subject's key; None for one whose key was destroyed. With ``create``, a subject
        without one gets a new key; without, it is left out."""
        ...

    async def destroy(self, subject: str, reason: str) -> bool:
        """Destroy the subject's key (a tombstone stays, so it is never created again); False
        when it was already destroyed."""
        ...

    async def erased(self, subjects: Collection[str]) -> set[str]:
        """The subjects among ``subjects`` whose keys were destroyed."""
        ...


class MemoryKeyStore:
    """A key store in a dict: for unit tests and the in-memory event store."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes | None] = {}

    async def keys(self, subjects: Collection[str], *, create: bool) -> Mapping[str, bytes | None]:
        if create:
            for subject in subjects:
                self._keys.setdefault(subject, os.urandom(KEY_BYTES))
        return {s: self._keys[s] for s in subjects if s in self._keys}

    async def destroy(self, subject: str, reason: str) -> bool:
        was = self._keys.get(subject, b"")
        self._keys[subject] = None
        return was is not None

    async def erased(self, subjects: Collection[str]) -> set[str]:
        return {s for s in subjects if s in self._keys and self._keys[s] is None}


class PersonalData:
    """Seals and reveals the personal fields of events with their subjects' keys.

    Keys read from the store are kept in memory for ``cache_seconds`` at most: a replay reveals a
    page of events with one key-store query, not one per event. Concurrent seals and reveals
    (16 commands enrolling 16 new people) share one key-store query (:class:`Batcher`), as their
    appends share one commit. A key destroyed by another process stops working here when this
    process learns of the erasure (``forget``, called on PersonalDataErased) or, at the latest,
    when its cached copy expires.
    """

    def __init__(
        self,
        key_store: KeyStore,
        fields: Mapping[str, PersonalFields],
        *,
        cache_seconds: float = 60.0,
        cache_size: int = 50_000,
        clock: Any = time.monotonic,
    ) -> None:
        self.key_store = key_store
        # The types with personal fields, and those known to have none: their events are
        # passed over when revealing (no value is looked at). Other types (a service's
        # upstream events) are searched for tokens, which name their own subjects.
        self.fields = {name: spec for name, spec in fields.items() if spec.fields}
        self._plain = frozenset(name for name, spec in fields.items() if not spec.fields)
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._clock = clock
        self._cache: dict[str, tuple[float, AESGCM | None]] = {}
        # Subjects this process knows to be erased: a key read concurrently with the erasure
        # (a projection revealing while the key is destroyed) must not be cached after it.
        self._erased: set[str] = set()
        # Called with the subject on ``forget``: what else keeps revealed values drops them.
        self.on_forget: list[Callable[[str], None]] = []
        # A request is a collection of subjects; a batch's requests are answered by one query.
        self._loads = {
            create: Batcher[Collection[str], Mapping[str, bytes | None]](
                partial(self._load, create=create), weight=len, max_weight=_KEYS_PER_QUERY
            )
            for create in (False, True)
        }

    @property
    def cache_seconds(self) -> float:
        """How long a key read from the store is kept here at most."""
        return self._cache_seconds

    # --- keys ------------------------------------------------------------------------------

    async def _ciphers(self, subjects: set[str], *, create: bool) -> dict[str, AESGCM | None]:
        now = self._clock()
        found: dict[str, AESGCM | None] = {}
        missing: list[str] = []
        for subject in subjects:
            cached = self._cache.get(subject)
            if cached is not None and cached[0] > now:
                found[subject] = cached[1]
            else:
                missing.append(subject)
        if missing:
            keys = await self._loads[create](missing)
            if len(self._cache) + len(missing) > self._cache_size:
                self._cache.clear()  # simple and rare: a replay of more people than fit
            expires = now + self._cache_seconds
            for subject in missing:
                if subject not in keys:
                    continue
                key = keys[subject]
                cipher = None if key is None or subject in self._erased else AESGCM(key)
                self._cache[subject] = (expires, cipher)
                found[subject] = cipher
        return found

    async def _load(
        self, requests: list[Collection[str]], *, create: bool
    ) -> list[Mapping[str, bytes | None]]:
        """The keys of a batch of requests, in one key-store call; each request is answered
        with the whole batch's keys (it picks its own)."""
        wanted = {subject for request in requests for subject in request}
        keys = await self.key_store.keys(wanted, create=create)
        return [keys] * len(requests)

    def forget(self, subject: str) -> None:
        """Drop a cached key: its subject was erased."""
        self._erased.add(subject)
        self._cache.pop(subject, None)
        for forgotten in self.on_forget:
            forgotten(subject)

    async def erase(self, subject: str, reason: str) -> bool:
        """Destroy the subject's key; False when it was already destroyed."""
        self.forget(subject)
        return await self.key_store.destroy(subject, reason)

    # --- sealing ---------------------------------------------------------------------------

    async def seal(self, events: Sequence[NewEvent]) -> list[NewEvent]:
        """The events with their personal fields as tokens (events without any unchanged).

        Raises :class:`SubjectErased` for an event with personal data of an erased person."""
        wanted = {
            subject
            for event in events
            for subject in self._subjects(event.type, event.data, sealed_too=False)
        }
        if not wanted:
            return list(events)
        ciphers = await self._ciphers(wanted, create=True)
        sealed: list[NewEvent] = []
        for event in events:
            spec = self.fields.get(event.type)
            if spec is None:
                sealed.append(event)
                continue
            data = dict(event.data)
            event_id = event.event_id.bytes
            for name, subject_field in spec.fields:
                value = data.get(name)
                if value is None or is_token(value):
                    continue
                subject = str(data[subject_field])
                cipher = ciphers.get(subject)
                if cipher is None:
                    raise SubjectErased(subject)
                data[name] = _seal(cipher, subject, event_id, name, value)
            sealed.append(event._replace(data=data))
        return sealed

    def _subjects(self, event_type: str, data: JsonDict, *, sealed_too: bool) -> Iterable[str]:
        spec = self.fields.get(event_type)
        if spec is None:
            return ()
        return {
            str(data[subject])
            for name, subject in spec.fields
            if data.get(name) is not None and (sealed_too or not is_token(data[name]))
        }

    # --- revealing -------------------------------------------------------------------------
    #
    # A replay reveals every event it reads: the loops below are written for speed (one pass
    # over each event's values to find the subjects, one to open the tokens; ``Envelope._make``
    # rather than ``_replace``), measured by ``python -m bench personal``.

    async def reveal(self, envelopes: Sequence[Envelope]) -> list[Envelope]:
        """The envelopes with their tokens turned back into values, or :data:`ERASED`."""
        subjects: set[str] = set()
        personal: list[int] = []  # the envelopes to reveal: most events hold nothing personal
        plain = self._plain
        for i, envelope in enumerate(envelopes):
            if envelope.type in plain:
                continue
            data = envelope.data
            found = False
            for value in data.values():
                if type(value) is str and value.startswith(TOKEN_PREFIX):
                    subjects.add(token_subject(value))
                    found = True
            spec = self.fields.get(envelope.type)
            if spec is not None:  # clear values of events stored before the fields were marked
                subjects.update(
                    str(data[subject])
                    for name, subject in spec.fields
                    if data.get(name) is not None
                )
                found = True
            if found:
                personal.append(i)
        revealed = list(envelopes)
        if not subjects:
            return revealed
        ciphers = await self._ciphers(subjects, create=False)
        for i in personal:
            revealed[i] = self._revealed(envelopes[i], ciphers)
        return revealed

    def _revealed(self, envelope: Envelope, ciphers: Mapping[str, AESGCM | None]) -> Envelope:
        data = envelope.data
        changed: JsonDict | None = None
        event_id = b""
        for name, value in data.items():
            if type(value) is str and value.startswith(TOKEN_PREFIX):
                if changed is None:
                    changed, event_id = dict(data), envelope.event_id.bytes
                changed[name] = _open(ciphers, value, event_id, name)
        spec = self.fields.get(envelope.type)
        if spec is not None:  # clear values of events stored before the fields were marked
            for name, subject_field in spec.fields:
                value = data.get(name)
                if value is None or is_token(value):
                    continue
                if ciphers.get(str(data.get(subject_field)), _NO_KEY) is None:  # destroyed
                    if changed is None:
                        changed = dict(data)
                    changed[name] = [ERASED] if isinstance(value, list) else ERASED
        if changed is None:
            return envelope
        return Envelope._make((*envelope[:_DATA], changed, *envelope[_DATA + 1 :]))

    async def reveal_data(self, event_type: str, event_id: bytes, data: JsonDict) -> JsonDict:
        """One event's data revealed (for a payload outside an envelope)."""
        subjects = {token_subject(v) for v in data.values() if is_token(v)}
        ciphers = await self._ciphers(subjects, create=False) if subjects else {}
        return {
            name: _open(ciphers, v, event_id, name) if is_token(v) else v
            for name, v in data.items()
        }


def is_token(value: Any) -> bool:
    return type(value) is str and value.startswith(TOKEN_PREFIX)


def token_subject(token: str) -> str:
    return token[_SUBJECT:].rsplit(":", 1)[0]


def _aad(event_id: bytes, field: str) -> bytes:
    return event_id + field.encode()


def _seal(cipher: AESGCM, subject: str, event_id: bytes, field: str, value: Any) -> str:
    if isinstance(value, str):
        kind, plain = _STRING, value.encode()
    else:
        kind, plain = _JSON, orjson.dumps(value)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = cipher.encrypt(nonce, plain, _aad(event_id, field))
    text = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{TOKEN_PREFIX}{kind}:{subject}:{text}"


def _open(ciphers: Mapping[str, AESGCM | None], token: str, event_id: bytes, field: str) -> Any:
    kind = token[_KIND]
    subject, text = token[_SUBJECT:].rsplit(":", 1)
    cipher = ciphers.get(subject)
    if cipher is None:  # destroyed (or never kept: a token whose key is unknown is unreadable)
        return ERASED if kind == _STRING else [ERASED]
    # base64.urlsafe_b64decode, without its checks of the argument's type (a third of a field's
    # cost to reveal)
    raw = binascii.a2b_base64(text.encode().translate(_FROM_URLSAFE))
    plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], event_id + field.encode())
    return plain.decode() if kind == _STRING else orjson.loads(plain)
