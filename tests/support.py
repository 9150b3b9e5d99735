"""Helpers for tests that run service apps in process against the real servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from ops.identity_provider import DemoUser, RunningProvider
from ops.oidc_login import sign_in
from shared import db
from shared.auth import mint_token
from shared.consumer import Topology, queue_depths
from shared.settings import Settings


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


# Users of the test session's identity provider besides the demo users (tests/conftest.py):
# one whose roles and branch sit where Keycloak puts them, one known to nobody's roles.
OIDC_TEST_USERS = (
    DemoUser(
        "kc-clerk-bo-west",
        "Keycloak-shaped clerk",
        (),
        claims={
            "realm_access": {"roles": ["branch_clerk", "offline_access"]},
            "org": {"branch": ["bo-west"]},
        },
    ),
    DemoUser("no-roles", "no Gradeline role", ()),
)


def trusting(settings: Settings, provider: RunningProvider, **changes: Any) -> Settings:
    """``settings`` whose services trust ``provider``'s tokens; a token naming a new key makes
    them fetch the key set at once (no wait between fetches)."""
    update = {"oidc_issuer": provider.issuer, "oidc_jwks_refetch_seconds": 0.0, **changes}
    return settings.model_copy(update=update)


def provider_token(provider: RunningProvider, sub: str) -> str:
    """An access token of ``provider`` for the user ``sub``, obtained as a browser would: the
    Authorization Code flow with PKCE over HTTP (ops/oidc_login.py)."""
    return sign_in(provider.issuer, sub, client_id=provider.client_id).access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
