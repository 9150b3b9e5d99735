"""The http suite's publishing baseline (``bench.http_baseline`` with ``BENCH_BASELINE_PUBLISH=1``)
on the real servers: each enrolment is stored once and announced once to each service that
consumes enrollment's events, routed as Gradeline's own events are; the plain baseline publishes
nothing. The suite compares the enrollment service with both, so both must do what they claim."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import httpx
import orjson
import pytest

from bench import http_baseline, http_commands
from bench.http_servers import CONSUMERS, purge_queues
from services.enrollment.domain.vocabulary import Category
from shared.consumer import Topology, queue_depths
from shared.settings import Settings


@pytest.fixture
async def baseline_db(service_db: str) -> AsyncIterator[str]:
    conn = await asyncpg.connect(service_db)
    try:
        await conn.execute(http_baseline.DDL)
    finally:
        await conn.close()
    yield service_db


async def enrol(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, dsn: str, *, publish: bool, trainee: str
) -> httpx.Response:
    monkeypatch.setenv(http_baseline.DSN_VARIABLE, dsn)
    monkeypatch.setenv(http_baseline.PUBLISH_VARIABLE, "1" if publish else "0")
    monkeypatch.setenv("GRADELINE_AMQP_URL", settings.amqp_url)
    monkeypatch.setenv("GRADELINE_NAMESPACE", settings.namespace)
    body = http_commands.enrol_body("hq", Category.HQ_FULL_TIME)
    body = body.replace(http_commands.PLACEHOLDER, trainee.encode())
    app = http_baseline.create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            return await client.post(
                "/trainees", content=body, headers={"Content-Type": "application/json"}
            )


async def waiting(settings: Settings) -> dict[str, int]:
    """Messages waiting per consuming service, over its partition queues (DLQ left out); every
    one of those queues must exist (a missing queue would read as an empty one)."""
    waiting = {}
    for service in CONSUMERS:
        depths = await queue_depths(settings, service)
        assert len(depths) == settings.consumer_partitions + 1, (service, sorted(depths))
        waiting[service] = sum(n for name, n in depths.items() if not name.endswith(".dlq"))
    return waiting


async def stored(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [row[0] for row in await conn.fetch("SELECT trainee_id FROM trainees")]
    finally:
        await conn.close()


async def test_the_publishing_baseline_stores_once_and_announces_once_to_each_consumer(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, baseline_db: str
) -> None:
    response = await enrol(monkeypatch, settings, baseline_db, publish=True, trainee="p-1")

    assert response.status_code == 201
    assert await stored(baseline_db) == ["p-1"]
    assert await waiting(settings) == {"training": 1, "assessment": 1, "compensation": 1}
    message = await first_message(settings, "training")  # taken: training's queues are empty
    event = orjson.loads(message.body)
    assert (event["type"], event["stream_id"], event["data"]["trainee_id"]) == (
        "TraineeEnrolled",
        "trainee-p-1",
        "p-1",
    )
    assert message.headers["stream_id"] == "trainee-p-1"  # the consistent-hash partition key
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    # As large as an enrollment envelope (~900 bytes), so that the broker's work compares.
    assert 700 <= len(message.body) <= 1200

    assert await waiting(settings) == {"training": 0, "assessment": 1, "compensation": 1}
    await purge_queues(settings, CONSUMERS)
    assert await waiting(settings) == {"training": 0, "assessment": 0, "compensation": 0}


async def test_the_plain_baseline_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, baseline_db: str
) -> None:
    # The queues exist, as in the suite (the publishing side declared them): a publish would show.
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        await http_baseline.declare_bus(connection, settings)
    finally:
        await connection.close()

    response = await enrol(monkeypatch, settings, baseline_db, publish=False, trainee="b-1")

    assert response.status_code == 201
    assert await stored(baseline_db) == ["b-1"]
    assert await waiting(settings) == {"training": 0, "assessment": 0, "compensation": 0}


async def first_message(settings: Settings, service: str) -> aio_pika.abc.AbstractIncomingMessage:
    """The one message waiting in ``service``'s partition queues, taken by a consumer (quorum
    queues with a single active consumer refuse ``basic.get``) and acknowledged."""
    topology = Topology(settings.namespace, service, settings.consumer_partitions)
    arrived: asyncio.Queue[aio_pika.abc.AbstractIncomingMessage] = asyncio.Queue()
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        for index in range(topology.partitions):
            queue = await channel.get_queue(topology.partition_queue(index), ensure=False)
            await queue.consume(arrived.put, no_ack=True)
        async with asyncio.timeout(10):
            return await arrived.get()
    finally:
        await connection.close()
