"""The training app against real PostgreSQL and RabbitMQ, its clock pinned (helpers.NOW)."""

from __future__ import annotations

import pytest

from services.training.app import create_app
from tests.integration.training.helpers import NOW
from tests.support import long_secret, running


@pytest.fixture
async def svc(settings, amqp):  # amqp: removes the test's queues afterwards
    settings = long_secret(settings)
    app = create_app(settings)
    app.state.clock = lambda: NOW  # days may not lie in the future: tests use fixed dates
    async with running(app, settings, "training") as service:
        yield service
