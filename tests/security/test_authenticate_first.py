"""Authenticate before validating (docs/http.md, "Conventions"): a request without a valid token
gets 401 whatever else is wrong with it, on every protected route of every service, so the 422s
that describe a route's rules are for authenticated callers only. The routes are read from the
apps themselves: a route added later is covered, and one added without a token check fails the
inventory unless it is one of the public operational pages."""

from __future__ import annotations

import re
import time
from contextlib import AsyncExitStack

import jwt
import pytest
import pytest_asyncio
from fastapi.routing import APIRoute, iter_route_contexts

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from shared.auth import BearerPrincipal, Role, mint_token
from shared.problems import PROBLEM_JSON
from shared.settings import Settings
from tests.support import fresh_settings, running

from .matrix import UNGUARDED

pytestmark = pytest.mark.asyncio(loop_scope="module")

APPS = {
    "enrollment": enrollment_app,
    "training": training_app,
    "assessment": assessment_app,
    "compensation": compensation_app,
}
# Path values no route accepts as they are: a month, an id, a stage number, a date, each wrong.
BAD_VALUES = ["0", "!!", "x" * 200]
NO_TOKEN_HEADERS = {
    "none": {},
    "garbage": {"Authorization": "Bearer not-a-token"},
    "basic": {"Authorization": "Basic Ym9zczpwdw=="},
}


def settings_for(pg_dsn: str, amqp_url: str, **changes) -> Settings:
    """The four apps' settings: small pools, one partition, no background workers."""
    return fresh_settings(
        pg_dsn, amqp_url, pool_size=3, consumer_partitions=1, workers=[], **changes
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services(pg_dsn, amqp_url):
    settings = settings_for(pg_dsn, amqp_url)
    async with AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(running(make(settings), settings, name))
            for name, make in APPS.items()
        }


def api_routes(service: str) -> list[APIRoute]:
    app = APPS[service](settings_for("postgresql://unused", "amqp://unused"))
    return [
        r.original_route
        for r in iter_route_contexts(app.router.routes)
        if isinstance(r.original_route, APIRoute)
    ]


def guarded(route: APIRoute) -> bool:
    def walk(dependant) -> bool:
        return any(isinstance(d.call, BearerPrincipal) or walk(d) for d in dependant.dependencies)

    return walk(route.dependant)


PROTECTED = [
    (service, method, route.path)
    for service in APPS
    for route in api_routes(service)
    if guarded(route)
    for method in sorted(route.methods)
]


def concrete(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_route_but_the_public_pages_requires_a_token(service):
    unguarded = {route.path for route in api_routes(service) if not guarded(route)}
    assert unguarded <= UNGUARDED, f"routes without a token check: {sorted(unguarded - UNGUARDED)}"


def assert_unauthorized(answer, what: str) -> None:
    assert answer.status_code == 401, (what, answer.status_code, answer.text)
    assert answer.headers["content-type"] == PROBLEM_JSON, what
    assert answer.headers["www-authenticate"].startswith("Bearer"), what
    assert "errors" not in answer.json(), what  # nothing about the route's rules


@pytest.mark.parametrize(("service", "method", "path"), PROTECTED)
async def test_a_request_without_a_valid_token_is_401_whatever_else_is_wrong(
    services, service, method, path
):
    client = services[service].client
    for value in BAD_VALUES:
        for kind, headers in NO_TOKEN_HEADERS.items():
            url = concrete(path, value) + "?limit=0&cursor=AA&branch_id=" + "b" * 100
            if method in ("POST", "PUT"):
                headers = {**headers, "Content-Type": "application/json"}
                answer = await client.request(method, url, content=b'{"x": ', headers=headers)
            else:
                answer = await client.request(method, url, headers=headers)
            assert_unauthorized(answer, f"{method} {url} with {kind} token")


async def test_get_branch_fees_of_a_bad_month_without_a_token_is_401_not_422(services):
    answer = await services["compensation"].client.get("/branch-fees/0")

    assert_unauthorized(answer, "GET /branch-fees/0")


async def test_an_authenticated_caller_still_gets_the_422_naming_the_field(services):
    pay = services["compensation"]
    payroll = pay.as_("payroll-1", Role.PAYROLL)

    month = await pay.client.get("/branch-fees/0", headers=payroll)
    body = await pay.client.post(
        "/employees/e-1/piece-rate",
        content=b'{"x": ',
        headers={**payroll, "Content-Type": "application/json"},
    )

    assert month.status_code == 422, month.text
    assert [e["field"] for e in month.json()["errors"]] == ["path.month"]
    assert body.status_code == 422, body.text
    assert [e["field"] for e in body.json()["errors"]] == ["body"]


async def test_a_caller_without_the_routes_role_is_403_before_validation(services):
    pay = services["compensation"]
    trainer = pay.as_("tr-1", Role.TRAINER)

    answer = await pay.client.get("/branch-fees/0", headers=trainer)

    assert answer.status_code == 403, answer.text


async def test_public_pages_answer_without_a_token(services):
    client = services["assessment"].client
    for path in ("/health", "/metrics", "/openapi.json", "/docs", "/dashboard"):
        answer = await client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])


ISSUER, AUDIENCE = "https://login.gradeline.example", "gradeline-api"


def claims_token(secret: str, **claims) -> str:
    now = int(time.time())
    payload = {"sub": "payroll-1", "roles": [Role.PAYROLL], "exp": now + 600, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


async def test_with_issuer_and_audience_configured_a_token_must_carry_both(pg_dsn, amqp_url):
    settings = settings_for(pg_dsn, amqp_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    async with running(compensation_app(settings), settings, "compensation") as pay:
        secret = settings.jwt_secret
        refused = {
            "no iss, no aud": claims_token(secret),
            "wrong iss": claims_token(secret, iss="https://elsewhere.example", aud=AUDIENCE),
            "wrong aud": claims_token(secret, iss=ISSUER, aud="another-api"),
        }
        for kind, token in refused.items():
            answer = await pay.client.get(
                "/payroll/2026-03", headers={"Authorization": f"Bearer {token}"}
            )
            assert_unauthorized(answer, kind)
        good = mint_token(secret, "payroll-1", [Role.PAYROLL], issuer=ISSUER, audience=AUDIENCE)
        answer = await pay.client.get(
            "/payroll/2026-03", headers={"Authorization": f"Bearer {good}"}
        )
        assert answer.status_code == 200, answer.text
