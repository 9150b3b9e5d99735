"""Services started in any order lose no event: the producer declares the queues of every service
that consumes it before its first publish (issue 14, item 0).

Real service processes (as ``make run`` starts them) in a namespace of their own: enrollment
alone first, its trainees enrolled and published, and only then the three consuming services.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from bench.load.cluster import Cluster, cluster_settings
from shared import db
from shared.auth import mint_token
from shared.relay import checkpoint_name
from tests.support import enrolment, standard_branches

pytestmark = pytest.mark.timeout(180)
LOG_DIR = Path(__file__).resolve().parents[2] / ".run" / "startup-order"
TRAINEES = 50
# What each consuming service knows of a trainee enrolled upstream (its migrations' tables).
KNOWN = {
    "training": "SELECT count(*) FROM known_trainees WHERE trainee_id = ANY($1::text[])",
    "assessment": "SELECT count(*) FROM trainee_facts"
    " WHERE trainee_id = ANY($1::text[]) AND branch_id IS NOT NULL",
    "compensation": "SELECT count(*) FROM known_employees WHERE employee_id = ANY($1::text[])",
}


@pytest.fixture
async def cluster(pg_dsn: str, amqp_url: str) -> AsyncIterator[Cluster]:
    services = Cluster(cluster_settings(pg_dsn, amqp_url), LOG_DIR)
    try:
        yield services
    finally:
        services.stop()
        await services.drop()


async def enrol_all(cluster: Cluster, trainee_ids: list[str]) -> None:
    """The HQ registered (R-2: every enrolment names a registered branch), then the trainees."""
    secret = cluster.settings.jwt_secret
    token = mint_token(secret, "clerk-hq", ["branch_clerk"], branch_id="hq")
    admin = mint_token(secret, "admin-org", ["admin"])
    async with httpx.AsyncClient(base_url=cluster.url("enrollment"), timeout=10) as client:
        [hq] = standard_branches("hq")
        registered = await client.post(
            "/branches", json=hq, headers={"Authorization": f"Bearer {admin}"}
        )
        assert registered.status_code == 201, registered.text
        for trainee_id in trainee_ids:
            answer = await client.post(
                "/trainees",
                json=enrolment(trainee_id, category="hq_full_time", branch_id="hq"),
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": trainee_id},
            )
            assert answer.status_code == 201, answer.text


async def relayed_everything(cluster: Cluster) -> None:
    """Until enrollment's relay has had every event confirmed by the broker."""
    settings = cluster.settings
    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name("enrollment"))
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(30):
            while await conn.fetchval(
                "SELECT (SELECT max(position) FROM events)"
                " > coalesce((SELECT position FROM checkpoints WHERE name = $1), 0)",
                checkpoint_name("enrollment"),
            ):
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def known(cluster: Cluster, service: str, trainee_ids: list[str]) -> int:
    settings = cluster.settings
    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(service))
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(KNOWN[service], trainee_ids))
    finally:
        await conn.close()


async def test_services_started_after_the_producer_published_know_every_trainee(cluster):
    """Enrollment alone enrols 50 trainees (its relay publishes them all), then training,
    assessment and compensation start: each learns all 50 (R-14's trainee facts), with no
    manual step."""
    trainee_ids = [f"order-{n:03d}" for n in range(TRAINEES)]
    cluster.start("enrollment")
    await cluster.wait_ready(("enrollment",))
    await enrol_all(cluster, trainee_ids)
    await relayed_everything(cluster)

    consumers = ("training", "assessment", "compensation")
    for service in consumers:
        cluster.start(service)
    await cluster.wait_ready(consumers)
    counts: dict[str, int] = {}
    try:
        async with asyncio.timeout(30):
            while True:
                counts = {s: await known(cluster, s, trainee_ids) for s in consumers}
                if all(count == TRAINEES for count in counts.values()):
                    break
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"trainees known after 30 s, of {TRAINEES}: {counts}")
