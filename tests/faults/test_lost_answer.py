"""A command applied whose answer was lost (the process died, or PostgreSQL restarted, between
the append's commit and storing the HTTP answer): its retry under the same key must replay the
first outcome, not be refused because the state now shows the command's own effect.

Found by the PostgreSQL-restart fault test: a trainer's sign-off was stored, the answer was a
500, and the retry got 409 "already signed" (R-11's sign-off is not repeatable)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.decider import Decider, RuleViolation
from shared.events import Actor, Event, EventRegistry
from shared.execution import Metadata, execute
from shared.memstore import InMemoryEventStore

registry = EventRegistry()


@registry.register
class Signed(Event):
    event_type = "LoadTestSigned"


@dataclass(frozen=True)
class Sign:
    pass


def decide(command: Sign, signed: bool) -> list[Event]:
    if signed:
        raise RuleViolation("R-11", "already signed")
    return [Signed()]


SIGNING = Decider(lambda: False, lambda _state, _event: True, decide)


def meta(key: str) -> Metadata:
    return Metadata(actor=Actor("tr-1", "trainer"), idempotency_key=key)


async def test_the_retry_of_an_applied_command_replays_instead_of_breaking_a_rule():
    store = InMemoryEventStore()
    first = await execute(store, registry, SIGNING, "plan-1", Sign(), meta("POST sign:k1"))

    again = await execute(store, registry, SIGNING, "plan-1", Sign(), meta("POST sign:k1"))

    assert again.appended is not None and again.appended.replayed
    assert (again.version, again.events) == (first.version, [])
    assert len(await store.read_stream("plan-1")) == 1  # applied once


async def test_another_key_is_still_refused_by_the_rule():
    store = InMemoryEventStore()
    await execute(store, registry, SIGNING, "plan-1", Sign(), meta("POST sign:k1"))

    with pytest.raises(RuleViolation, match="R-11"):
        await execute(store, registry, SIGNING, "plan-1", Sign(), meta("POST sign:k2"))
