"""The apps of an e2e test, in process over the real bus (one namespace: one exchange, a database
each)."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from tests.e2e.helpers import CONSUMERS, FACTORIES
from tests.integration.assessment.helpers import delete_topology
from tests.support import RunningService, consuming, long_secret, running


@pytest.fixture
async def start(settings):
    """``await start(name, ..., clock=None)`` runs those apps with their lifespans, each consumer
    listening before the next app starts, so that nothing published is lost to it; all on
    ``clock`` (``app.state.clock``) when one is given."""
    # Small pools and one partition per consumer: four apps share 2 cores and 100 connections.
    settings = long_secret(settings).model_copy(update={"pool_size": 3, "consumer_partitions": 1})
    async with AsyncExitStack() as stack:

        async def starter(*names: str, clock=None) -> dict[str, RunningService]:
            stack.push_async_callback(
                delete_topology, settings, [n for n in CONSUMERS if n in names]
            )
            started = {}
            for name in (n for n in FACTORIES if n in names):
                app = FACTORIES[name](settings)
                if clock is not None:
                    app.state.clock = clock
                started[name] = await stack.enter_async_context(running(app, settings, name))
                if name in CONSUMERS:
                    await consuming(settings, name)
            return started

        yield starter
