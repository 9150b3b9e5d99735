"""The baseline of the http suite: the least a FastAPI service can do for ``POST /trainees``.

One route validating the enrollment service's own pydantic body and doing one asyncpg
``INSERT`` through a pool from ``shared.db.create_pool`` (same size as a service's), answering 201,
in a process tuned as a service's is (``shared.api.tune_gc``).
No authentication, middleware, event store, relay or projections: the difference between this and
the enrollment service is what Gradeline's machinery costs per request.

Served by uvicorn as a factory: ``uvicorn bench.http_baseline:create_app --factory`` with
``BENCH_BASELINE_DSN`` naming a database that holds :data:`DDL`.

With ``BENCH_BASELINE_PUBLISH=1`` the route also announces each enrolment on RabbitMQ, the
naive way: after the INSERT, one persistent message of an enrolment event's size is published on
a channel with publisher confirms, awaited, to a topic exchange routed exactly as Gradeline's
events are (three consuming services, each with its consistent-hash exchange and partition quorum
queues, declared by ``shared.consumer.declare_topology`` in the namespace ``GRADELINE_NAMESPACE``).
That is the least a service must do to store an enrolment and tell the others, though not a
correct design: a crash between the INSERT and the publish loses the announcement (the reason for
Gradeline's outbox). It answers "what does the bus itself cost here?" beside the bare endpoint.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aio_pika
import orjson
from fastapi import FastAPI, Request

from services.enrollment.schemas import EnrollRequest, TraineeId
from shared import db
from shared.api import tune_gc
from shared.settings import Settings

DSN_VARIABLE = "BENCH_BASELINE_DSN"
PUBLISH_VARIABLE = "BENCH_BASELINE_PUBLISH"

DDL = """
CREATE TABLE trainees (
    trainee_id       text PRIMARY KEY,
    name             text NOT NULL,
    category         text NOT NULL,
    branch_id        text NOT NULL,
    education        text NOT NULL,
    experience_years numeric NOT NULL,
    certificates     jsonb NOT NULL,
    product_series   jsonb NOT NULL,
    enrolled_on      date NOT NULL
)
"""
INSERT = "INSERT INTO trainees VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"


class EnrollBody(EnrollRequest):
    """The enrollment service's request body itself, every constraint included, but for the
    trainee's id, which the baseline does not make up: it must be given."""

    trainee_id: TraineeId


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings()
    pool = await db.create_pool(
        os.environ[DSN_VARIABLE],
        size=settings.pool_size,
        server_settings=db.POSTGRES_DEFAULT_PLANS,
    )
    app.state.pool = pool
    connection = None
    if os.environ.get(PUBLISH_VARIABLE) == "1":
        connection = await aio_pika.connect(settings.amqp_url)
        app.state.exchange = await declare_bus(connection, settings)
    tune_gc(settings.gc_gen0_threshold)  # the services' process tuning: not measured as theirs
    try:
        yield
    finally:
        if connection is not None:
            await connection.close()
        await pool.close()


async def declare_bus(
    connection: aio_pika.abc.AbstractConnection, settings: Settings
) -> aio_pika.abc.AbstractExchange:
    """The events exchange and the consuming services' queues; a confirming channel on it."""
    # Imported here: the plain baseline's memory (a reported figure) stays free of Gradeline's.
    from shared.topology import declare_producer_topology

    # What enrollment's relay declares before publishing: the same routing.
    setup = await connection.channel()
    await declare_producer_topology(setup, settings, "enrollment")
    await setup.close()
    channel = await connection.channel(publisher_confirms=True)
    return await channel.get_exchange(settings.exchange_name())


async def enroll(body: EnrollBody, request: Request) -> dict[str, Any]:
    await request.app.state.pool.execute(
        INSERT,
        body.trainee_id,
        body.name,
        body.category.value,
        body.branch_id,
        body.education.value,
        body.experience_years,
        body.certificates,
        body.product_series,
        body.enrolled_on,
    )
    return {"trainee_id": body.trainee_id, "version": 1}


async def enroll_and_publish(body: EnrollBody, request: Request) -> dict[str, Any]:
    answer = await enroll(body, request)
    await request.app.state.exchange.publish(announcement(body), routing_key=ROUTING_KEY)
    return answer


ROUTING_KEY = "enrollment.TraineeEnrolled"


def announcement(body: EnrollBody) -> aio_pika.Message:
    """The enrolment as an event message: the fields and size of a Gradeline envelope (about
    900 bytes of JSON) and its AMQP properties, persistent, partitioned on ``stream_id``."""
    stream_id = f"trainee-{body.trainee_id}"
    data = body.model_dump(mode="json")
    event_id, correlation_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    document = orjson.dumps(
        {
            "event_id": event_id,
            "stream_id": stream_id,
            "version": 1,
            "position": 0,
            "type": "TraineeEnrolled",
            "schema_version": 1,
            "occurred_at": now,
            "recorded_at": now,
            "data": data,
            "actor": {"sub": f"clerk-{body.branch_id}", "role": "branch_clerk"},
            "branch_id": body.branch_id,
            "correlation_id": correlation_id,
            "causation_id": None,
            "idempotency_key": f"POST /trainees clerk-{body.branch_id}:enrol-{body.trainee_id}",
            "policy_version": None,
            "service": "enrollment",
            "prev_hash": None,
            "hash": hashlib.sha256(orjson.dumps(data)).hexdigest(),
        }
    )
    return aio_pika.Message(
        document,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(event_id),
        type="TraineeEnrolled",
        app_id="enrollment",
        timestamp=now,
        correlation_id=str(correlation_id),
        headers={"stream_id": stream_id, "version": 1, "position": 0},
    )


async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> FastAPI:
    app = FastAPI(title="http bench baseline", lifespan=lifespan)
    route = enroll_and_publish if os.environ.get(PUBLISH_VARIABLE) == "1" else enroll
    app.add_api_route("/trainees", route, methods=["POST"], status_code=201)
    app.add_api_route("/health", health, methods=["GET"])
    return app
