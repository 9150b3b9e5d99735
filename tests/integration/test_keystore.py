"""The PostgreSQL key store (shared/keystore): keys made and read back in one statement, a
destroyed key stays destroyed, and two stores making one subject's key agree on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from shared.keystore import PostgresKeyStore, open_key_store
from shared.personal import KEY_BYTES
from shared.settings import Settings


@pytest.fixture
async def keys(settings: Settings) -> AsyncIterator[PostgresKeyStore]:
    async with AsyncExitStack() as stack:
        yield await open_key_store(settings, stack)


async def test_new_and_known_subjects_in_one_call(keys):
    first = await keys.keys(["a", "b"], create=True)
    assert await keys.destroy("b", "asked") is True

    found = await keys.keys(["a", "b", "c"], create=True)

    assert found["a"] == first["a"]  # a known key is read, not replaced
    assert found["b"] is None  # destroyed: never made again
    assert isinstance(found["c"], bytes) and len(found["c"]) == KEY_BYTES
    assert await keys.keys(["c", "d"], create=False) == {"c": found["c"]}  # d: left out
    assert await keys.pool.fetchval("SELECT count(*) FROM personal_keys") == 3


async def test_concurrent_makers_of_one_subjects_key_agree(keys):
    other = PostgresKeyStore(keys.pool)
    answers = await asyncio.gather(
        *(store.keys(["x", f"only-{n}"], create=True) for n, store in enumerate([keys, other] * 4))
    )
    assert len({answer["x"] for answer in answers}) == 1
    assert await keys.pool.fetchval("SELECT count(*) FROM personal_keys WHERE subject = 'x'") == 1
