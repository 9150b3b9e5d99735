"""The organisation the demo registers (ops/organisation.py): the scenario's branches with their
kinds (R-1, R-2), every trainer and examiner the rounds act as, and a branch or member of staff
registered before taken as already there."""

from __future__ import annotations

from datetime import date

import httpx

from ops import organisation
from ops import scenario as sc
from ops.client import SERVICES, Api, http_clients


def test_the_standard_branches_are_the_scenarios_with_their_kinds_and_names():
    kinds = {b["branch_id"]: b["kind"] for b in organisation.STANDARD_BRANCHES}
    assert tuple(kinds) == sc.BRANCHES
    assert kinds["hq"] == "hq"
    assert {b for b, k in kinds.items() if k == "dealer"} == set(sc.DEALERS)
    assert all(b["name_zh"] and b["name_en"] for b in organisation.STANDARD_BRANCHES)


def test_the_demo_staff_are_every_trainer_and_examiner_the_rounds_act_as():
    staff = {s["staff_id"]: s for s in organisation.demo_staff()}
    scenario = sc.build(7, 40, date(2026, 3, 20))
    trainers = {stage.trainer_id for t in scenario.trainees for stage in t.stages}
    assert trainers <= {i for i, s in staff.items() if s["roles"] == ["trainer"]}
    examined = {"hr", *sc.WRITTEN_EXAMINERS, *sc.DEPARTMENTS}
    assert {f"ex-{d}" for d in examined} <= {
        i for i, s in staff.items() if "examiner" in s["roles"]
    }


async def test_a_branch_or_member_of_staff_registered_before_is_taken_as_there():
    posted: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(request.url.path)
        if request.url.path == "/branches" and len(posted) == 1:
            return httpx.Response(409, json={"type": "/problems/conflict", "detail": "exists"})
        return httpx.Response(201, json={})

    transport = httpx.MockTransport(answer)
    clients = http_clients({s: f"http://{s}" for s in SERVICES}, dict.fromkeys(SERVICES, transport))
    api = Api(clients, "s" * 40, 5.0)
    staff = organisation.demo_staff()[:1]
    await organisation.register_organisation(api, organisation.STANDARD_BRANCHES[:2], staff)
    assert posted == ["/branches", "/branches", "/staff"]
    await api.close()
