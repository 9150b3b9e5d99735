"""The monthly trends (issue 20, ``GET /board/trends``): trainees graded, assessments failed and
trainer fines per month and branch, from the ``trends`` projection. Months are UTC months: a
grade a second before midnight on 31 January is January's, one at midnight February's. A fine
counts in its trainer's branch (the trainer's registration), a trainer not registered here yet
in the month's totals only; every month of every branch is shown, 0 where nothing happened.
Visibility: the grade board's (a clerk its own branch); bad months and ranges are 422s naming the
field."""

from __future__ import annotations

from datetime import UTC, datetime

from services.assessment.consumers import HANDLER
from shared.auth import Role
from tests.organisation import branch_registered, deliver_organisation, staff_registered

from .helpers import EXAMPLE_A

TRENDS = "/board/trends?from=2026-01&to=2026-04"


def at(moment: str):
    instant = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    return lambda: instant


def figures(row) -> tuple:
    return (row["graded"], row["failed"], row["fines"], row["amount"])


async def given_a_quarter(svc) -> None:
    """tr-1 (of dl-south) trains t-a, t-b, t-c of dl-north; t-b passes at midnight on 1 February
    and t-c fails then; tr-9 (never registered here) trains t-d of dl-south, who fails in March."""
    await deliver_organisation(
        svc.pool,
        HANDLER,
        branch_registered("dl-north"),
        branch_registered("dl-south"),
        staff_registered("tr-1", "王师傅", branch_id="dl-south"),
    )
    app = svc.service.app
    for trainee, branch, trainer in (
        ("t-a", "dl-north", "tr-1"),
        ("t-b", "dl-north", "tr-1"),
        ("t-c", "dl-north", "tr-1"),
        ("t-d", "dl-south", "tr-9"),
    ):
        await svc.enrol(trainee, branch=branch)
        await svc.plan(trainee, [(1, "X1", trainer)])
    await svc.open_session("s-1", "X1")
    await svc.open_session("s-2", "X1")
    app.state.clock = at("2026-01-31T23:59:59")
    await svc.sit("s-1", "t-a")
    app.state.clock = at("2026-02-01T00:00:00")
    await svc.sit("s-1", "t-b")
    await svc.sit("s-1", "t-c", written="79", practical=EXAMPLE_A)  # below 80 fails
    app.state.clock = at("2026-02-28T12:00:00")
    closed = await svc.client.post("/sessions/s-1/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text  # tr-1: 1 of 3 failed, 33 % -> 50
    app.state.clock = at("2026-03-15T09:00:00")
    await svc.sit("s-2", "t-d", written="70", practical=EXAMPLE_A)
    closed = await svc.client.post("/sessions/s-2/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text  # tr-9: 1 of 1, 100 % -> 200


async def test_trends_count_per_utc_month_and_branch_with_zeros(svc):
    await given_a_quarter(svc)
    board = await svc.eventually(
        TRENDS, svc.management(), lambda b: sum(t["fines"] for t in b["totals"]) == 2, timeout=30
    )
    assert (board["from"], board["to"], board["branch_id"]) == ("2026-01", "2026-04", None)
    assert board["months"] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    cells = {(r["month"], r["branch_id"]): figures(r) for r in board["rows"]}
    assert cells == {
        ("2026-01", "dl-north"): (1, 0, 0, "0.00"),  # 23:59:59 on 31 January
        ("2026-01", "dl-south"): (0, 0, 0, "0.00"),
        ("2026-02", "dl-north"): (1, 1, 0, "0.00"),  # midnight on 1 February
        ("2026-02", "dl-south"): (0, 0, 1, "50.00"),  # tr-1's fine, in tr-1's branch
        ("2026-03", "dl-north"): (0, 0, 0, "0.00"),
        ("2026-03", "dl-south"): (0, 1, 0, "0.00"),  # tr-9 is not registered: totals only
        ("2026-04", "dl-north"): (0, 0, 0, "0.00"),
        ("2026-04", "dl-south"): (0, 0, 0, "0.00"),
    }
    assert [r["month"] for r in board["rows"]][:2] == ["2026-01", "2026-01"]  # months first
    north = next(r for r in board["rows"] if r["branch_id"] == "dl-north")
    assert north["branch_name_en"] != "dl-north"  # the registered names beside the id
    assert [figures(t) for t in board["totals"]] == [
        (1, 0, 0, "0.00"),
        (1, 1, 1, "50.00"),
        (0, 1, 1, "200.00"),
        (0, 0, 0, "0.00"),
    ]


async def test_a_clerk_reads_its_own_branch_and_others_are_refused(svc):
    await given_a_quarter(svc)
    await svc.eventually(
        TRENDS, svc.management(), lambda b: sum(t["fines"] for t in b["totals"]) == 2, timeout=30
    )
    own = await svc.client.get(TRENDS, headers=svc.clerk("dl-north"))
    assert own.status_code == 200, own.text
    board = own.json()
    assert board["branch_id"] == "dl-north"
    assert {r["branch_id"] for r in board["rows"]} == {"dl-north"}
    assert [figures(t) for t in board["totals"]] == [
        (1, 0, 0, "0.00"),
        (1, 1, 0, "0.00"),
        (0, 0, 0, "0.00"),
        (0, 0, 0, "0.00"),
    ]
    south = await svc.client.get(TRENDS + "&branch_id=dl-south", headers=svc.auditor())
    assert [figures(t) for t in south.json()["totals"]][1:3] == [
        (0, 0, 1, "50.00"),
        (0, 1, 0, "0.00"),
    ]
    other = await svc.client.get(TRENDS + "&branch_id=dl-south", headers=svc.clerk("dl-north"))
    assert other.status_code == 403
    trainer = svc.service.as_("tr-1", Role.TRAINER)
    assert (await svc.client.get(TRENDS, headers=trainer)).status_code == 403
    assert (await svc.client.get(TRENDS)).status_code == 401


async def test_bad_months_and_ranges_are_422s_naming_the_field(svc):
    cases = {
        "from=2026-13&to=2026-12": "query.from",
        "from=0000-12&to=0001-01": "query.from",  # there is no year 0
        "from=2026-01&to=2026-1": "query.to",
        "from=2026-05&to=2026-01": "query.from",  # the first after the last
        "from=2024-01&to=2026-01": "query.to",  # 25 months
        "from=2026-01&to=2026-02&branch_id=nowhere": "query.branch_id",
    }
    for query, field in cases.items():
        answer = await svc.client.get(f"/board/trends?{query}", headers=svc.management())
        assert answer.status_code == 422, (query, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in [e.get("field") for e in answer.json()["errors"]], (query, answer.json())
    widest = await svc.client.get("/board/trends?from=2024-02&to=2026-01", headers=svc.management())
    assert widest.status_code == 200 and len(widest.json()["months"]) == 24
    earliest = await svc.client.get("/board/trends?to=0001-03", headers=svc.management())
    assert earliest.json()["months"] == ["0001-01", "0001-02", "0001-03"]  # not before year 1
    latest = await svc.client.get("/board/trends?from=9999-12&to=9999-12", headers=svc.auditor())
    assert latest.json()["months"] == ["9999-12"]


async def test_by_default_the_twelve_months_to_this_one(svc):
    svc.service.app.state.clock = at("2026-03-31T23:30:00")
    answer = await svc.client.get("/board/trends", headers=svc.management())
    assert answer.status_code == 200, answer.text
    board = answer.json()
    assert (board["from"], board["to"]) == ("2025-04", "2026-03")
    assert board["rows"] == [] and [t["graded"] for t in board["totals"]] == [0] * 12
