"""``shared.batching.Lookup`` on a real database: concurrent one-key lookups share a statement,
and each caller gets its own key's row (or None)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import asyncpg
import pytest

from shared.batching import Lookup, lookup

SQL = "SELECT name, colour FROM things WHERE name = ANY($1::text[])"


@pytest.fixture
async def things(pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await pg_pool.execute("CREATE TABLE things (name text PRIMARY KEY, colour text NOT NULL)")
    await pg_pool.execute("INSERT INTO things VALUES ('a', 'red'), ('b', 'green'), ('c', 'blue')")
    return pg_pool


async def test_concurrent_lookups_share_one_statement_and_each_gets_its_own_row(things):
    find = Lookup(things, SQL)
    batches: list[list[str]] = []
    fetch = find._fetch

    async def counted(keys: list[str]) -> list[object]:
        batches.append(list(keys))
        return await fetch(keys)

    find._batcher._run = counted
    keys = ["b", "missing", "a", "b", "c"]

    rows = await asyncio.gather(*(find(key) for key in keys))

    assert batches == [keys]  # one round trip; the repeated key asked once, answered twice
    assert [None if row is None else (row["name"], row["colour"]) for row in rows] == [
        ("b", "green"),
        None,
        ("a", "red"),
        ("b", "green"),
        ("c", "blue"),
    ]


async def test_a_lone_lookup_is_answered_at_once(things):
    assert (await Lookup(things, SQL)("c"))["colour"] == "blue"
    assert await Lookup(things, SQL)("zzz") is None


async def test_the_app_keeps_one_lookup_per_query_until_its_pool_is_replaced(things):
    state = SimpleNamespace(pool=things)
    first = lookup(state, SQL)
    assert lookup(state, SQL) is first
    assert lookup(state, SQL + " ORDER BY 1") is not first  # another query, another lookup
    state.pool = object()  # the app started again with a new pool
    assert lookup(state, SQL) is not first
    assert lookup(state, SQL).pool is state.pool
