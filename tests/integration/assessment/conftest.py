"""The assessment app against real PostgreSQL and RabbitMQ, one namespace per test."""

from __future__ import annotations

import pytest

from services.assessment.app import create_app
from tests.support import long_secret, running

from .helpers import Assessment, delete_topology


@pytest.fixture
async def svc(settings):
    # Small pools and one partition: the machine's 2 cores and 100 connections are shared.
    settings = long_secret(settings).model_copy(update={"pool_size": 4, "consumer_partitions": 1})
    try:
        async with running(create_app(settings), settings, "assessment") as service:
            yield Assessment(service)
    finally:
        await delete_topology(settings, ["assessment"])
