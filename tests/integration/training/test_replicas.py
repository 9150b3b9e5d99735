"""Two replicas of training on one database: a command never decides on the state a replica
cached when another replica has appended since (shared.execution.StateCache)."""

from __future__ import annotations

from services.training.app import create_app
from tests.integration.training.helpers import NOW, TRAINEE, draft, enrol, manager, stages, vp
from tests.support import running


async def test_a_replicas_cached_plan_takes_in_what_another_replica_appended(svc):
    other = create_app(svc.settings)
    other.state.clock = lambda: NOW
    async with running(other, svc.settings, "training") as replica:
        await enrol(svc)
        assert (await draft(svc)).status_code == 200  # version 1, folded and cached here
        longer = stages(s1="2026-03-31")  # another revision, drafted on the other replica
        redrafted = await draft(replica, plan=longer)
        assert redrafted.status_code == 200 and redrafted.headers["ETag"] == '"2"'
        # This replica's cache holds version 1; If-Match "2" is only right if it read version 2.
        approved = await svc.client.post(
            f"/plans/{TRAINEE}/approve", json={}, headers={**vp(svc), "If-Match": '"2"'}
        )
        assert approved.status_code == 200, approved.text
        assert approved.headers["ETag"] == '"3"' and approved.json()["revision"] == 2
        assert svc.app.state.states.hits >= 1  # the cached state was the starting point
        shown = await replica.client.get(f"/plans/{TRAINEE}", headers=manager(replica))
        assert (shown.json()["status"], shown.headers["ETag"]) == ("approved", '"3"')
