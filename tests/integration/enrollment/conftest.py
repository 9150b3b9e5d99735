"""The enrollment app against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import pytest

from services.enrollment.app import create_app
from tests.support import long_secret, running


@pytest.fixture
async def svc(settings):
    settings = long_secret(settings)
    async with running(create_app(settings), settings, "enrollment") as service:
        yield service
