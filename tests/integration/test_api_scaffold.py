"""The service scaffold against real PostgreSQL and RabbitMQ: a tiny "things" service built with
``create_service_app`` proves auth, problems, idempotency, ETags, limits and the ops routes."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared import db
from shared import workers as shared_workers
from shared.api import AppContext, create_service_app
from shared.auth import Role, mint_token, require_branch
from shared.commands import CommandContext, command
from shared.events import NewEvent
from shared.logging import current_correlation_id
from shared.problems import PROBLEM_JSON, not_found
from shared.requests import etag
from tests.support import long_secret

SERVICE = "things"
# {"alg":"none"} . {"sub":"x","roles":["branch_clerk"],"exp":4102444800} . (no signature)
ALG_NONE_TOKEN = (
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYnJhbmNoX2NsZXJrIl0sImV4cCI6NDEwMjQ0NDgwMH0."
)

Clerk = Annotated[CommandContext, Depends(command(Role.BRANCH_CLERK, if_match=True))]


class NewThing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thing_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    branch_id: str


router = APIRouter()


@router.post("/things", status_code=201)
async def name_thing(
    body: NewThing,
    cmd: Clerk,
    request: Request,
    response: Response,
) -> dict[str, object]:
    principal = cmd.principal
    require_branch(principal, body.branch_id)
    event = NewEvent(
        type="ThingNamed",
        data={"name": body.name},
        branch_id=body.branch_id,
        actor=principal.actor(Role.BRANCH_CLERK),
        correlation_id=current_correlation_id(),
    )
    result = await request.app.state.store.append(
        f"thing-{body.thing_id}", [event], cmd.expected, idempotency_key=cmd.idempotency_key
    )
    response.headers["ETag"] = etag(result.last_version)
    return {"thing_id": body.thing_id, "version": result.last_version}


@router.get("/things/{thing_id}")
async def get_thing(thing_id: str, request: Request, response: Response) -> dict[str, object]:
    events = await request.app.state.store.read_stream(f"thing-{thing_id}")
    if not events:
        raise not_found(f"no thing {thing_id}")
    response.headers["ETag"] = etag(events[-1].version)
    return {"thing_id": thing_id, "name": events[-1].data["name"], "version": events[-1].version}


@router.post("/slow/{thing_id}", status_code=201)
async def slow(thing_id: str, cmd: Clerk, request: Request) -> dict:
    """Appends, then waits at a gate the test opens: lets two requests overlap for certain."""
    event = NewEvent(type="ThingNamed", data={"name": "slow"}, actor=cmd.principal.actor())
    result = await request.app.state.store.append(
        f"thing-{thing_id}", [event], None, idempotency_key=cmd.idempotency_key
    )
    request.app.state.arrived += 1
    if request.app.state.arrived == 2:
        request.app.state.both_in.set()
    await request.app.state.gate.wait()
    return {"answer": uuid.uuid4().hex, "replayed_append": result.replayed}


@router.post("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals: do not leak")


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    secret: str
    background_seen: list[AppContext]
    background_cancelled: asyncio.Event

    def token(self, sub="clerk-1", roles=(Role.BRANCH_CLERK,), branch_id="B1", **kw) -> str:
        return mint_token(self.secret, sub, roles, branch_id=branch_id, **kw)

    def auth(self, **kw) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kw)}"}

    async def event_count(self) -> int:
        return int(await self.app.state.pool.fetchval("SELECT count(*) FROM events"))


@pytest.fixture
async def service(settings):
    settings = long_secret(settings)
    seen: list[AppContext] = []
    cancelled = asyncio.Event()

    async def heartbeat(ctx: AppContext) -> None:
        seen.append(ctx)
        ctx.metrics.relay_lag.labels(ctx.service).set(7)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = create_service_app(
        settings, service=SERVICE, title="Things", routers=[router], background=[heartbeat]
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Service(app, client, settings.jwt_secret, seen, cancelled)
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))


def thing(thing_id="t1", name="lathe", branch_id="B1") -> dict[str, str]:
    return {"thing_id": thing_id, "name": name, "branch_id": branch_id}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert {"type", "title"} <= body.keys()
    return body


async def test_health_and_ready_answer_ok_when_database_and_broker_are_up(service):
    health = await service.client.get("/health")
    ready = await service.client.get("/ready")

    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"] == "ok"
    assert checks["task:things:heartbeat"] == "ok"


async def test_ready_is_503_naming_the_broker_when_its_connection_is_closed(service):
    await service.app.state.amqp.close()

    response = await service.client.get("/ready")

    body = assert_problem(response, 503)
    assert "broker" in body["detail"]
    assert body["checks"]["database"] == "ok"


async def test_background_task_gets_the_context_and_is_cancelled_on_shutdown(settings):
    settings = long_secret(settings)
    seen: list[AppContext] = []
    stopped = asyncio.Event()

    async def worker(ctx: AppContext) -> None:
        seen.append(ctx)
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    app = create_service_app(settings, service=SERVICE, title="T", routers=[], background=[worker])
    try:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0)  # let the task start
            assert seen and seen[0].pool is app.state.pool and seen[0].store is app.state.store
            assert not stopped.is_set()
        assert stopped.is_set()
        assert app.state.amqp.is_closed
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))


@pytest.mark.parametrize(
    ("workers", "running"),
    [
        (
            ["relay", "consumers", "projections"],
            ["custom", "projections", "purge_idempotency", "relay"],
        ),
        (["projections"], ["custom", "projections", "purge_idempotency"]),
        ([], ["custom", "purge_idempotency"]),  # every process purges stored answers
    ],
)
async def test_gradeline_workers_choose_the_standard_workers_a_process_runs(
    settings, workers, running
):
    settings = long_secret(settings).model_copy(update={"workers": workers})

    async def custom(ctx: AppContext) -> None:
        await asyncio.sleep(3600)

    background = [shared_workers.relay(), shared_workers.projections([]), custom]
    app = create_service_app(
        settings, service=SERVICE, title="T", routers=[], background=background
    )
    try:
        async with app.router.lifespan_context(app):
            names = sorted(t.get_name().split(":")[1].removeprefix("run_") for t in app.state.tasks)
            assert names == running
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))


async def test_metrics_expose_gradeline_series_refreshed_at_scrape_time(service):
    calls = []

    async def refresh() -> None:
        calls.append(1)
        service.app.state.metrics.dlq_depth.labels(SERVICE).set(3)

    service.app.state.metrics.add_refresher(refresh)
    await service.client.post("/things", json=thing(), headers=service.auth())

    text = (await service.client.get("/metrics")).text

    assert calls == [1]
    assert 'gradeline_events_appended_total{service="things"} 1.0' in text
    assert 'gradeline_dlq_depth{service="things"} 3.0' in text
    assert 'gradeline_relay_lag_events{service="things"} 7.0' in text
    for name in ("gradeline_consumer_lag_messages", "gradeline_projection_lag_events"):
        assert f"# TYPE {name} gauge" in text
    assert 'gradeline_http_request_duration_seconds_count{method="POST",route="/things"' in text


async def test_a_failing_refresher_does_not_break_the_scrape(service):
    async def broken() -> None:
        raise ConnectionError("broker gone")

    service.app.state.metrics.add_refresher(broken)

    response = await service.client.get("/metrics")

    assert response.status_code == 200
    assert "gradeline_dlq_depth" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": f"Bearer {ALG_NONE_TOKEN}"},
    ],
    ids=["no-token", "garbage", "alg-none"],
)
async def test_unauthenticated_write_is_401_and_appends_nothing(service, headers):
    response = await service.client.post("/things", json=thing(), headers=headers)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await service.event_count() == 0


async def test_expired_and_foreign_tokens_are_401(service):
    expired = service.auth(ttl_seconds=-1)
    foreign = {"Authorization": "Bearer " + mint_token("x" * 40, "clerk-1", ["branch_clerk"])}

    for headers in (expired, foreign):
        assert_problem(await service.client.post("/things", json=thing(), headers=headers), 401)


async def test_wrong_role_is_403(service):
    response = await service.client.post(
        "/things", json=thing(), headers=service.auth(roles=[Role.TRAINER])
    )

    assert_problem(response, 403)
    assert await service.event_count() == 0


async def test_clerk_of_another_branch_is_403(service):
    response = await service.client.post(
        "/things", json=thing(branch_id="B2"), headers=service.auth(branch_id="B1")
    )

    assert "B2" in assert_problem(response, 403)["detail"]
    assert await service.event_count() == 0


async def test_validation_error_is_422_naming_the_field(service):
    body = {"thing_id": "t1", "branch_id": "B1"}

    response = await service.client.post("/things", json=body, headers=service.auth())

    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["body.name"]
    assert problem["errors"][0]["type"] == "missing"


async def test_malformed_json_is_422_naming_the_body(service):
    headers = {**service.auth(), "Content-Type": "application/json"}

    response = await service.client.post("/things", content=b'{"name": ', headers=headers)

    assert assert_problem(response, 422)["errors"][0]["field"] == "body"


async def test_write_returns_etag_and_read_shows_the_same_version(service):
    created = await service.client.post("/things", json=thing(), headers=service.auth())
    read = await service.client.get("/things/t1")

    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    assert read.json() == {"thing_id": "t1", "name": "lathe", "version": 1}
    assert read.headers["etag"] == '"1"'


async def test_missing_thing_is_404_problem(service):
    assert_problem(await service.client.get("/things/nope"), 404)


async def test_stale_if_match_is_412_and_current_one_succeeds(service):
    headers = service.auth()
    await service.client.post("/things", json=thing(), headers=headers)

    stale = await service.client.post(
        "/things", json=thing(name="mill"), headers={**headers, "If-Match": '"0"'}
    )
    current = await service.client.post(
        "/things", json=thing(name="mill"), headers={**headers, "If-Match": '"1"'}
    )

    assert assert_problem(stale, 412)["current_version"] == 1
    assert current.status_code == 201
    assert current.headers["etag"] == '"2"'


async def test_malformed_if_match_is_422_naming_the_header(service):
    response = await service.client.post(
        "/things", json=thing(), headers={**service.auth(), "If-Match": "W/1"}
    )

    assert assert_problem(response, 422)["errors"][0]["field"] == "header.If-Match"


async def test_idempotent_repeat_replays_the_first_response_and_appends_nothing(service):
    headers = {**service.auth(), "Idempotency-Key": "k-1"}
    first = await service.client.post("/things", json=thing(), headers=headers)
    reordered = {"branch_id": "B1", "name": "lathe", "thing_id": "t1"}  # same JSON, other order

    repeat = await service.client.post("/things", json=reordered, headers=headers)

    assert first.status_code == repeat.status_code == 201
    assert repeat.content == first.content
    assert repeat.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert repeat.headers["etag"] == first.headers["etag"]
    assert repeat.headers["content-type"] == first.headers["content-type"]
    assert await service.event_count() == 1


async def test_same_key_with_a_different_body_is_422_naming_the_header(service):
    headers = {**service.auth(), "Idempotency-Key": "k-1"}
    await service.client.post("/things", json=thing(), headers=headers)

    response = await service.client.post("/things", json=thing(name="mill"), headers=headers)

    problem = assert_problem(response, 422)
    assert "Idempotency-Key" in problem["detail"]
    assert problem["errors"][0]["field"] == "header.Idempotency-Key"
    assert await service.event_count() == 1


async def test_a_key_belongs_to_the_concrete_path_not_the_route_template(service):
    """One key, one route, two trainee-like ids: each is its own request (ADR 0010)."""
    state = service.app.state
    state.gate, state.both_in, state.arrived = asyncio.Event(), asyncio.Event(), 1
    state.gate.set()
    headers = {**service.auth(), "Idempotency-Key": "per-path"}
    first = await service.client.post("/slow/t1", headers=headers)

    other = await service.client.post("/slow/t2", headers=headers)

    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json()["replayed_append"] is False
    assert "idempotent-replayed" not in other.headers


async def test_two_clients_using_one_key_do_not_collide(service):
    alice = {**service.auth(sub="alice"), "Idempotency-Key": "same"}
    bob = {**service.auth(sub="bob"), "Idempotency-Key": "same"}

    a = await service.client.post("/things", json=thing("ta"), headers=alice)
    b = await service.client.post("/things", json=thing("tb"), headers=bob)

    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotent-replayed" not in b.headers
    assert await service.event_count() == 2


async def test_concurrent_requests_with_one_key_append_once_and_answer_alike(service):
    headers = {**service.auth(), "Idempotency-Key": "race"}

    responses = await asyncio.gather(
        *(service.client.post("/things", json=thing(), headers=headers) for _ in range(8))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert await service.event_count() == 1


async def test_overlapping_requests_with_one_key_both_get_the_response_stored_first(service):
    state = service.app.state
    state.gate, state.both_in, state.arrived = asyncio.Event(), asyncio.Event(), 0
    headers = {**service.auth(), "Idempotency-Key": "overlap"}
    calls = [asyncio.create_task(service.client.post("/slow/t1", headers=headers)) for _ in "ab"]
    # Both handlers have appended before either response is stored.
    await asyncio.wait_for(state.both_in.wait(), 10)
    state.gate.set()

    first, second = await asyncio.gather(*calls)

    assert first.content == second.content
    # Both handlers produced a fresh "answer"; the later one to store answers with the first's.
    replayed = sorted(str(r.headers.get("idempotent-replayed")) for r in (first, second))
    assert replayed == ["None", "true"]
    assert await service.event_count() == 1


async def test_a_lost_stored_answer_still_answers_the_client_and_a_retry_appends_nothing(service):
    """The effect is committed before its answer is stored: a failure to store the answer is
    no reason for a 500 (the client would retry a command that succeeded)."""
    pool = service.app.state.pool
    await pool.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;"
        " CREATE TRIGGER refuse BEFORE INSERT ON http_idempotency"
        " FOR EACH ROW EXECUTE FUNCTION refuse()"
    )
    headers = {**service.auth(), "Idempotency-Key": "k-lost"}
    try:
        first = await service.client.post("/things", json=thing(), headers=headers)
    finally:
        await pool.execute("DROP TRIGGER refuse ON http_idempotency")
    retry = await service.client.post("/things", json=thing(), headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert await service.event_count() == 1


async def test_rejected_request_is_replayed_too_but_server_errors_are_not_stored(service):
    headers = {**service.auth(), "Idempotency-Key": "k-422"}
    first = await service.client.post("/things", json=thing(name=""), headers=headers)
    again = await service.client.post("/things", json=thing(name=""), headers=headers)
    boom_headers = {**service.auth(), "Idempotency-Key": "k-500"}
    await service.client.post("/boom", json={}, headers=boom_headers)

    stored = await service.app.state.pool.fetchval(
        "SELECT count(*) FROM http_idempotency WHERE key = 'k-500'"
    )

    assert (first.status_code, again.status_code) == (422, 422)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == PROBLEM_JSON
    assert stored == 0


async def test_invalid_idempotency_key_is_422(service):
    headers = {**service.auth(), "Idempotency-Key": "x" * 300}

    response = await service.client.post("/things", json=thing(), headers=headers)

    assert assert_problem(response, 422)["errors"][0]["field"] == "header.Idempotency-Key"


async def test_body_over_the_limit_is_413_problem(service):
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    headers = {**service.auth(), "Content-Type": "application/json"}

    response = await service.client.post("/things", content=big, headers=headers)

    assert assert_problem(response, 413)["type"].endswith("/too-large")
    assert await service.event_count() == 0


async def test_streamed_body_over_the_limit_is_413_even_without_content_length(service):
    async def chunks():
        for _ in range(3):
            yield b"x" * (1024 * 1024)

    for extra in ({}, {"Idempotency-Key": "k-big"}):
        headers = {**service.auth(), "Content-Type": "application/json", **extra}
        response = await service.client.post("/things", content=chunks(), headers=headers)

        assert "content-length" not in response.request.headers
        assert_problem(response, 413)


async def test_unhandled_error_is_a_500_problem_without_internals(service):
    response = await service.client.post("/boom", json={})

    body = assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"]
    assert "x-correlation-id" in response.headers


async def test_correlation_id_is_echoed_and_stamped_on_appended_events(service):
    correlation = uuid.uuid4()
    headers = {**service.auth(), "X-Correlation-ID": str(correlation)}

    response = await service.client.post("/things", json=thing(), headers=headers)
    generated = await service.client.get("/health")
    events = await service.app.state.store.read_stream("thing-t1")

    assert response.headers["x-correlation-id"] == str(correlation)
    assert events[0].correlation_id == correlation
    assert uuid.UUID(generated.headers["x-correlation-id"]) != correlation


async def test_unknown_route_is_a_404_problem(service):
    assert_problem(await service.client.get("/nowhere"), 404)


async def test_openapi_documents_the_conventions_headers_and_bearer_auth(service):
    spec = (await service.client.get("/openapi.json")).json()

    post = spec["paths"]["/things"]["post"]
    headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
    assert {"If-Match", "Idempotency-Key"} <= headers
    assert post["security"] == [{"HTTPBearer": []}]
    assert "/metrics" not in spec["paths"]


# --- CORS: the dashboard served by one service calls the others from the browser ----------------


def _preflight(origin: str, headers: str = "authorization,if-match,idempotency-key") -> dict:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_preflight_from_a_service_origin_is_allowed_with_the_api_headers(service):
    origin = f"http://127.0.0.1:{service.app.state.settings.port('assessment')}"

    response = await service.client.options("/things", headers=_preflight(origin))

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "if-match", "idempotency-key", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers  # bearer tokens, no cookies
    assert await service.event_count() == 0


async def test_preflight_from_an_unknown_origin_is_refused(service):
    response = await service.client.options("/things", headers=_preflight("https://evil.example"))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_cross_origin_answers_expose_the_etag_and_errors_carry_cors_headers(service):
    origin = f"http://localhost:{service.app.state.settings.port('compensation')}"
    created = await service.client.post(
        "/things", json=thing(), headers={**service.auth(), "Origin": origin}
    )
    refused = await service.client.post("/things", json=thing(), headers={"Origin": origin})

    assert created.headers["access-control-allow-origin"] == origin
    assert "etag" in created.headers["access-control-expose-headers"].lower()
    # A browser shows the page a 401 only when the answer allows its origin.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == origin


async def test_cors_origins_setting_replaces_the_defaults(settings):
    settings = long_secret(settings).model_copy(update={"cors_origins": ["https://dash.example"]})
    app = create_service_app(settings, service=SERVICE, title="T", routers=[router])
    transport = httpx.ASGITransport(app=app)  # no lifespan: a preflight touches no resource
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        configured = await client.options("/things", headers=_preflight("https://dash.example"))
        default = await client.options("/things", headers=_preflight("http://127.0.0.1:8003"))

    assert configured.headers["access-control-allow-origin"] == "https://dash.example"
    assert default.status_code == 400


async def test_a_background_task_that_died_fails_health_and_ready(settings):
    """Relay, consumer and runner retry every outage; one that ends anyway is a bug: liveness
    fails so the orchestrator restarts the process."""
    settings = long_secret(settings)

    async def broken(ctx: AppContext) -> None:
        raise RuntimeError("a bug")

    app = create_service_app(settings, service=SERVICE, title="T", routers=[], background=[broken])
    try:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.05)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                health = await client.get("/health")
                ready = await client.get("/ready")
        assert health.status_code == 503 and "things:broken" in health.json()["detail"]
        assert ready.status_code == 503
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))
