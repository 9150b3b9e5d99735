"""Helpers for tests that run service apps in process against the real servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from ops.organisation import STANDARD_BRANCHES
from services.enrollment.domain import branch as enrollment_branch
from services.enrollment.domain.events import BranchRegistered
from services.enrollment.domain.events import registry as enrollment_registry
from shared import db
from shared.auth import Role, mint_token
from shared.consumer import Topology, queue_depths
from shared.events import Actor
from shared.eventstore import EventStore
from shared.settings import Settings

ADMIN = Actor("admin-org", Role.ADMIN)


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings

    def token(
        self, sub: str, *roles: str, branch_id: str | None = None, department: str | None = None
    ) -> str:
        return mint_token(
            self.settings.jwt_secret, sub, list(roles), branch_id=branch_id, department=department
        )

    def as_(
        self, sub: str, *roles: str, branch_id: str | None = None, department: str | None = None
    ) -> dict[str, str]:
        """Authorization header of a principal with these roles."""
        return {
            "Authorization": f"Bearer {self.token(sub, *roles, branch_id=branch_id, department=department)}"
        }

    @property
    def pool(self):
        return self.app.state.pool


@asynccontextmanager
async def running(app: FastAPI, settings: Settings, service: str) -> AsyncIterator[RunningService]:
    """The app with its lifespan (pool, migrations, broker, background tasks) and a client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield RunningService(app, client, settings)
    await db.drop_database(settings.pg_dsn, settings.database_name(service))


def standard_branches(*ids: str) -> list[dict[str, str]]:
    """The standard branches of these ids (every one when none is named)."""
    return [b for b in STANDARD_BRANCHES if not ids or b["branch_id"] in ids]


async def register_branches(
    enrollment: RunningService, branches: Sequence[dict[str, str]] = STANDARD_BRANCHES
) -> None:
    """``branches`` (the standard five: hq, bo-east, bo-west, dl-north, dl-south) registered
    through enrollment's API as the organisation's administrator: every enrolment names a
    registered branch (R-2). One registered before is left as it is (409)."""
    headers = enrollment.as_(ADMIN.sub, Role.ADMIN)
    for body in branches:
        answer = await enrollment.client.post("/branches", json=body, headers=headers)
        assert answer.status_code in (201, 409), answer.text


async def given_branches(
    store: EventStore, branches: Sequence[dict[str, str]] = STANDARD_BRANCHES
) -> None:
    """``branches`` registered straight into an enrollment event store (in memory or not), for
    tests that run enrollment's handlers without its app."""
    for body in branches:
        event = enrollment_registry.encode(
            BranchRegistered.model_validate(body), actor=ADMIN, branch_id=body["branch_id"]
        )
        await store.append(enrollment_branch.stream_id(body["branch_id"]), [event], 0)


def long_secret(settings: Settings) -> Settings:
    """HS256 wants 32+ byte keys; the fixture's per-test secret is doubled to be sure."""
    return settings.model_copy(update={"jwt_secret": settings.jwt_secret * 2})


async def drop_databases(settings: Settings, services: Sequence[str]) -> None:
    for service in services:
        await db.drop_database(settings.pg_dsn, settings.database_name(service))


async def consuming(settings: Settings, service: str) -> None:
    """Until the service's first partition queue is declared (its bindings come first): from then
    on nothing the other services publish is lost to it."""
    queue = Topology(settings.namespace, service, settings.consumer_partitions).partition_queue(0)
    async with asyncio.timeout(30):
        while queue not in await queue_depths(settings, service):
            await asyncio.sleep(0.1)


def plan_stage(
    no: int,
    topic: str,
    department: str,
    trainer: str,
    series: str | None = None,
    planned_start: str = "2026-03-02",
    planned_end: str = "2026-03-31",
) -> dict[str, object]:
    """One stage of a PUT /plans body (docs/http.md, training)."""
    return {
        "no": no,
        "content": f"stage {no}: {topic}",
        "department": department,
        "trainer_id": trainer,
        "product_series": series,
        "topic": topic,
        "planned_start": planned_start,
        "planned_end": planned_end,
    }


def mandatory_stages() -> list[dict[str, object]]:
    """Stages 1-4: the four topics every plan must cover (R-8a)."""
    return [
        plan_stage(1, "company_processes", "hr", "tr-hr"),
        plan_stage(2, "department_responsibilities", "hr", "tr-hr"),
        plan_stage(3, "travel_policy", "after_sales", "tr-as"),
        plan_stage(4, "appraisal_rules", "after_sales", "tr-as"),
    ]


async def ok(answer: Awaitable[httpx.Response], status: int = 200) -> Any:
    """The JSON of an awaited response, asserting its status (the body in the failure message)."""
    response = await answer
    assert response.status_code == status, response.text
    return response.json()
