"""The folded-state cache of the command path: a command reads only what was appended since its
stream was last folded here, and never decides on a stale or uncommitted state."""

from __future__ import annotations

import asyncio

import pytest

from shared.eventstore import ConcurrencyError
from shared.execution import StateCache, execute, load
from shared.memstore import InMemoryEventStore
from shared.personal import MemoryKeyStore, PersonalData
from tests.unit.test_decider import COUNTER, META, Count, Counted, Counter, registry


class EventsRead(InMemoryEventStore):
    """Counts the events its stream reads return."""

    def __init__(self) -> None:
        super().__init__()
        self.events_read = 0

    async def read_stream(self, stream_id, **kwargs):  # type: ignore[no-untyped-def]
        found = await super().read_stream(stream_id, **kwargs)
        self.events_read += len(found)
        return found


async def append_counted(store, stream: str, n: int) -> None:
    """``n`` events appended past the cache, as another replica would."""
    for _ in range(n):
        version = await store.stream_version(stream)
        await store.append(stream, [registry.encode(Counted(by=1), actor=META.actor)], version)


async def test_a_cached_stream_is_read_from_its_cached_version_only():
    store, cache = EventsRead(), StateCache()
    await append_counted(store, "c-1", 5)
    assert await load(store, registry, COUNTER, "c-1", cache=cache) == (Counter(5), 5)
    assert store.events_read == 5
    assert await load(store, registry, COUNTER, "c-1", cache=cache) == (Counter(5), 5)
    assert store.events_read == 5  # nothing new: nothing folded again
    assert (cache.hits, cache.misses) == (1, 1)


async def test_another_replicas_appends_are_folded_in_not_missed():
    store, cache = EventsRead(), StateCache()
    await append_counted(store, "c-1", 2)
    await load(store, registry, COUNTER, "c-1", cache=cache)
    await append_counted(store, "c-1", 3)  # appended elsewhere: this cache never saw them
    state, version = await load(store, registry, COUNTER, "c-1", cache=cache)
    assert (state.total, version) == (5, 5)
    assert store.events_read == 2 + 3


async def test_commands_through_the_cache_decide_as_without_it():
    cached_store, plain_store, cache = InMemoryEventStore(), InMemoryEventStore(), StateCache()
    for by in (1, 2, 3):
        a = await execute(cached_store, registry, COUNTER, "c-1", Count(by), META, cache=cache)
        b = await execute(plain_store, registry, COUNTER, "c-1", Count(by), META)
        assert (a.state, a.version) == (b.state, b.version)
    with pytest.raises(Exception, match="R-1"):  # 6 + 5 > 10: the cached state still refuses
        await execute(cached_store, registry, COUNTER, "c-1", Count(5), META, cache=cache)


async def test_a_stale_cache_under_concurrency_still_appends_on_the_true_version():
    store, cache = InMemoryEventStore(), StateCache()
    await execute(store, registry, COUNTER, "c-1", Count(1), META, cache=cache)
    outcomes = await asyncio.gather(
        *(execute(store, registry, COUNTER, "c-1", Count(1), META, cache=cache) for _ in range(5))
    )
    assert sorted(o.version for o in outcomes) == [2, 3, 4, 5, 6]
    assert (await load(store, registry, COUNTER, "c-1"))[0].total == 6
    with pytest.raises(ConcurrencyError):  # If-Match against a version the cache is past
        await execute(
            store, registry, COUNTER, "c-1", Count(1), META, expected_version=3, cache=cache
        )


async def test_inside_a_callers_transaction_the_cache_is_neither_read_nor_filled():
    store, cache = EventsRead(), StateCache()
    await append_counted(store, "c-1", 2)
    await load(store, registry, COUNTER, "c-1", conn=object(), cache=cache)
    assert (cache.hits, cache.misses) == (0, 0)
    await load(store, registry, COUNTER, "c-1", cache=cache)
    assert cache.misses == 1 and store.events_read == 4  # read whole both times


async def test_a_later_state_is_never_replaced_by_an_earlier_one_and_the_oldest_go_first():
    cache = StateCache(size=2)
    cache.put(COUNTER, "a", "state at 5", 5)
    cache.put(COUNTER, "a", "state at 3", 3)  # a slower concurrent load finishing last
    assert cache.get(COUNTER, "a") == ("state at 5", 5)
    cache.put(COUNTER, "b", "b", 1)
    cache.get(COUNTER, "a")  # used: b is now the least recent
    cache.put(COUNTER, "c", "c", 1)
    assert cache.get(COUNTER, "b") is None
    assert cache.get(COUNTER, "a") is not None and cache.get(COUNTER, "c") is not None


async def test_a_cache_of_size_zero_keeps_nothing():
    store, cache = EventsRead(), StateCache(size=0)
    await append_counted(store, "c-1", 2)
    for _ in range(2):
        assert await load(store, registry, COUNTER, "c-1", cache=cache) == (Counter(2), 2)
    assert store.events_read == 4 and cache.hits == 0


async def test_an_erasure_drops_the_cached_states_that_hold_revealed_fields():
    """Issue 19: a folded state holds personal fields as revealed; once a person's key is
    forgotten here (their erasure), no state folded before is answered from the cache."""
    store, cache = EventsRead(), StateCache()
    personal = PersonalData(MemoryKeyStore(), {})
    personal.on_forget.append(lambda _subject: cache.clear())  # as shared.api wires it
    await append_counted(store, "c-1", 3)
    await load(store, registry, COUNTER, "c-1", cache=cache)
    assert cache.get(COUNTER, "c-1") is not None
    await personal.erase("t-1", "asked")
    assert cache.get(COUNTER, "c-1") is None
    assert await load(store, registry, COUNTER, "c-1", cache=cache) == (Counter(3), 3)
    assert store.events_read == 6  # read again from the start


async def test_states_may_hold_revealed_personal_data_so_none_outlives_a_cached_key():
    """Issue 19 (docs/privacy.md): a state folded before its person was erased elsewhere is
    dropped ``max_age`` after it was folded, as a cached key is; an erasure this process learns
    of (PersonalData.forget) clears the cache at once."""
    from shared.personal import MemoryKeyStore, PersonalData

    now = [0.0]
    cache = StateCache(max_age=60, clock=lambda: now[0])
    cache.put(COUNTER, "a", "a", 1)
    now[0] = 59.0
    assert cache.get(COUNTER, "a") == ("a", 1)
    now[0] = 60.0
    assert cache.get(COUNTER, "a") is None
    personal = PersonalData(MemoryKeyStore(), {})
    personal.on_forget.append(lambda _subject: cache.clear())
    cache.put(COUNTER, "b", "b", 1)
    await personal.erase("t-1", "asked")
    assert cache.get(COUNTER, "b") is None
