"""Names where people read them on the assessment boards: the branch's names beside its id on
the grade board (a rename changes them, a closed branch keeps its rows), the trainer's name on the
trainer board, the id while a name has not arrived; a branch filter naming a branch assessment
has not learnt of is a 422 naming the field."""

from __future__ import annotations

from services.assessment.consumers import HANDLER
from tests.organisation import (
    branch_closed,
    branch_registered,
    branch_renamed,
    deliver_organisation,
    staff_registered,
    standard_names,
)

from .helpers import EXAMPLE_A


def cells(board):
    return [
        (r["branch_id"], r["branch_name_zh"], r["branch_name_en"], r["trainee_ids"])
        for r in board["rows"]
    ]


async def test_the_grade_board_names_each_branch_in_zh_and_en_and_follows_a_rename(svc):
    await deliver_organisation(svc.pool, HANDLER, branch_registered("bo-east"))
    await svc.open_session()
    for trainee, branch in (("t-e1", "bo-east"), ("t-n1", "dl-north")):
        await svc.enrol(trainee, branch=branch)
        await svc.sit("s-1", trainee)
    board = await svc.eventually(
        "/board/grades", svc.management(), lambda b: sum(r["count"] for r in b["rows"]) == 2
    )
    assert cells(board) == [
        ("bo-east", *standard_names("bo-east"), ["t-e1"]),
        ("dl-north", "dl-north", "dl-north", ["t-n1"]),  # not registered yet: the id
    ]

    await deliver_organisation(
        svc.pool,
        HANDLER,
        branch_renamed("bo-east", "华东大区", "East Region"),
        branch_registered("dl-north"),
    )
    board = (await svc.client.get("/board/grades", headers=svc.management())).json()
    assert cells(board) == [
        ("bo-east", "华东大区", "East Region", ["t-e1"]),
        ("dl-north", *standard_names("dl-north"), ["t-n1"]),
    ]

    # Closed: its history stays on the board, named, and it may still be asked for.
    await deliver_organisation(svc.pool, HANDLER, branch_closed("bo-east", version=3))
    closed = await svc.client.get("/board/grades?branch_id=bo-east", headers=svc.auditor())
    assert closed.status_code == 200, closed.text
    assert cells(closed.json()) == [("bo-east", "华东大区", "East Region", ["t-e1"])]
    past = await svc.client.get(
        "/board/grades",
        params={"branch_id": "bo-east", "as_of": "2999-01-01T00:00:00Z"},
        headers=svc.management(),
    )
    assert cells(past.json()) == [("bo-east", "华东大区", "East Region", ["t-e1"])]


async def test_a_branch_filter_naming_an_unknown_branch_is_a_422_naming_the_field(svc):
    refused = await svc.client.get("/board/grades?branch_id=bo-new", headers=svc.management())
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["type"]) for e in refused.json()["errors"]] == [
        ("query.branch_id", "unknown_branch")
    ]
    # Another branch than the clerk's own is still 403, known or not.
    other = await svc.client.get("/board/grades?branch_id=bo-new", headers=svc.clerk("dl-north"))
    assert other.status_code == 403
    # Registered moments ago: known once its event has arrived.
    await deliver_organisation(svc.pool, HANDLER, branch_registered("bo-new"))
    known = await svc.client.get("/board/grades?branch_id=bo-new", headers=svc.management())
    assert (known.status_code, known.json()["rows"]) == (200, [])


async def test_the_trainer_board_names_each_trainer(svc):
    await deliver_organisation(svc.pool, HANDLER, staff_registered("tr-1", "孙老师"))
    await svc.open_session("s-n", "X1")
    for n in range(3):
        trainee = f"t-{n}"
        await svc.enrol(trainee)
        await svc.plan(trainee, [(1, "X1", "tr-1"), (2, "X1", "tr-2")])
        await svc.sit("s-n", trainee, written="79" if n == 0 else "90", practical=EXAMPLE_A)
    closed = await svc.client.post("/sessions/s-n/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text
    board = await svc.eventually("/board/trainers", svc.management(), lambda b: len(b["rows"]) == 2)
    assert [(r["trainer_id"], r["trainer_name"], r["fine"]) for r in board["rows"]] == [
        ("tr-1", "孙老师", "50.00"),  # 1 of 3 failed
        ("tr-2", "tr-2", "50.00"),  # its registration has not arrived: the id
    ]
