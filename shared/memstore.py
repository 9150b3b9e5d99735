"""An in-memory event store for unit tests; it passes the same contract suite as PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.events import Envelope, NewEvent
from shared.eventstore import AppendResult, ConcurrencyError, Tampering
from shared.personal import PersonalData


def _digest(prev: str | None, e: Envelope) -> str:
    """Every field but the hashes, as PostgreSQL's digest 2 covers them (shared/sql/digests.sql)."""
    content = orjson.dumps(
        [
            str(e.event_id),
            e.stream_id,
            e.version,
            e.position,
            e.type,
            e.schema_version,
            e.occurred_at.isoformat(),
            e.recorded_at.isoformat(),
            e.data,
            e.actor.as_json(),
            e.branch_id,
            e.correlation_id,
            e.causation_id,
            e.idempotency_key,
            e.policy_version,
        ],
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return hashlib.sha256(bytes.fromhex(prev or "") + content).hexdigest()


class InMemoryEventStore:
    def __init__(
        self, service: str = "memory", clock: Any = None, personal: PersonalData | None = None
    ) -> None:
        self.service = service
        self.personal = personal  # as the PostgreSQL store's: sealed on append, revealed on read
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log: list[Envelope] = []
        self._streams: dict[str, list[Envelope]] = {}
        self._by_event_id: dict[Any, Envelope] = {}
        self._keys: dict[str, AppendResult] = {}
        self._lock = asyncio.Lock()

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        idempotency_key: str | None = None,
        conn: Any = None,
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        if self.personal is not None:
            events = await self.personal.seal(events)
        key = idempotency_key if idempotency_key is not None else events[0].idempotency_key
        async with self._lock:
            if key is not None and key in self._keys:
                return dataclasses.replace(self._keys[key], replayed=True)
            seen = [
                self._by_event_id[e.event_id] for e in events if e.event_id in self._by_event_id
            ]
            if seen:
                return AppendResult(
                    seen[0].stream_id,
                    min(s.version for s in seen),
                    max(s.version for s in seen),
                    min(s.position for s in seen),
                    max(s.position for s in seen),
                    replayed=True,
                )
            stream = self._streams.setdefault(stream_id, [])
            if expected_version is not None and expected_version != len(stream):
                raise ConcurrencyError(stream_id, expected_version, len(stream))
            now = self._clock()
            first_position = len(self._log) + 1
            for new in events:
                self._store(stream, stream_id, new, now, key)
            result = AppendResult(
                stream_id,
                stream[-len(events)].version,
                stream[-1].version,
                first_position,
                len(self._log),
            )
            if key is not None:
                self._keys[key] = result
            return result

    def _store(
        self, stream: list[Envelope], stream_id: str, new: NewEvent, now: datetime, key: str | None
    ) -> None:
        prev = stream[-1].hash if stream else None
        envelope = Envelope(
            new.event_id,
            stream_id,
            len(stream) + 1,
            len(self._log) + 1,
            new.type,
            new.schema_version,
            new.occurred_at or now,
            now,
            new.data,
            new.actor,
            new.branch_id,
            new.correlation_id,
            new.causation_id,
            key,
            new.policy_version,
            self.service,
            prev,
        )
        envelope = envelope._replace(hash=_digest(prev, envelope))
        stream.append(envelope)
        self._log.append(envelope)
        self._by_event_id[new.event_id] = envelope

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
        after_version: int | None = None,
        conn: Any = None,
    ) -> list[Envelope]:
        return await self._revealed(
            [
                e
                for e in self._streams.get(stream_id, [])
                if (to_version is None or e.version <= to_version)
                and (as_of is None or e.recorded_at <= as_of)
                and (after_version is None or e.version > after_version)
            ]
        )

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Envelope]:
        return await self._revealed(self._log[after_position : after_position + limit])

    async def _revealed(self, envelopes: list[Envelope]) -> list[Envelope]:
        if self.personal is None or not envelopes:
            return envelopes
        return await self.personal.reveal(envelopes)

    async def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, []))

    async def head_position(self) -> int:
        return len(self._log)

    async def verify(self, stream_id: str | Sequence[str] | None = None) -> list[Tampering]:
        found: list[Tampering] = []
        wanted = {stream_id} if isinstance(stream_id, str) else stream_id
        for sid, stream in sorted(self._streams.items()):
            if wanted is not None and sid not in wanted:
                continue
            prev: str | None = None
            for e in stream:
                if e.prev_hash != prev:
                    found.append(Tampering(sid, e.version, e.position, "chain link broken"))
                elif e.hash != _digest(e.prev_hash, e):
                    found.append(
                        Tampering(sid, e.version, e.position, "content does not match its hash")
                    )
                prev = e.hash
        return sorted(found, key=lambda t: t.position)

    def tamper(self, at: int, /, **changes: Any) -> None:
        """Test hook: edit the stored event at position ``at`` in place, as someone editing the
        database would (its position too)."""
        old = self._log[at - 1]
        new = old._replace(**changes)
        self._log[at - 1] = new
        stream = self._streams[old.stream_id]
        stream[old.version - 1] = new
