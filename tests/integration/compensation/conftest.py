"""The compensation app against real PostgreSQL and RabbitMQ, its clock pinned (upstream.NOW)."""

from __future__ import annotations

import pytest

from services.compensation.app import create_app
from tests.integration.assessment.helpers import delete_topology
from tests.integration.compensation.upstream import NOW
from tests.support import long_secret, running


@pytest.fixture
async def svc(settings):
    # Small pool, one consumer partition: tests feed upstream events through handle_once.
    settings = long_secret(settings).model_copy(update={"pool_size": 4, "consumer_partitions": 1})
    app = create_app(settings)
    app.state.clock = lambda: NOW
    try:
        async with running(app, settings, "compensation") as service:
            yield service
    finally:
        await delete_topology(settings, ["compensation"])
