"""Helpers for tests that run service apps in process against the real servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

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
