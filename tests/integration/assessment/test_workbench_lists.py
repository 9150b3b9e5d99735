"""The lists the workbench works from: exam sessions (open, closed, by page), a session's scoring
grid (who it examines, their scores, the decision with its rater-spread flag) and the grade
disputes (open or resolved; a clerk sees its own branch's, a trainee its own)."""

from __future__ import annotations

from .helpers import DEPARTMENTS


async def test_sessions_are_listed_open_or_closed_page_by_page(svc):
    for session_id in ("s-a", "s-b", "s-c"):
        assert (await svc.open_session(session_id)).status_code == 201
    closed = await svc.client.post("/sessions/s-b/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text

    answer = await svc.client.get("/sessions", headers=svc.examiner())
    assert answer.status_code == 200, answer.text
    assert [(s["session_id"], s["status"]) for s in answer.json()["items"]] == [
        ("s-a", "open"),
        ("s-b", "closed"),
        ("s-c", "open"),
    ]
    assert answer.json()["items"][1]["closed_on"] is not None
    assert answer.json()["items"][1]["version"] >= 2

    open_ = await svc.client.get("/sessions?status=open&limit=1", headers=svc.manager())
    first = open_.json()
    assert [s["session_id"] for s in first["items"]] == ["s-a"]
    rest = await svc.client.get(
        f"/sessions?status=open&limit=1&cursor={first['next_cursor']}", headers=svc.manager()
    )
    assert [s["session_id"] for s in rest.json()["items"]] == ["s-c"]
    assert rest.json()["next_cursor"] is None
    closed_only = await svc.client.get("/sessions?status=closed", headers=svc.manager())
    assert [s["session_id"] for s in closed_only.json()["items"]] == ["s-b"]

    bad = await svc.client.get("/sessions?status=shut", headers=svc.manager())
    assert bad.status_code == 422
    assert "query.status" in bad.text
    assert (await svc.client.get("/sessions", headers=svc.trainee("t-1"))).status_code == 403


async def test_the_grid_lists_whom_the_session_examines_with_scores_and_flags(svc):
    for trainee_id in ("t-1", "t-2", "t-3"):
        await svc.enrol(trainee_id)
    await svc.plan("t-1", [(1, "X1", "tr-a")])
    await svc.plan("t-2", [(1, "X1", "tr-a")])
    await svc.plan("t-3", [(1, "X2", "tr-a")])  # another series: not examined in s-1
    assert (await svc.open_session("s-1", series="X1")).status_code == 201
    await svc.sit("s-1", "t-1", written="95", practical=("99", "96", "97", "83", "98"))
    answer = await svc.written("s-1", "t-2", "88.5")
    assert answer.status_code == 201, answer.text

    grid = await svc.client.get("/sessions/s-1/sittings", headers=svc.examiner("after_sales"))
    assert grid.status_code == 200, grid.text
    body = grid.json()
    assert body["session"]["session_id"] == "s-1"
    assert body["practical_departments"] == list(DEPARTMENTS)
    rows = {r["trainee_id"]: r for r in body["rows"]}
    assert list(rows) == ["t-1", "t-2"]
    assert rows["t-1"]["trainee_name"] == "name of t-1"
    assert rows["t-1"]["decision"]["type"] == "GradeAssigned"
    assert rows["t-1"]["decision"]["review_flags"] == ["practical_spread"]
    assert rows["t-1"]["practical"]["after_sales"] == "83"
    assert (rows["t-2"]["written"], rows["t-2"]["practical"], rows["t-2"]["decision"]) == (
        "88.5",
        {},
        None,
    )
    missing = await svc.client.get("/sessions/nope/sittings", headers=svc.manager())
    assert missing.status_code == 404
    assert (await svc.client.get("/sessions/s-1/sittings", headers=svc.clerk())).status_code == 403


async def test_disputes_are_listed_to_those_who_may_see_them(svc):
    await svc.enrol("t-n", branch="dl-north")
    await svc.enrol("t-s", branch="dl-south")
    assert (await svc.open_session("s-1")).status_code == 201
    filed = {}
    for trainee_id in ("t-n", "t-s"):
        await svc.sit("s-1", trainee_id)
        answer = await svc.client.post(
            f"/trainees/{trainee_id}/disputes",
            json={"reason": "mis-marked"},
            headers=svc.trainee(trainee_id),
        )
        assert answer.status_code == 201, answer.text
        filed[trainee_id] = answer.json()["dispute_id"]
    resolved = await svc.client.post(
        f"/disputes/{filed['t-s']}/resolve", json={"outcome": "upheld"}, headers=svc.manager()
    )
    assert resolved.status_code == 200, resolved.text

    async def listed(headers, query=""):
        answer = await svc.client.get(f"/disputes{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        return {d["trainee_id"]: d for d in answer.json()["items"]}

    every = await listed(svc.manager())
    assert set(every) == {"t-n", "t-s"}
    north = every["t-n"]
    assert (north["status"], north["branch_id"], north["trainee_name"]) == (
        "filed",
        "dl-north",
        "name of t-n",
    )
    assert north["disputed"]["written"] == "95"
    assert north["disputed"]["position"] == "engineer"
    assert north["disputed"]["rule_trace"]
    assert set(await listed(svc.manager(), "?status=open")) == {"t-n"}
    assert set(await listed(svc.management(), "?status=resolved")) == {"t-s"}
    assert set(await listed(svc.clerk("dl-south"))) == {"t-s"}
    assert set(await listed(svc.trainee("t-n"))) == {"t-n"}
    assert (await svc.client.get("/disputes", headers=svc.examiner())).status_code == 403
    bad = await svc.client.get("/disputes?status=filed", headers=svc.manager())
    assert bad.status_code == 422
