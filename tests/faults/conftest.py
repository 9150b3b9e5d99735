from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.load.cluster import Cluster
from tests.load.harness import running_cluster


@pytest.fixture(scope="module")
def services(pg_dsn: str, amqp_url: str) -> Iterator[Cluster]:
    yield from running_cluster(pg_dsn, amqp_url)
