"""Helpers for tests that run service apps in process against the real servers."""

from __future__ import annotations

import asyncio
import io
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from openpyxl import Workbook

from ops.identity_provider import DemoUser, RunningProvider
from ops.oidc_login import sign_in
from ops.organisation import STANDARD_BRANCHES
from services.enrollment.domain import branch as enrollment_branch
from services.enrollment.domain.events import BranchRegistered
from services.enrollment.domain.events import registry as enrollment_registry
from services.training.policy.plan_content import PLAN_CONTENT
from shared import db
from shared.auth import Role, mint_token
from shared.consumer import Topology, queue_depths
from shared.events import Actor, Envelope
from shared.eventstore import EventStore
from shared.settings import Settings

T = TypeVar("T")
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


def new_namespace() -> str:
    """A namespace of its own for a test: its databases ``<ns>_*``, exchanges and queues ``<ns>.*``."""
    return "t" + uuid.uuid4().hex[:12]


def fresh_settings(
    pg_dsn: str, amqp_url: str, namespace: str | None = None, **changes: Any
) -> Settings:
    """Settings for a test against these servers, in ``namespace`` (a new one unless given),
    with a token secret and a seal key of that namespace; ``changes`` on top."""
    namespace = namespace or new_namespace()
    return Settings(
        pg_dsn=pg_dsn,
        amqp_url=amqp_url,
        namespace=namespace,
        environment="test",
        jwt_secret="test-secret-for-hs256-signing-" + namespace,
        seal_key="test-seal-key-for-hmac-sha256-" + namespace,
        # Commits wake the relay and the projections in process; the poll only catches what
        # another process wrote. Four idle apps polling every 10 ms cost half a core of Python
        # and 1,800 PostgreSQL transactions a second (every 100 ms: 13 % and 290), which the
        # tests running beside them paid for.
        poll_interval_seconds=0.05,
        **changes,
    )


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


DELIVERED_AT = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
SOMEONE = Actor("someone", "system")


def delivered(
    service: str,
    type_: str,
    stream: str,
    data: dict[str, Any],
    version: int = 1,
    *,
    position: int | None = None,
    at: datetime = DELIVERED_AT,
    branch_id: str | None = None,
    actor: Actor = SOMEONE,
) -> Envelope:
    """An event of ``service`` as the bus delivers it, fresh id, occurred and recorded ``at``;
    its position in the producer's store is ``version`` unless given."""
    return Envelope(
        uuid.uuid4(),
        stream,
        version,
        version if position is None else position,
        type_,
        1,
        at,
        at,
        data,
        actor,
        branch_id=branch_id,
        service=service,
    )


async def until(check: Callable[[], Awaitable[T]], seconds: float = 30) -> T:
    """Polls ``check`` until it answers something true (what travels over the bus or waits for a
    background task arrives when it arrives); that answer."""
    async with asyncio.timeout(seconds):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


def enrolment(trainee_id: str, **changes: object) -> dict[str, object]:
    """A POST /trainees body (docs/http.md, enrollment): a branch-commissioned trainee of
    dl-north, unless ``changes`` say otherwise."""
    body: dict[str, object] = {
        "trainee_id": trainee_id,
        "name": "李娜",
        "category": "branch_commissioned",
        "branch_id": "dl-north",
        "education": "high_school",
        "experience_years": 2,
        "certificates": [],
        "product_series": ["X1"],
        "enrolled_on": "2026-03-01",
    }
    return {**body, **changes}


def plan_stage(
    no: int,
    topic: str,
    department: str,
    trainer: str,
    series: str | None = None,
    planned_start: str = "2026-03-02",
    planned_end: str = "2026-03-31",
    covers: Sequence[str] = (),
) -> dict[str, object]:
    """One stage of a PUT /plans body (docs/http.md, training); ``covers``: R-7a content codes."""
    return {
        "no": no,
        "content": f"stage {no}: {topic}",
        "department": department,
        "trainer_id": trainer,
        "product_series": series,
        "topic": topic,
        "covers": list(covers),
        "planned_start": planned_start,
        "planned_end": planned_end,
    }


# R-7a: every content item of every plan level (services/training/policy/plan_content.json), in
# the policy's order: a plan whose stages cover these is approvable whatever the placement.
ALL_CONTENT: tuple[str, ...] = tuple(
    dict.fromkeys(
        code
        for codes in PLAN_CONTENT.in_force(datetime.now(UTC).date()).levels.values()
        for code in codes
    )
)


def mandatory_stages(covers: Sequence[str] = ALL_CONTENT, **dates: str) -> list[dict[str, object]]:
    """Stages 1-4: the four topics every plan must cover (R-8a); ``dates``: their
    ``planned_start`` and ``planned_end`` where not the default ones. Stage 1 also lists
    ``covers`` (by default every R-7a item, so the plan is approvable at any plan level; a test
    of R-7 passes its own)."""
    return [
        plan_stage(1, "company_processes", "hr", "tr-hr", covers=covers, **dates),
        plan_stage(2, "department_responsibilities", "hr", "tr-hr", **dates),
        plan_stage(3, "travel_policy", "after_sales", "tr-as", **dates),
        plan_stage(4, "appraisal_rules", "after_sales", "tr-as", **dates),
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
# A trainee as Keycloak issues it: ``sub`` the provider's own user id, the trainee id Gradeline
# knows it by in ``preferred_username`` (GRADELINE_OIDC_SUBJECT_CLAIM).
KEYCLOAK_TRAINEE = DemoUser(
    "0b7c3e52-8f1a-4d6e-9c2b-5a4f3e2d1c0b",
    "Keycloak-shaped trainee",
    (),
    claims={"preferred_username": "t-kc-0042", "roles": ["trainee"], "branch_id": "bo-east"},
)
OIDC_TEST_USERS = (*OIDC_TEST_USERS, KEYCLOAK_TRAINEE)


def xlsx(*rows: Sequence[Any]) -> bytes:
    """A spreadsheet (xlsx) of ``rows`` on its first sheet, as an upload or an import reads it."""
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 now (for a provider or server of a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
