"""Policies as data against the real store (docs/policy.md): the shipped versions seeded once,
a malformed version refused whole with every problem, a version published today deciding the
next grade while an audit re-derives an earlier one under its own version, and a version
published through one app used by another app of the same namespace."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import httpx

from services.assessment.app import create_app
from shared.auth import Role

from .helpers import Assessment


def vp(svc: Assessment) -> dict[str, str]:
    return svc.service.as_("vp-1", Role.EXEC_VP)


async def stored(svc: Assessment, stream: str) -> int:
    return int(await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream))


async def in_force(svc: Assessment, name: str) -> dict:
    answer = await svc.client.get(f"/policies/{name}", headers=svc.management())
    assert answer.status_code == 200, answer.text
    return answer.json()


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def stricter_grading(svc: Assessment, version: str, effective_from: str) -> dict:
    """R-20 with engineer intermediate from 96 instead of 94 (95.5 then earns engineer junior)."""
    document = copy.deepcopy((await in_force(svc, "grading"))["in_force"]["document"])
    bands = document["bands"]
    next(b for b in bands if (b["position"], b["level"]) == ("engineer", "intermediate"))[
        "min_score"
    ] = "96"
    return {"version": version, "effective_from": effective_from, "document": document}


async def test_the_shipped_versions_are_the_first_published_once(svc):
    grading, fines = await in_force(svc, "grading"), await in_force(svc, "fines")
    assert [v["version"] for v in grading["versions"]] == ["grading-2026.1"]
    assert grading["in_force"]["document"]["bands"][0] == {
        "min_score": "97",
        "position": "engineer",
        "level": "senior",
    }
    assert "fine_tiers" not in grading["in_force"]["document"]  # R-24 is its own policy now
    assert [v["version"] for v in fines["versions"]] == ["fines-2026.1"]
    assert await stored(svc, "policy-grading") == 1 and await stored(svc, "policy-fines") == 1
    row = await svc.pool.fetchrow(
        "SELECT type, actor FROM events WHERE stream_id = 'policy-grading'"
    )
    assert (row["type"], row["actor"]) == ("PolicyPublished", {"sub": "system", "role": "system"})
    # A second app on the same namespace (a restart, or a replica) seeds nothing again.
    async with restarted(svc) as again:
        assert (await again.get("/policies/grading", headers=vp(svc))).status_code == 200
    assert await stored(svc, "policy-grading") == 1 and await stored(svc, "policy-fines") == 1


async def test_a_policy_another_service_applies_is_a_404_naming_it(svc):
    answer = await svc.client.get("/policies/pay", headers=svc.management())
    assert answer.status_code == 404 and "compensation" in answer.json()["detail"]
    answer = await svc.client.post("/policies/placement", json={}, headers=vp(svc))
    assert answer.status_code == 404 and "enrollment" in answer.json()["detail"]
    answer = await svc.client.post("/policies/fees/diff", json={}, headers=vp(svc))
    assert answer.status_code == 404 and "compensation" in answer.json()["detail"]
    answer = await svc.client.get("/policies/bonuses", headers=svc.management())
    assert answer.status_code == 404 and "grading" in answer.json()["detail"]


async def test_a_malformed_version_is_refused_whole_with_every_problem(svc):
    draft = await stricter_grading(svc, "grading-2027.1", today())
    document = draft["document"]
    document["bands"][0]["min_score"] = "93"  # engineer senior below engineer intermediate
    document["bands"] = document["bands"][:-1]  # technician junior missing
    document["written_pass_mark"] = "180"
    document["eligibility"] = document["eligibility"][:1]  # technician's entry missing
    before = await svc.pool.fetchval("SELECT count(*) FROM events")
    answer = await svc.client.post("/policies/grading", json=draft, headers=vp(svc))
    assert answer.status_code == 422, answer.text
    problems = {(e["field"], e["message"]) for e in answer.json()["errors"]}
    fields = {field for field, _ in problems}
    assert {
        "body.document.written_pass_mark",
        "body.document.bands[1]",
        "body.document.bands",
        "body.document.eligibility",
    } <= fields
    assert ("body.document.bands", "technician/junior is missing") in problems
    assert ("body.document.eligibility", "technician is missing") in problems
    # A field that does not parse is listed with the others of its kind, and the date too.
    draft["document"]["practical_spread_review"] = "lots"
    draft["effective_from"] = "2020-01-01"
    draft["version"] = "fines-2027.1"
    answer = await svc.client.post("/policies/grading", json=draft, headers=vp(svc))
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {
        "body.document.practical_spread_review",
        "body.effective_from",
        "body.version",
    }
    assert await svc.pool.fetchval("SELECT count(*) FROM events") == before


async def test_a_version_published_today_grades_the_next_sitting_and_audits_keep_theirs(svc):
    await svc.enrol("t-before")
    await svc.enrol("t-after")
    assert (await svc.open_session("s-1")).status_code == 201
    earlier = (await svc.sit("s-1", "t-before")).json()["decision"]
    assert (earlier["level"], earlier["policy_version"]) == ("intermediate", "grading-2026.1")

    draft = await stricter_grading(svc, "grading-2027.1", today())
    preview = await svc.client.post("/policies/grading/diff", json=draft, headers=vp(svc))
    assert preview.status_code == 200, preview.text
    assert preview.json()["changes"] == ["bands[engineer/intermediate].min_score: 94 → 96"]
    assert await stored(svc, "policy-grading") == 1  # a preview stores nothing
    key = {"Idempotency-Key": "publish-grading-2027.1"}
    published = await svc.client.post("/policies/grading", json=draft, headers={**vp(svc), **key})
    assert published.status_code == 201, published.text
    assert published.json()["against"] == "grading-2026.1"
    assert published.json()["changes"] == ["bands[engineer/intermediate].min_score: 94 → 96"]
    again = await svc.client.post("/policies/grading", json=draft, headers={**vp(svc), **key})
    assert again.status_code == 201 and again.json() == published.json()  # the same key: replay
    taken = await svc.client.post("/policies/grading", json=draft, headers=vp(svc))
    assert taken.status_code == 409  # the name is published already
    assert await stored(svc, "policy-grading") == 2

    later = (await svc.sit("s-1", "t-after")).json()["decision"]
    assert (later["position"], later["level"]) == ("engineer", "junior")
    assert later["policy_version"] == "grading-2027.1"
    for trainee in ("t-before", "t-after"):
        audit = await svc.client.get(f"/trainees/{trainee}/audit", headers=svc.auditor())
        assert audit.status_code == 200 and audit.json()["consistent"] is True, audit.text


async def test_the_version_in_force_on_a_day_and_the_roles_that_publish(svc):
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    draft = await stricter_grading(svc, "grading-2027.2", tomorrow)
    refused = await svc.client.post(
        "/policies/grading", json=draft, headers=svc.service.as_("pay-1", Role.PAYROLL)
    )
    assert refused.status_code == 403
    assert (
        await svc.client.post("/policies/grading", json=draft, headers=vp(svc))
    ).status_code == 201
    now = await in_force(svc, "grading")
    assert now["in_force"]["version"] == "grading-2026.1"  # not before its effective date
    answer = await svc.client.get(f"/policies/grading?at={tomorrow}", headers=svc.trainee("t-1"))
    assert answer.json()["in_force"]["version"] == "grading-2027.2"


async def test_a_version_published_through_one_app_is_used_by_another(svc):
    await svc.enrol("t-other")
    assert (await svc.open_session("s-2")).status_code == 201
    async with restarted(svc) as other:
        draft = await stricter_grading(svc, "grading-2027.3", today())
        assert (
            await other.post("/policies/grading", json=draft, headers=vp(svc))
        ).status_code == 201
        # The first app has read the stream before: it reads the new version before deciding.
        decided = (await svc.sit("s-2", "t-other")).json()["decision"]
        assert (decided["level"], decided["policy_version"]) == ("junior", "grading-2027.3")


class restarted:
    """A second app of the same namespace (a replica), as a client; its database is kept."""

    def __init__(self, svc: Assessment) -> None:
        self.app = create_app(svc.service.settings)

    async def __aenter__(self) -> httpx.AsyncClient:
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://test")
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.lifespan.__aexit__(None, None, None)


async def test_replicas_starting_together_seed_each_version_once(settings):
    """Two apps of one namespace start at the same moment: one copy of each shipped version."""
    import asyncio
    from contextlib import AsyncExitStack

    from shared import db
    from tests.support import long_secret

    from .helpers import delete_topology

    settings = long_secret(settings).model_copy(update={"pool_size": 3, "consumer_partitions": 1})
    apps = [create_app(settings), create_app(settings)]
    try:
        async with AsyncExitStack() as stack:
            await asyncio.gather(
                *(stack.enter_async_context(a.router.lifespan_context(a)) for a in apps)
            )
            counts = await apps[0].state.pool.fetch(
                "SELECT stream_id, count(*) FROM events WHERE stream_id LIKE 'policy-%'"
                " GROUP BY stream_id ORDER BY stream_id"
            )
            assert [tuple(r) for r in counts] == [("policy-fines", 1), ("policy-grading", 1)]
    finally:
        await db.drop_database(settings.pg_dsn, settings.database_name("assessment"))
        await delete_topology(settings, ["assessment"])


async def test_text_postgresql_cannot_store_and_a_day_not_iso_are_422(svc):
    draft = await stricter_grading(svc, "grading-2027.9", today())
    draft["document"]["practical_departments"][0] = "tech\u0000nical"
    answer = await svc.client.post("/policies/grading", json=draft, headers=vp(svc))
    assert answer.status_code == 422 and answer.json()["errors"][0]["type"] == "nul_character"
    assert await stored(svc, "policy-grading") == 1
    answer = await svc.client.get("/policies/grading?at=0", headers=vp(svc))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "query.at"
