"""The four apps once per module, against the real servers, for the hostile-input tests (the
security tests' world: two branches, seeded, and tokens of every role)."""

from __future__ import annotations

import pytest_asyncio

from tests.security.world import seeded_world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(pg_dsn, amqp_url):
    async with seeded_world(pg_dsn, amqp_url) as seeded:
        yield seeded
