"""The enrollment routes over HTTP against real PostgreSQL and RabbitMQ (docs/http.md)."""

from __future__ import annotations

import asyncio

import pytest

from shared.auth import Role
from shared.problems import PROBLEM_JSON
from tests.support import enrolment, register_branches

CLERK_NORTH = ("clerk-n", Role.BRANCH_CLERK)
MANAGER = ("mgr", Role.AFTER_SALES_MANAGER)


@pytest.fixture
async def svc(svc):
    """The service (conftest) with the demo's branches registered."""
    await register_branches(svc)
    return svc


def clerk(svc, branch="dl-north"):
    return svc.as_("clerk-" + branch, Role.BRANCH_CLERK, branch_id=branch)


def manager(svc):
    return svc.as_("mgr", Role.AFTER_SALES_MANAGER)


def trainee_body(**changes):
    return enrolment("t-100", certificates=["electrician"]) | changes


async def enrol(svc, headers=None, **changes):
    return await svc.client.post(
        "/trainees", json=trainee_body(**changes), headers=headers or clerk(svc)
    )


async def test_clerk_enrols_into_own_branch_and_reads_it_back_with_an_etag(svc):
    created = await enrol(svc)
    assert created.status_code == 201, created.text
    assert created.json() == {"trainee_id": "t-100", "version": 1}
    assert created.headers["ETag"] == '"1"'
    shown = await svc.client.get("/trainees/t-100", headers=clerk(svc))
    assert shown.status_code == 200
    body = shown.json()
    assert (body["name"], body["status"], body["experience_years"], body["version"]) == (
        "李娜",
        "enrolled",
        "2",
        1,
    )
    assert shown.headers["ETag"] == '"1"'
    event = await svc.pool.fetchrow(
        "SELECT actor, branch_id FROM events WHERE stream_id = 'trainee-t-100'"
    )
    assert event["actor"] == {"sub": "clerk-dl-north", "role": "branch_clerk"}
    assert event["branch_id"] == "dl-north"


async def test_enrolment_without_id_gets_one(svc):
    created = await enrol(svc, trainee_id=None)
    assert created.status_code == 201
    assert created.json()["trainee_id"].startswith("t-")


async def test_missing_token_is_401_and_wrong_role_or_branch_is_403(svc):
    assert (await svc.client.post("/trainees", json=trainee_body())).status_code == 401
    trainer = svc.as_("tr-1", Role.TRAINER, branch_id="dl-north")
    assert (await enrol(svc, headers=trainer)).status_code == 403
    other_branch = await enrol(svc, headers=clerk(svc, "dl-south"))
    assert other_branch.status_code == 403
    assert other_branch.headers["content-type"] == PROBLEM_JSON
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'trainee-%'") == 0
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "intern"}, "body.category"),
        ({"education": "kindergarten"}, "body.education"),
        ({"experience_years": -1}, "body.experience_years"),
        ({"name": ""}, "body.name"),
        ({"enrolled_on": "yesterday"}, "body.enrolled_on"),
        ({"branch_id": "nowhere"}, "body.branch_id"),
        ({"category": "hq_full_time"}, "body.category"),  # HQ staff do not belong to a dealer
    ],
)
async def test_bad_values_are_422_naming_the_field_and_change_nothing(svc, changes, field):
    headers = manager(svc)
    answer = await enrol(svc, headers=headers, **changes)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'trainee-%'") == 0
    )


async def test_enrolling_the_same_id_twice_is_409(svc):
    assert (await enrol(svc)).status_code == 201
    again = await enrol(svc, name="someone else")
    assert again.status_code == 409
    assert again.json()["type"].endswith("/conflict")


async def test_idempotent_repeat_replays_and_a_changed_body_is_422(svc):
    headers = {**clerk(svc), "Idempotency-Key": "enrol-100"}
    first = await svc.client.post("/trainees", json=trainee_body(trainee_id=None), headers=headers)
    again = await svc.client.post("/trainees", json=trainee_body(trainee_id=None), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    changed = await svc.client.post("/trainees", json=trainee_body(name="other"), headers=headers)
    assert changed.status_code == 422
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'trainee-%'") == 1
    )


async def test_other_branch_and_other_trainee_see_404(svc):
    await enrol(svc)
    assert (
        await svc.client.get("/trainees/t-100", headers=clerk(svc, "dl-south"))
    ).status_code == 404
    itself = svc.as_("t-100", Role.TRAINEE)
    assert (await svc.client.get("/trainees/t-100", headers=itself)).status_code == 200
    other = svc.as_("t-999", Role.TRAINEE)
    assert (await svc.client.get("/trainees/t-100", headers=other)).status_code == 404
    assert (await svc.client.get("/trainees/t-nope", headers=manager(svc))).status_code == 404


@pytest.mark.parametrize(
    ("scores", "position", "plan_level"),
    [
        ({"written": 79.9}, "reserve", "basic"),
        ({"written": 80}, "technician", "intermediate"),
        ({"written": "89.9", "practical": "90"}, "technician", "intermediate"),
        ({"written": 90}, "engineer", "advanced"),
    ],
)
async def test_placement_sets_position_and_plan_level_r6(svc, scores, position, plan_level):
    await enrol(svc)
    examiner = svc.as_("ex-1", Role.EXAMINER, department="hr")
    placed = await svc.client.post("/trainees/t-100/placement", json=scores, headers=examiner)
    assert placed.status_code == 200, placed.text
    assert (placed.json()["position"], placed.json()["plan_level"]) == (position, plan_level)
    assert placed.json()["rule_trace"][-1].startswith("R-6")
    shown = (await svc.client.get("/trainees/t-100", headers=manager(svc))).json()
    assert (shown["status"], shown["position"], shown["plan_level"]) == (
        "placed",
        position,
        plan_level,
    )


