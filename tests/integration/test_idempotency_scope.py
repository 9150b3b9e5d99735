"""Who takes part in ``Idempotency-Key`` handling, what a key covers, and how long an answer is
kept (docs/http.md; the IETF Idempotency-Key draft), against real PostgreSQL:

- only requests of a verified principal: without a valid token nothing is remembered;
- 401 and 403 answers are about the caller, not the request, and are never stored;
- a key covers one method on one concrete path: reused on another trainee's route it is that
  route's own request, and never answered with (or applied as) the first trainee's;
- a housekeeping job in every service process purges answers past the retention period, and
  reports its runs and what it purged in ``/metrics``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from shared import db
from shared.api import create_service_app
from shared.auth import Role, mint_token, require_branch
from shared.commands import CommandContext, command
from shared.events import NewEvent
from shared.requests import RequestBody
from shared.settings import Settings

SERVICE = "things"
Clerk = Annotated[CommandContext, Depends(command(Role.BRANCH_CLERK))]
router = APIRouter()


class Note(RequestBody):
    text: str
    branch_id: str = "B1"


@router.post("/trainees/{trainee_id}/notes", status_code=201)
async def add_note(trainee_id: str, body: Note, cmd: Clerk, request: Request) -> dict:
    require_branch(cmd.principal, body.branch_id)
    event = NewEvent(type="NoteAdded", data={"text": body.text}, actor=cmd.principal.actor())
    result = await request.app.state.store.append(
        f"notes-{trainee_id}", [event], None, idempotency_key=cmd.idempotency_key
    )
    return {"trainee_id": trainee_id, "version": result.last_version}


class Things:
    def __init__(self, app, client: httpx.AsyncClient, settings: Settings) -> None:
        self.app, self.client, self.settings = app, client, settings

    @property
    def pool(self):
        return self.app.state.pool

    def auth(self, key: str, roles=(Role.BRANCH_CLERK,), sub="clerk-1") -> dict[str, str]:
        token = mint_token(self.settings.jwt_secret, sub, roles, branch_id="B1")
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}

    async def note(self, trainee: str, headers: dict[str, str], **body) -> httpx.Response:
        return await self.client.post(
            f"/trainees/{trainee}/notes", json={"text": "hello", **body}, headers=headers
        )

    async def stored(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM http_idempotency"))

    async def notes_of(self, trainee: str) -> int:
        return len(await self.app.state.store.read_stream(f"notes-{trainee}"))


@pytest.fixture
async def things(settings):
    app = create_service_app(settings, service=SERVICE, title="Things", routers=[router])
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Things(app, client, settings)
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token", "Basic Ym9zczpwdw=="],
    ids=["none", "bad", "basic"],
)
async def test_a_request_without_a_valid_token_leaves_nothing_stored(things, authorization):
    headers = {"Idempotency-Key": "anon-1"}
    if authorization is not None:
        headers["Authorization"] = authorization

    first = await things.note("t1", headers)
    again = await things.note("t1", headers)

    assert (first.status_code, again.status_code) == (401, 401)
    assert "idempotent-replayed" not in again.headers
    assert await things.stored() == 0


async def test_a_403_is_not_stored_so_the_caller_may_retry_once_permitted(things):
    wrong_role = things.auth("k-role", roles=(Role.TRAINER,))
    other_branch = things.auth("k-branch")

    assert (await things.note("t1", wrong_role)).status_code == 403
    assert (await things.note("t1", other_branch, branch_id="B9")).status_code == 403

    assert await things.stored() == 0
    granted = await things.note("t1", things.auth("k-role"))  # the same key, now as a clerk
    assert granted.status_code == 201, granted.text
    assert "idempotent-replayed" not in granted.headers


async def test_a_key_reused_on_another_trainees_route_is_that_routes_own_request(things):
    headers = things.auth("one-key")
    first = await things.note("t1", headers)

    other = await things.note("t2", headers)

    assert (first.status_code, other.status_code) == (201, 201), other.text
    assert "idempotent-replayed" not in other.headers
    assert other.json() == {"trainee_id": "t2", "version": 1}
    assert (await things.notes_of("t1"), await things.notes_of("t2")) == (1, 1)
    repeat = await things.note("t2", headers)  # and it replays as its own
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json() == other.json()


async def test_once_the_answer_is_purged_a_key_reused_elsewhere_still_applies_there(things):
    """The event store remembers the key's effect after the stored answer is purged: that
    memory must not answer another trainee's request with the first trainee's append."""
    from shared.idempotency import purge_expired_answers

    headers = things.auth("old-key")
    assert (await things.note("t1", headers)).status_code == 201
    await things.pool.execute("UPDATE http_idempotency SET created_at = now() - interval '8 days'")
    assert await purge_expired_answers(things.pool, timedelta(days=7)) == 1

    other = await things.note("t2", headers)
    retry = await things.note("t1", headers)  # the first request again: its effect, once

    assert other.status_code == 201, other.text
    assert await things.notes_of("t2") == 1
    assert retry.status_code == 201 and await things.notes_of("t1") == 1


async def test_purge_removes_only_answers_past_the_retention(things):
    from shared.idempotency import purge_expired_answers

    for trainee in ("t1", "t2", "t3"):
        assert (await things.note(trainee, things.auth(f"k-{trainee}"))).status_code == 201
    await things.pool.execute(
        "UPDATE http_idempotency SET created_at = now() - CASE WHEN key = 'k-t1'"
        " THEN interval '8 days' WHEN key = 'k-t2' THEN interval '6 days' ELSE interval '0' END"
    )

    purged = await purge_expired_answers(things.pool, timedelta(days=7), batch_size=1)

    assert purged == 1
    kept = await things.pool.fetch("SELECT key FROM http_idempotency ORDER BY key")
    assert [row["key"] for row in kept] == ["k-t2", "k-t3"]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` of service "things" with ``labels`` (0 when absent)."""
    wanted = {"service": "things", **labels}
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    return sum(s.value for s in samples if s.name == name and s.labels == wanted)


async def test_the_service_purges_periodically_and_shows_its_runs_in_metrics(settings):
    settings = settings.model_copy(update={"idempotency_purge_interval_seconds": 0.2})
    app = create_service_app(settings, service=SERVICE, title="Things", routers=[router])
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                things = Things(app, client, settings)
                assert (await things.note("t1", things.auth("k-old"))).status_code == 201
                await things.pool.execute(
                    "UPDATE http_idempotency SET created_at = now() - interval '30 days'"
                )
                async with asyncio.timeout(10):
                    while await things.stored():
                        await asyncio.sleep(0.1)
                scraped = (await client.get("/metrics")).text
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name(SERVICE))

    assert metric(scraped, "gradeline_idempotency_purged_total") >= 1
    assert metric(scraped, "gradeline_idempotency_purge_runs_total", outcome="ok") >= 1


def test_retention_defaults_to_seven_days_and_is_at_least_a_day(monkeypatch):
    monkeypatch.delenv("GRADELINE_IDEMPOTENCY_RETENTION", raising=False)
    assert Settings().idempotency_retention == timedelta(days=7)
    monkeypatch.setenv("GRADELINE_IDEMPOTENCY_RETENTION", "P30D")
    assert Settings().idempotency_retention == timedelta(days=30)
    monkeypatch.setenv("GRADELINE_IDEMPOTENCY_RETENTION", "3600")
    with pytest.raises(ValidationError, match="idempotency_retention"):
        Settings()
