"""The organisation's routes over HTTP against real PostgreSQL (docs/organisation.md):
branches and staff registered, renamed, closed and gone as events, and enrolment deciding with
the registry (R-2): unknown branch 422, closed branch 409, history untouched."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest

from services.enrollment.app import PROJECTIONS, create_app
from shared.auth import Role
from shared.problems import PROBLEM_JSON
from tests.support import RunningService, ok

NORTH = {
    "branch_id": "dl-north",
    "kind": "dealer",
    "name_zh": "北方经销商",
    "name_en": "North dealer",
}
HQ = {"branch_id": "hq", "kind": "hq", "name_zh": "总部", "name_en": "Head office"}


@pytest.fixture
async def svc(svc):
    """The service (conftest) once its read models are built."""
    await projections_built(svc)
    return svc


async def projections_built(svc):
    """Until the start-up build of the read models is over: its swap of fresh tables would
    otherwise race the first list reads of a test."""
    async with asyncio.timeout(10):
        while await svc.pool.fetchval("SELECT count(*) FROM projection_versions") < len(
            PROJECTIONS
        ):
            await asyncio.sleep(0.02)


def admin(svc, **extra):
    return {**svc.as_("admin-1", Role.ADMIN), **extra}


def clerk(svc, branch="dl-north"):
    return svc.as_("clerk-" + branch, Role.BRANCH_CLERK, branch_id=branch)


def manager(svc):
    return svc.as_("mgr", Role.AFTER_SALES_MANAGER)


def trainee(trainee_id="t-1", branch_id="dl-north", category="branch_commissioned"):
    return {
        "trainee_id": trainee_id,
        "name": "李娜",
        "category": category,
        "branch_id": branch_id,
        "education": "high_school",
        "experience_years": 2,
        "certificates": [],
        "product_series": ["X1"],
        "enrolled_on": "2026-03-01",
    }


def staff(staff_id="tr-liu", **changes):
    body = {
        "staff_id": staff_id,
        "name": "刘芳",
        "department": "hr",
        "roles": ["trainer"],
        "branch_id": "hq",
    }
    return {**body, **changes}


async def register(svc, body):
    return await ok(svc.client.post("/branches", json=body, headers=admin(svc)), 201)


async def listed(svc, path, headers, count):
    """The list at ``path`` once its projection holds ``count`` items (it follows the events)."""
    async with asyncio.timeout(10):
        while True:
            page = await ok(svc.client.get(path, headers=headers))
            if len(page["items"]) == count:
                return page["items"]
            await asyncio.sleep(0.05)


async def test_admin_registers_a_branch_everyone_reads_it_with_its_names(svc):
    created = await svc.client.post("/branches", json=NORTH, headers=admin(svc))
    assert created.status_code == 201, created.text
    assert (created.headers["ETag"], created.headers["Location"]) == ('"1"', "/branches/dl-north")
    assert created.json() == {
        **NORTH,
        "status": "open",
        "closed_on": None,
        "closing_reason": None,
        "version": 1,
    }
    shown = await ok(svc.client.get("/branches/dl-north", headers=clerk(svc, "bo-east")))
    assert (shown["name_zh"], shown["name_en"]) == ("北方经销商", "North dealer")
    trainer = svc.as_("tr-1", Role.TRAINER)
    [item] = await listed(svc, "/branches", trainer, 1)
    assert (item["branch_id"], item["status"]) == ("dl-north", "open")
    event = await svc.pool.fetchrow(
        "SELECT stream_id, type, actor, branch_id FROM events WHERE stream_id NOT LIKE 'policy-%'"
    )
    assert dict(event) == {
        "stream_id": "branch-dl-north",
        "type": "BranchRegistered",
        "actor": {"sub": "admin-1", "role": "admin"},
        "branch_id": "dl-north",
    }


async def test_only_the_admin_changes_the_organisation_and_an_existing_id_is_409(svc):
    assert (await svc.client.post("/branches", json=NORTH)).status_code == 401
    refused = await svc.client.post("/branches", json=NORTH, headers=manager(svc))
    assert (refused.status_code, refused.headers["content-type"]) == (403, PROBLEM_JSON)
    await register(svc, NORTH)
    again = await svc.client.post("/branches", json={**NORTH, "name_en": "x"}, headers=admin(svc))
    assert again.status_code == 409
    assert again.json()["type"].endswith("/conflict")
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id NOT LIKE 'policy-%'")
        == 1
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"branch_id": "a/b"}, "body.branch_id"),
        ({"kind": "franchise"}, "body.kind"),
        ({"name_zh": ""}, "body.name_zh"),
        ({"name_en": "   "}, "body.name_en"),
    ],
)
async def test_a_bad_branch_is_422_naming_the_field(svc, changes, field):
    answer = await svc.client.post("/branches", json={**NORTH, **changes}, headers=admin(svc))
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_a_rename_keeps_the_other_name_and_honours_if_match(svc):
    await register(svc, NORTH)
    stale = await svc.client.patch(
        "/branches/dl-north",
        json={"name_en": "Northern dealer"},
        headers=admin(svc, **{"If-Match": '"0"'}),
    )
    assert stale.status_code == 412
    renamed = await ok(
        svc.client.patch(
            "/branches/dl-north",
            json={"name_en": "Northern dealer"},
            headers=admin(svc, **{"If-Match": '"1"'}),
        )
    )
    assert (renamed["name_zh"], renamed["name_en"], renamed["version"]) == (
        "北方经销商",
        "Northern dealer",
        2,
    )
    same = await ok(
        svc.client.patch("/branches/dl-north", json={"name_zh": "北方经销商"}, headers=admin(svc))
    )
    assert same["version"] == 2  # the names it has: nothing appended
    missing = await svc.client.patch("/branches/nowhere", json={"name_en": "x"}, headers=admin(svc))
    assert missing.status_code == 404


async def test_r2_a_branch_registered_a_moment_ago_takes_the_next_enrolment(svc):
    unknown = await svc.client.post("/trainees", json=trainee(), headers=clerk(svc))
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["body.branch_id"]
    await register(svc, NORTH)
    await ok(svc.client.post("/trainees", json=trainee(), headers=clerk(svc)), 201)


async def test_r2_a_closed_branch_refuses_new_enrolments_and_keeps_its_trainees(svc):
    await register(svc, NORTH)
    await ok(svc.client.post("/trainees", json=trainee("t-1"), headers=clerk(svc)), 201)
    closure = {"closed_on": "2026-03-01", "reason": "contract ended"}
    closed = await ok(svc.client.post("/branches/dl-north/close", json=closure, headers=admin(svc)))
    assert (closed["status"], closed["closed_on"], closed["closing_reason"]) == (
        "closed",
        "2026-03-01",
        "contract ended",
    )
    again = await svc.client.post("/branches/dl-north/close", json=closure, headers=admin(svc))
    assert again.status_code == 409
    refused = await svc.client.post("/trainees", json=trainee("t-2"), headers=clerk(svc))
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/rules/R-2")
    rename = await svc.client.patch("/branches/dl-north", json={"name_en": "x"}, headers=admin(svc))
    assert rename.status_code == 409
    # History untouched: the trainee enrolled before the closure is read and listed as before.
    shown = await ok(svc.client.get("/trainees/t-1", headers=clerk(svc)))
    assert shown["status"] == "enrolled"
    items = await listed(svc, "/trainees?branch_id=dl-north", manager(svc), 1)
    assert items[0]["trainee_id"] == "t-1"
    [branch] = await listed(svc, "/branches?status=closed", clerk(svc), 1)
    assert branch["closed_on"] == "2026-03-01"


async def test_r2_a_replica_with_the_branch_cached_honours_a_closure_made_on_another(svc):
    """Enrolment reads the branch after its cached state (docs/adr/0015): a second instance on
    the same database, whose cache holds the branch open, refuses the next enrolment once the
    first has closed it, and takes one at a branch the first registered a moment ago."""
    await register(svc, NORTH)
    async with replica(svc) as other:
        for service, trainee_id in ((svc, "t-1"), (other, "t-2")):  # both caches warm
            await ok(
                service.client.post("/trainees", json=trainee(trainee_id), headers=clerk(svc)), 201
            )
        closure = {"closed_on": "2026-03-01", "reason": "contract ended"}
        await ok(svc.client.post("/branches/dl-north/close", json=closure, headers=admin(svc)))
        refused = await other.client.post("/trainees", json=trainee("t-3"), headers=clerk(svc))
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/rules/R-2")
        at_hq = trainee("t-4", "hq", "hq_full_time")
        unknown = await other.client.post("/trainees", json=at_hq, headers=manager(svc))
        assert unknown.status_code == 422, unknown.text
        await register(svc, HQ)
        await ok(other.client.post("/trainees", json=at_hq, headers=manager(svc)), 201)


@asynccontextmanager
async def replica(svc):
    """A second instance of the enrollment app on ``svc``'s database (another replica), with a
    state cache of its own; the database stays ``svc``'s to drop."""
    app = create_app(svc.settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield RunningService(app, client, svc.settings)


async def test_r2_listing_the_trainees_of_a_branch_the_registry_lacks_is_422(svc):
    answer = await svc.client.get("/trainees?branch_id=nowhere", headers=manager(svc))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["query.branch_id"]


async def test_r1_is_judged_by_the_registered_kind(svc):
    await register(svc, {**HQ, "branch_id": "head-office-2"})
    answer = await svc.client.post(
        "/trainees",
        json=trainee(branch_id="head-office-2", category="hq_full_time"),
        headers=manager(svc),
    )
    assert answer.status_code == 201, answer.text
    commissioned = await svc.client.post(
        "/trainees", json=trainee("t-2", branch_id="head-office-2"), headers=manager(svc)
    )
    assert [e["field"] for e in commissioned.json()["errors"]] == ["body.category"]


async def test_staff_are_registered_at_an_open_branch_listed_and_leave_once(svc):
    await register(svc, HQ)
    created = await svc.client.post("/staff", json=staff(), headers=admin(svc))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    both = staff("ex-wang", name="王磊", department="after_sales", roles=["trainer", "examiner"])
    await ok(svc.client.post("/staff", json=both, headers=admin(svc)), 201)
    again = await svc.client.post("/staff", json=staff(), headers=admin(svc))
    assert again.status_code == 409
    reader = manager(svc)
    await listed(svc, "/staff", reader, 2)
    examiners = await ok(svc.client.get("/staff?role=examiner", headers=reader))
    assert [s["staff_id"] for s in examiners["items"]] == ["ex-wang"]
    of_hr = await ok(svc.client.get("/staff?department=hr&role=trainer", headers=reader))
    assert [s["staff_id"] for s in of_hr["items"]] == ["tr-liu"]
    gone = await ok(
        svc.client.post("/staff/tr-liu/leave", json={"left_on": "2026-03-01"}, headers=admin(svc))
    )
    assert (gone["status"], gone["left_on"], gone["version"]) == ("left", "2026-03-01", 2)
    twice = await svc.client.post(
        "/staff/tr-liu/leave", json={"left_on": "2026-03-01"}, headers=admin(svc)
    )
    assert twice.status_code == 409
    shown = await svc.client.get("/staff/tr-liu", headers=reader)
    assert (shown.status_code, shown.headers["ETag"]) == (200, '"2"')
    trainer = svc.as_("tr-liu", Role.TRAINER)
    assert (await svc.client.get("/staff", headers=trainer)).status_code == 403


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"branch_id": "nowhere"}, 422, "body.branch_id"),
        ({"department": "sales"}, 422, "body.department"),
        ({"roles": ["boss"]}, 422, "body.roles.0"),
        ({"roles": []}, 422, "body.roles"),
        ({"name": " "}, 422, "body.name"),
    ],
)
async def test_bad_staff_are_refused_naming_the_field(svc, changes, status, field):
    await register(svc, HQ)
    answer = await svc.client.post("/staff", json=staff(**changes), headers=admin(svc))
    assert answer.status_code == status, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_r2_no_staff_are_registered_at_a_closed_branch(svc):
    await register(svc, HQ)
    closure = {"closed_on": "2026-03-01", "reason": "moved"}
    await ok(svc.client.post("/branches/hq/close", json=closure, headers=admin(svc)))
    answer = await svc.client.post("/staff", json=staff(), headers=admin(svc))
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/rules/R-2")


async def test_a_repeated_registration_replays_the_first_answer(svc):
    headers = admin(svc, **{"Idempotency-Key": "branch-north"})
    first = await svc.client.post("/branches", json=NORTH, headers=headers)
    second = await svc.client.post("/branches", json=NORTH, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id NOT LIKE 'policy-%'")
        == 1
    )