async def test_placement_refusals_422_409_412(svc):
    await enrol(svc)
    url = "/trainees/t-100/placement"
    for bad in ({"written": 100.1}, {"written": "85.25"}, {"written": -1}, {}):
        answer = await svc.client.post(url, json=bad, headers=manager(svc))
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["field"] == "body.written"
    stale = await svc.client.post(
        url, json={"written": 85}, headers={**manager(svc), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    assert (
        await svc.client.post(
            url, json={"written": 85}, headers={**manager(svc), "If-Match": '"1"'}
        )
    ).status_code == 200
    again = await svc.client.post(url, json={"written": 95}, headers=manager(svc))
    assert again.status_code == 409
    assert again.json()["type"].endswith("/rules/R-6")
    assert (await svc.client.post(url, json={"written": 85}, headers=clerk(svc))).status_code == 403
    assert (
        await svc.client.post(
            "/trainees/nobody/placement", json={"written": 85}, headers=manager(svc)
        )
    ).status_code == 404


async def test_withdrawal_by_own_clerk(svc):
    await enrol(svc)
    url = "/trainees/t-100/withdraw"
    assert (
        await svc.client.post(url, json={"reason": "x"}, headers=clerk(svc, "dl-south"))
    ).status_code == 404
    assert (await svc.client.post(url, json={"reason": ""}, headers=clerk(svc))).status_code == 422
    done = await svc.client.post(url, json={"reason": "left the dealer"}, headers=clerk(svc))
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    assert (
        await svc.client.post(url, json={"reason": "again"}, headers=clerk(svc))
    ).status_code == 409


async def wait_listed(svc, count):
    async with asyncio.timeout(10):
        while await svc.pool.fetchval("SELECT count(*) FROM proj_directory.trainees") < count:
            await asyncio.sleep(0.05)


async def test_list_is_paginated_filtered_and_scoped_to_the_clerks_branch(svc):
    for n in range(5):
        await enrol(svc, trainee_id=f"t-n{n}")
    await enrol(svc, headers=manager(svc), trainee_id="t-s1", branch_id="dl-south")
    await enrol(
        svc, headers=manager(svc), trainee_id="t-hq", branch_id="hq", category="hq_full_time"
    )
    await wait_listed(svc, 7)
    page = (await svc.client.get("/trainees?limit=3", headers=clerk(svc))).json()
    assert [t["trainee_id"] for t in page["items"]] == ["t-n0", "t-n1", "t-n2"]
    rest = (
        await svc.client.get(f"/trainees?limit=3&cursor={page['next_cursor']}", headers=clerk(svc))
    ).json()
    assert [t["trainee_id"] for t in rest["items"]] == ["t-n3", "t-n4"] and rest[
        "next_cursor"
    ] is None
    assert (
        await svc.client.get("/trainees?branch_id=dl-south", headers=clerk(svc))
    ).status_code == 403
    everyone = (await svc.client.get("/trainees", headers=svc.as_("boss", Role.MANAGEMENT))).json()
    assert len(everyone["items"]) == 7
    hq = (await svc.client.get("/trainees?category=hq_full_time", headers=manager(svc))).json()
    assert [t["trainee_id"] for t in hq["items"]] == ["t-hq"]
    assert (
        await svc.client.get("/trainees", headers=svc.as_("tr", Role.TRAINER))
    ).status_code == 403
    assert (await svc.client.get("/trainees?cursor=%%%", headers=manager(svc))).status_code == 422


async def test_r6_a_placement_version_published_today_places_the_next_exam(svc):
    """docs/policy.md: the executive vice-president raises the engineer band to 95; a placement
    scored afterwards is decided under the new version and records it."""
    from datetime import UTC, datetime

    vp = svc.as_("vp-1", Role.EXEC_VP)
    shown = (await svc.client.get("/policies/placement", headers=clerk(svc))).json()
    assert [v["version"] for v in shown["versions"]] == ["placement-2026.1"]
    document = shown["in_force"]["document"]
    document["bands"][0]["min_average"] = "95"
    draft = {
        "version": "placement-2027.1",
        "effective_from": datetime.now(UTC).date().isoformat(),
        "document": document,
    }
    published = await svc.client.post("/policies/placement", json=draft, headers=vp)
    assert published.status_code == 201, published.text
    assert published.json()["changes"] == ["bands[engineer/advanced].min_average: 90 → 95"]
    await enrol(svc)
    examiner = svc.as_("ex-1", Role.EXAMINER, department="hr")
    placed = await svc.client.post(
        "/trainees/t-100/placement", json={"written": 92}, headers=examiner
    )
    assert (placed.json()["position"], placed.json()["plan_level"]) == (
        "technician",
        "intermediate",
    )
    assert placed.json()["rule_trace"][-1].endswith("(placement-2027.1)")
