"""The baseline of the http suite: the least a FastAPI service can do for ``POST /trainees``.

One route validating a pydantic body as strict as the enrollment service's and doing one asyncpg
``INSERT`` through a pool from ``shared.db.create_pool`` (same size as a service's), answering 201,
in a process tuned as a service's is (``shared.api.tune_gc``).
No authentication, middleware, event store, relay or projections: the difference between this and
the enrollment service is what Gradeline's machinery costs per request.

Served by uvicorn as a factory: ``uvicorn bench.http_baseline:create_app --factory`` with
``BENCH_BASELINE_DSN`` naming a database that holds :data:`DDL`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from services.enrollment.domain.vocabulary import Category, Education
from shared import db
from shared.api import tune_gc
from shared.settings import Settings

DSN_VARIABLE = "BENCH_BASELINE_DSN"

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


class EnrollBody(BaseModel):
    """The enrollment service's request body, field for field and constraint for constraint."""

    model_config = ConfigDict(extra="forbid")

    trainee_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    name: str = Field(min_length=1, max_length=200)
    category: Category
    branch_id: str = Field(min_length=1, max_length=64)
    education: Education
    experience_years: Decimal = Field(ge=0, le=70, decimal_places=1)
    certificates: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=50)
    product_series: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)
    enrolled_on: date


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings()
    pool = await db.create_pool(
        os.environ[DSN_VARIABLE], size=settings.pool_size,
        server_settings=db.POSTGRES_DEFAULT_PLANS,
    )  # fmt: skip
    app.state.pool = pool
    tune_gc(settings.gc_gen0_threshold)  # the services' process tuning: not measured as theirs
    try:
        yield
    finally:
        await pool.close()


async def enroll(body: EnrollBody, request: Request) -> dict[str, Any]:
    await request.app.state.pool.execute(
        INSERT, body.trainee_id, body.name, body.category.value, body.branch_id,
        body.education.value, body.experience_years, body.certificates, body.product_series,
        body.enrolled_on,
    )  # fmt: skip
    return {"trainee_id": body.trainee_id, "version": 1}


async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> FastAPI:
    app = FastAPI(title="http bench baseline", lifespan=lifespan)
    app.add_api_route("/trainees", enroll, methods=["POST"], status_code=201)
    app.add_api_route("/health", health, methods=["GET"])
    return app
