"""The command path (shared.execution: load, decide, append) on the in-memory store: retries, pins,
idempotency, policy versions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest

from shared.decider import Decider, InvalidCommand, RuleViolation, required_text
from shared.events import Actor, Event, EventRegistry
from shared.eventstore import ConcurrencyError
from shared.execution import Metadata, execute, load
from shared.memstore import InMemoryEventStore

registry = EventRegistry()


@registry.register
class Counted(Event):
    event_type = "Counted"
    by: int


@registry.register
class Graded(Event):
    event_type = "Graded"
    policy_version: str


@dataclass(frozen=True)
class Count:
    by: int


@dataclass(frozen=True)
class Counter:
    total: int = 0


def decide(command: Count, state: Counter) -> list[Event]:
    if command.by <= 0:
        raise RuleViolation("R-0", "counts only go up")
    if state.total + command.by > 10:
        raise RuleViolation("R-1", "ten at most")
    return [Counted(by=command.by)]


def evolve(state: Counter, event: Event) -> Counter:
    assert isinstance(event, Counted)
    return replace(state, total=state.total + event.by)


COUNTER = Decider(Counter, evolve, decide)
META = Metadata(actor=Actor("u1", "clerk"))


async def test_execute_appends_the_decided_events_and_returns_the_new_state():
    store = InMemoryEventStore()
    outcome = await execute(store, registry, COUNTER, "c-1", Count(3), META)
    assert (outcome.state.total, outcome.version) == (3, 1)
    assert (await store.read_stream("c-1"))[0].actor == Actor("u1", "clerk")


async def test_rule_violation_appends_nothing():
    store = InMemoryEventStore()
    with pytest.raises(RuleViolation) as caught:
        await execute(store, registry, COUNTER, "c-1", Count(11), META)
    assert caught.value.rule == "R-1"
    assert await store.head_position() == 0


async def test_concurrent_commands_without_a_pin_are_redecided_on_fresh_state():
    store = InMemoryEventStore()
    outcomes = await asyncio.gather(
        *(execute(store, registry, COUNTER, "c-1", Count(1), META) for _ in range(6))
    )
    assert sorted(o.version for o in outcomes) == [1, 2, 3, 4, 5, 6]
    state, version = await load(store, registry, COUNTER, "c-1")
    assert (state.total, version) == (6, 6)


async def test_a_pinned_stale_version_is_a_conflict():
    store = InMemoryEventStore()
    await execute(store, registry, COUNTER, "c-1", Count(1), META)
    with pytest.raises(ConcurrencyError):
        await execute(store, registry, COUNTER, "c-1", Count(1), META, expected_version=0)
    assert (
        await execute(store, registry, COUNTER, "c-1", Count(1), META, expected_version=1)
    ).version == 2


async def test_a_repeated_idempotency_key_decides_once():
    store = InMemoryEventStore()
    keyed = Metadata(actor=Actor("u1", "clerk"), idempotency_key="k-1")
    first = await execute(store, registry, COUNTER, "c-1", Count(2), keyed)
    again = await execute(store, registry, COUNTER, "c-1", Count(2), keyed)
    assert again.replayed and not first.replayed
    assert again.state.total == 2 and await store.head_position() == 1


async def test_an_event_decided_under_a_policy_records_its_version_in_the_envelope():
    """R-22: the audit re-derives a decision under the policy version its envelope names."""
    store = InMemoryEventStore()
    graded = Decider(
        Counter, lambda state, _e: state, lambda _c, _s: [Graded(policy_version="g-2")]
    )
    await execute(store, registry, graded, "g-1", Count(1), META)
    await execute(store, registry, COUNTER, "c-1", Count(1), META)
    assert (await store.read_stream("g-1"))[0].policy_version == "g-2"
    assert (await store.read_stream("c-1"))[0].policy_version is None


class CountingReads(InMemoryEventStore):
    """Counts stream reads, to see the first attempt of a creating command skip its read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def read_stream(self, stream_id, **kwargs):  # type: ignore[no-untyped-def]
        self.reads += 1
        return await super().read_stream(stream_id, **kwargs)


async def test_a_creating_command_on_a_new_stream_appends_without_reading_it():
    store = CountingReads()
    outcome = await execute(store, registry, COUNTER, "c-1", Count(3), META, creates=True)
    assert (outcome.state.total, outcome.version, store.reads) == (3, 1, 0)


async def test_a_creating_command_on_an_existing_stream_decides_on_its_real_state():
    store = CountingReads()
    await execute(store, registry, COUNTER, "c-1", Count(8), META)
    # On the initial state Count(3) would pass; the stream is at 8, so R-1 refuses it.
    with pytest.raises(RuleViolation) as caught:
        await execute(store, registry, COUNTER, "c-1", Count(3), META, creates=True)
    assert caught.value.rule == "R-1"
    outcome = await execute(store, registry, COUNTER, "c-1", Count(2), META, creates=True)
    assert (outcome.state.total, outcome.version) == (10, 2)


async def test_a_creating_command_refused_on_the_guess_is_answered_from_the_real_state():
    store = CountingReads()
    with pytest.raises(RuleViolation) as caught:
        await execute(store, registry, COUNTER, "c-1", Count(0), META, creates=True)
    assert caught.value.rule == "R-0"
    assert store.reads == 1 and await store.head_position() == 0


def test_required_text_is_stripped_and_a_blank_one_refused_naming_field_and_rule():
    assert required_text("reason", "  verified \n", "R-13") == "verified"
    with pytest.raises(InvalidCommand) as refused:
        required_text("reason", " \t", "R-23", "a dispute needs a reason")
    assert (refused.value.field, refused.value.rule) == ("reason", "R-23")
    assert refused.value.detail == "a dispute needs a reason"
