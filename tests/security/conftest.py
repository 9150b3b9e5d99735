"""One seeded world (four apps, two branches) per test module: the matrix makes hundreds of
requests, and building the apps once keeps them fast. Tests only read it or write what the
matrix expects, so sharing it holds isolation within the module."""

from __future__ import annotations

import pytest_asyncio

from .world import seeded_world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(pg_dsn, amqp_url):
    async with seeded_world(pg_dsn, amqp_url) as seeded:
        yield seeded
