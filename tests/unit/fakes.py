"""What handler tests give a service's handlers in place of the app (cosmicpython's fakes): the
in-memory event store, a caller, and the events already recorded (Given events, When a command,
Then events or an error)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.auth import Principal
from shared.commands import CommandContext
from shared.events import Actor, Event, EventRegistry
from shared.execution import Aggregates, StateCache
from shared.memstore import InMemoryEventStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GIVEN_BY = Actor("given", "test")
T = TypeVar("T")


def aggregates(registry: EventRegistry) -> Aggregates:
    """A fresh in-memory store, with a folded-state cache as the app has."""
    return Aggregates(InMemoryEventStore(), registry, StateCache())


def caller(
    sub: str,
    *roles: str,
    branch_id: str | None = None,
    department: str | None = None,
    key: str | None = None,
    expected: int | None = None,
    now: datetime = NOW,
) -> CommandContext:
    """A request's context: ``roles`` are those the token holds and, in that order, the ones the
    route admits (the first is the role the events record)."""
    principal = Principal(sub, frozenset(roles), branch_id, department)
    return CommandContext(principal, key, expected, now, tuple(roles))


async def given(
    store: Aggregates, stream_id: str, *events: Event, branch_id: str | None = None
) -> None:
    """``events`` recorded on ``stream_id`` before the command."""
    version = await store.store.stream_version(stream_id)
    encoded = [store.registry.encode(e, actor=GIVEN_BY, branch_id=branch_id) for e in events]
    await store.store.append(stream_id, encoded, version)


async def recorded(store: Aggregates, stream_id: str) -> list[Event]:
    """Every event of ``stream_id``, decoded."""
    return store.registry.decode_all(await store.store.read_stream(stream_id))


def lookup(known: Mapping[str, T]) -> Callable[[str], Awaitable[T | None]]:
    """A lookup of upstream facts (an enrolment that arrived, say) answering from ``known``."""

    async def find(key: str) -> T | None:
        return known.get(key)

    return find


def types(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]
