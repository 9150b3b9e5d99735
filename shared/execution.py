"""The one command path every service uses: load, decide, append (the I/O around a decider).

:func:`execute` loads the aggregate's stream, runs its pure :class:`shared.decider.Decider`, and
appends what it decided, retrying on a concurrent append unless the caller pinned a version
(``If-Match``). A handler reaches it through :class:`Aggregates`: a service's event store, event
registry and folded-state cache, given to the handler as one explicit dependency.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

import asyncpg

from shared.decider import Decider
from shared.events import Actor, Event, EventRegistry, NewEvent
from shared.eventstore import AppendResult, ConcurrencyError, EventStore

S = TypeVar("S")
C = TypeVar("C")


@dataclass(frozen=True)
class Metadata:
    """What the envelope records about who caused a command and why."""

    actor: Actor
    branch_id: str | None = None
    correlation_id: Any = None
    causation_id: Any = None
    idempotency_key: str | None = None
    occurred_at: datetime | None = None  # the command's ``now``; None: the store's clock


@dataclass
class Outcome(Generic[S]):
    state: S
    version: int
    events: list[Event] = field(default_factory=list)
    appended: AppendResult | None = None

    @property
    def replayed(self) -> bool:
        return self.appended is not None and self.appended.replayed


class StateCache:
    """Folded states of recently used streams, so that a command reads only what was appended
    since its stream was last folded here, not the whole stream.

    A training plan gathers a daily record per training day for months, and every command on it
    loaded and folded all of them (measured on plan re-drafts: a sixth of the training process's
    CPU). The cache is a starting point, never the answer: every load still reads the events
    after the cached version (one index probe, usually empty), so another replica's appends are
    folded in, and the append's expected version guards the write as before. It holds committed
    states only, folded from stored events (loads outside a caller's transaction), never from a
    decision's own events. States must be immutable (frozen dataclasses of tuples, frozensets,
    copied mappings), as every ``evolve`` here returns a new one: commands share them.
    """

    def __init__(
        self, size: int = 2_000, max_age: float | None = None, clock: Any = time.monotonic
    ) -> None:
        self.size = size
        # States hold revealed personal fields (docs/privacy.md): one folded before a person was
        # erased by another process is dropped, like a cached key, ``max_age`` seconds at most
        # after it was folded; this process's own erasures clear the cache at once (``clear``).
        self.max_age = max_age
        self._clock = clock
        self._states: OrderedDict[tuple[object, str], tuple[Any, int, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, decider: Decider[Any, S], stream_id: str) -> tuple[S, int] | None:
        found = self._states.get((decider, stream_id))
        if found is not None and self.max_age is not None and found[2] <= self._clock():
            del self._states[(decider, stream_id)]
            found = None
        if found is None:
            self.misses += 1
            return None
        self._states.move_to_end((decider, stream_id))
        self.hits += 1
        return cast(tuple[S, int], found[:2])

    def clear(self) -> None:
        """Forget every state (a person's data was erased: a state may hold it revealed)."""
        self._states.clear()

    def put(self, decider: Decider[Any, S], stream_id: str, state: S, version: int) -> None:
        if self.size == 0:
            return
        key = (decider, stream_id)
        known = self._states.get(key)
        if known is not None and known[1] > version:
            return  # a later state is already here (a concurrent command folded further)
        expires = self._clock() + (self.max_age or 0.0)
        self._states[key] = (state, version, expires)
        self._states.move_to_end(key)
        if len(self._states) > self.size:
            self._states.popitem(last=False)


async def load(
    store: EventStore,
    registry: EventRegistry,
    decider: Decider[Any, S],
    stream_id: str,
    *,
    conn: Any = None,
    cache: StateCache | None = None,
) -> tuple[S, int]:
    """The stream folded into its state, and its version (through ``conn`` when given).

    With a ``cache`` and no ``conn``, only the events after the cached version are read."""
    cached = cache.get(decider, stream_id) if cache is not None and conn is None else None
    state, version = cached if cached is not None else (decider.initial(), 0)
    envelopes = await store.read_stream(stream_id, after_version=version, conn=conn)
    if envelopes:
        state = decider.fold(registry.decode_all(envelopes), state)
        version = envelopes[-1].version
    if cache is not None and conn is None:
        cache.put(decider, stream_id, state, version)
    return state, version


async def execute(
    store: EventStore,
    registry: EventRegistry,
    decider: Decider[C, S],
    stream_id: str,
    command: C,
    meta: Metadata,
    *,
    expected_version: int | None = None,
    attempts: int = 5,
    conn: Any = None,
    creates: bool = False,
    cache: StateCache | None = None,
) -> Outcome[S]:
    """Load the stream, decide, append. ``expected_version`` (from If-Match) pins the version.
    An event carrying a ``policy_version`` (the grading or pay policy it was decided under)
    records it in its envelope as well.

    ``creates``: the command normally starts its stream (an enrolment with a new id), so the
    first attempt decides on the initial state without reading: a stream that exists after all
    fails the append's version check, and the next attempt loads it and decides again.
    """
    for attempt in range(1, attempts + 1):
        guess = creates and attempt == 1 and expected_version is None
        if guess:
            state, version = decider.initial(), 0
        else:
            state, version = await load(store, registry, decider, stream_id, conn=conn, cache=cache)
        if expected_version is not None and expected_version != version:
            raise ConcurrencyError(stream_id, expected_version, version)
        try:
            events = list(decider.decide(command, state))
        except Exception:
            if guess:  # the answer must be the one the stream's real state gives
                continue
            earlier = await _applied_before(store, stream_id, meta.idempotency_key, conn)
            if earlier is not None:
                state, version = await load(
                    store, registry, decider, stream_id, conn=conn, cache=cache
                )
                return Outcome(state, version, [], earlier)
            raise
        if not events:
            if guess:
                continue
            return Outcome(state, version)
        new = [_encode(registry, e, meta) for e in events]
        try:
            appended = await store.append(
                stream_id, new, version, idempotency_key=meta.idempotency_key, conn=conn
            )
        except ConcurrencyError:
            if expected_version is not None or attempt == attempts:
                raise
            continue
        if appended.replayed:  # an earlier identical command already decided: report its state
            state, version = await load(store, registry, decider, stream_id, conn=conn, cache=cache)
            return Outcome(state, version, [], appended)
        return Outcome(decider.fold(events, state), appended.last_version, events, appended)
    raise AssertionError("unreachable")


async def _applied_before(
    store: EventStore, stream_id: str, key: str | None, conn: Any
) -> AppendResult | None:
    """The append an earlier attempt of this very command made, when the decider now refuses it.

    The command was applied but its answer was lost (the process died, or the database went
    away, after the append committed and before the HTTP answer was stored): the retry under the
    same key finds the command's effect in the state ("already signed") and is refused before it
    reaches the store's own key check. It must get the first outcome replayed, not a 409.
    """
    if key is None:
        return None
    mine = [e for e in await store.read_stream(stream_id, conn=conn) if e.idempotency_key == key]
    if not mine:
        return None
    first, last = mine[0], mine[-1]
    return AppendResult(
        stream_id, first.version, last.version, first.position, last.position, replayed=True
    )


def _encode(registry: EventRegistry, event: Event, meta: Metadata) -> NewEvent:
    """The event in its envelope; an event decided under a policy names its version there too."""
    return registry.encode(
        event,
        actor=meta.actor,
        branch_id=meta.branch_id,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        idempotency_key=meta.idempotency_key,
        policy_version=getattr(event, "policy_version", None),
        occurred_at=meta.occurred_at,
    )


@dataclass(frozen=True, slots=True)
class Aggregates:
    """A service's aggregates as its handlers see them: the event store they live in, the registry
    that decodes them and the cache of their folded states (None: fold every stream afresh)."""

    store: EventStore
    registry: EventRegistry
    states: StateCache | None = None

    async def load(
        self, decider: Decider[Any, S], stream_id: str, *, conn: Any = None
    ) -> tuple[S, int]:
        return await load(
            self.store, self.registry, decider, stream_id, conn=conn, cache=self.states
        )

    async def execute(
        self,
        decider: Decider[C, S],
        stream_id: str,
        command: C,
        meta: Metadata,
        *,
        expected_version: int | None = None,
        conn: Any = None,
        creates: bool = False,
    ) -> Outcome[S]:
        return await execute(
            self.store,
            self.registry,
            decider,
            stream_id,
            command,
            meta,
            expected_version=expected_version,
            conn=conn,
            creates=creates,
            cache=self.states,
        )


def app_aggregates(state: Any, registry: EventRegistry) -> Aggregates:
    """The aggregates of a running app: its ``state``'s event store and folded-state cache
    (``app.state``, as shared.api's lifespan fills it)."""
    return Aggregates(state.store, registry, state.states)


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[Any]:
    """A connection of ``pool`` inside a transaction: what a handler passes as ``conn`` to load,
    decide and append several aggregates atomically."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn
