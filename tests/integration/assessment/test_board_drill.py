"""The grade board over HTTP at any size: counts with a drill-down link per cell, the trainee ids
inline only for a small board or when asked (never a list cut short), and the cell's trainees
a page at a time (``GET /board/grades/{branch_id}/{position}/{level}``) for the board's readers.
"""

from __future__ import annotations

import pytest

from services.assessment.app import create_app
from shared.events import NewEvent
from shared.eventstore import ANY_VERSION
from tests.support import long_secret, running

from .helpers import Assessment, delete_topology

INLINE = 3  # GRADELINE_BOARD_INLINE_TRAINEES here
CELL = "/board/grades/dl-north/engineer/senior"


@pytest.fixture
async def svc(settings):
    settings = long_secret(settings).model_copy(
        update={"pool_size": 4, "consumer_partitions": 1, "board_inline_trainees": INLINE}
    )
    try:
        async with running(create_app(settings), settings, "assessment") as service:
            yield Assessment(service)
    finally:
        await delete_topology(settings, ["assessment"])


async def grade(svc, trainee, level="senior", branch="dl-north"):
    """A grade decision as the sitting's stream records it (the scoring routes' last event)."""
    data = {"trainee_id": trainee, "session_id": "s-1", "position": "engineer", "level": level}
    facts = {**data, "grade_score": "95.5", "assigned_at": "2026-11-02T09:00:00+00:00"}
    event = NewEvent(type="GradeAssigned", data=facts, branch_id=branch)
    await svc.service.app.state.store.append(f"sit-{trainee}", [event], ANY_VERSION)


async def board(svc, total, query="", headers=None):
    return await svc.eventually(
        f"/board/grades{query}",
        headers or svc.management(),
        lambda b: sum(r["count"] for r in b["rows"]) == total,
    )


async def walk(svc, path, headers, limit):
    """Every page of a drill-down: (ids in order, pages)."""
    ids, pages, cursor = [], 0, None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = await svc.client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids += [item["trainee_id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages


async def test_a_small_board_lists_its_trainees_a_large_one_links_its_cells(svc):
    for trainee in ("t-1", "t-2", "t-3"):
        await grade(svc, trainee)
    small = await board(svc, 3)
    assert small["trainee_ids_inline"] is True
    assert [(r["trainee_ids"], r["trainees"]) for r in small["rows"]] == [
        (["t-1", "t-2", "t-3"], CELL)
    ]
    await grade(svc, "t-4")
    await grade(svc, "t-5", "junior", "dl-south")
    large = await board(svc, 5)
    assert large["trainee_ids_inline"] is False
    assert [(r["branch_id"], r["level"], r["count"], r["trainee_ids"]) for r in large["rows"]] == [
        ("dl-north", "senior", 4, None),
        ("dl-south", "junior", 1, None),
    ]
    assert large["rows"][1]["trainees"] == "/board/grades/dl-south/engineer/junior"
    asked = await board(svc, 5, "?trainee_ids=true")
    assert asked["trainee_ids_inline"] is True
    assert [r["trainee_ids"] for r in asked["rows"]] == [["t-1", "t-2", "t-3", "t-4"], ["t-5"]]
    refused = await board(svc, 5, "?trainee_ids=false")
    assert [r["trainee_ids"] for r in refused["rows"]] == [None, None]
    past = await svc.client.get(
        "/board/grades", params={"as_of": "2099-01-01T00:00:00"}, headers=svc.management()
    )
    assert past.json()["rows"][0]["trainees"] == CELL + "?as_of=2099-01-01T00%3A00%3A00%2B00%3A00"


async def test_pages_list_every_trainee_once_in_order_while_others_are_graded(svc):
    for n in range(7):
        await grade(svc, f"t-{2 * n + 1:02d}")  # t-01, t-03, ... t-13
    await board(svc, 7)
    headers = svc.management()
    first = (await svc.client.get(CELL, params={"limit": 3}, headers=headers)).json()
    assert [i["trainee_id"] for i in first["items"]] == ["t-01", "t-03", "t-05"]
    # Graded between two pages: one behind the cursor (not on the later pages), one ahead.
    await grade(svc, "t-02")
    await grade(svc, "t-12")
    await board(svc, 9)
    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = await svc.client.get(CELL, params={"limit": 3, "cursor": cursor}, headers=headers)
        rest += [i["trainee_id"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert rest == ["t-07", "t-09", "t-11", "t-12", "t-13"]
    ids, pages = await walk(svc, CELL, headers, 2)
    assert ids == sorted({f"t-{2 * n + 1:02d}" for n in range(7)} | {"t-02", "t-12"})
    assert pages == 5
    own, _ = await walk(svc, CELL, svc.clerk("dl-north"), 500)
    assert own == ids
    empty = await svc.client.get("/board/grades/dl-north/technician/junior", headers=headers)
    assert empty.json()["items"] == [] and empty.json()["next_cursor"] is None


async def test_a_cells_pages_as_of_a_past_moment(svc):
    await grade(svc, "t-a")
    await board(svc, 1)
    moment = await svc.pool.fetchval("SELECT max(recorded_at) FROM events")
    await grade(svc, "t-b")
    await grade(svc, "t-a", "junior")  # corrected later: not senior any more
    await board(svc, 2)
    now, _ = await walk(svc, CELL, svc.management(), 1)
    assert now == ["t-b"]
    past = await svc.client.get(CELL, params={"as_of": moment.isoformat()}, headers=svc.auditor())
    assert [i["trainee_id"] for i in past.json()["items"]] == ["t-a"]
    assert past.json()["as_of"].startswith(moment.isoformat()[:19])


async def test_drill_down_refusals_name_the_field_and_keep_to_the_clerks_branch(svc):
    await grade(svc, "t-a")
    await board(svc, 1)
    get = svc.client.get
    other = await get(CELL, headers=svc.clerk("dl-south"))
    assert other.status_code == 403
    assert (await get(CELL, headers=svc.trainee("t-a"))).status_code == 403
    assert (await get(CELL, headers=svc.manager())).status_code == 403
    assert (await get(CELL)).status_code == 401
    for path, params, field in (
        (CELL, {"cursor": "not a cursor!"}, "query.cursor"),
        (CELL, {"cursor": "AAAA"}, "query.cursor"),  # base64, but of no id
        ("/board/grades/dl-north/manager/senior", {}, "path.position"),
        ("/board/grades/dl-north/engineer/master", {}, "path.level"),
        (CELL, {"limit": 0}, "query.limit"),
        (CELL, {"as_of": "yesterday"}, "query.as_of"),
    ):
        answer = await get(path, params=params, headers=svc.management())
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text, (field, answer.text)
