"""The lists of plans (GET /plans): the executive vice-president's queue of drafts awaiting
approval and the managers' plans by status, each named and with the version to approve it with;
the production manager lists its production reserve trainees' plans only (R-8)."""

from __future__ import annotations

import asyncio

from services.training.plan_list import PLANS
from shared.auth import Role
from shared.projections import verify
from tests.integration.training.helpers import (
    day,
    draft,
    enrol,
    manager,
    plan_in_force,
    trainer,
    vp,
)


async def wait_listed(svc):
    """Until the plans projection has applied every stored event."""
    lag_sql = (
        "SELECT (SELECT coalesce(max(position), 0) FROM events) - (SELECT coalesce(sum(position),"
        " 0) FROM checkpoints WHERE name = 'projection:plans:events')"
    )
    async with asyncio.timeout(10):
        while await svc.pool.fetchval(lag_sql) != 0:
            await asyncio.sleep(0.05)


async def listed(svc, headers, query=""):
    answer = await svc.client.get(f"/plans{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_queue_lists_the_drafts_awaiting_approval_with_their_versions(svc):
    await plan_in_force(svc, "t-1")  # drafted and approved
    await enrol(svc, "t-2", category="production_reserve", name="王强")
    assert (await draft(svc, "t-2")).status_code == 200
    await draft(svc, "t-3")  # not known to training yet: refused, nothing listed
    await wait_listed(svc)

    everything = await listed(svc, manager(svc))
    assert [(p["trainee_id"], p["status"]) for p in everything["items"]] == [
        ("t-1", "approved"),
        ("t-2", "draft"),
    ]
    first, second = everything["items"]
    assert (first["trainee_name"], first["revision"], first["approved_revision"]) == ("李娜", 1, 1)
    assert (second["trainee_name"], second["category"], second["drafted_by"]) == (
        "王强",
        "production_reserve",
        "mgr",
    )
    assert everything["next_cursor"] is None

    queue = await listed(svc, vp(svc), "?status=draft")
    assert [p["trainee_id"] for p in queue["items"]] == ["t-2"]
    table = await svc.client.get("/plans/t-2", headers=vp(svc))
    assert queue["items"][0]["version"] == table.json()["version"] == 1
    approved = await svc.client.post(
        "/plans/t-2/approve", json={}, headers=vp(svc) | {"If-Match": '"1"'}
    )
    assert approved.status_code == 200, approved.text
    await wait_listed(svc)
    assert (await listed(svc, vp(svc), "?status=draft"))["items"] == []


async def test_the_version_follows_every_event_of_the_plan_and_pages_follow_the_cursor(svc):
    await plan_in_force(svc, "t-1")
    await plan_in_force(svc, "t-2")
    logged = await svc.client.post(
        "/plans/t-1/stages/1/days", json=day(), headers=trainer(svc, "tr-hr")
    )
    assert logged.status_code == 201, logged.text
    await wait_listed(svc)
    page = await listed(svc, manager(svc), "?limit=1")
    assert [(p["trainee_id"], p["version"]) for p in page["items"]] == [("t-1", 3)]
    rest = await listed(svc, manager(svc), f"?limit=1&cursor={page['next_cursor']}")
    assert [p["trainee_id"] for p in rest["items"]] == ["t-2"]
    assert rest["next_cursor"] is None
    # A rebuild from the events makes the same table.
    assert await verify(svc.pool, "training", PLANS) == []


async def test_the_production_manager_lists_its_production_reserve_trainees_plans_only(svc):
    await enrol(svc, "t-1")
    await enrol(svc, "t-2", category="production_reserve")
    for trainee_id in ("t-1", "t-2"):
        assert (await draft(svc, trainee_id)).status_code == 200
    await wait_listed(svc)
    production = svc.as_("prod", Role.PRODUCTION_MANAGER)
    assert [p["trainee_id"] for p in (await listed(svc, production))["items"]] == ["t-2"]
    # A production manager who is also the after-sales manager lists every plan.
    both = svc.as_("both", Role.PRODUCTION_MANAGER, Role.AFTER_SALES_MANAGER)
    assert len((await listed(svc, both))["items"]) == 2


async def test_others_are_refused_and_a_bad_status_is_a_422_naming_it(svc):
    for role in (Role.TRAINER, Role.TRAINEE, Role.MANAGEMENT, Role.PAYROLL):
        answer = await svc.client.get("/plans", headers=svc.as_("x", role))
        assert answer.status_code == 403, role
    clerk = svc.as_("c", Role.BRANCH_CLERK, branch_id="dl-north")
    assert (await svc.client.get("/plans", headers=clerk)).status_code == 403
    assert (await svc.client.get("/plans")).status_code == 401
    wrong = await svc.client.get("/plans?status=submitted", headers=vp(svc))
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "query.status"
