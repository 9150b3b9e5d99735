"""Names where people read them in training: the plan table and its spreadsheet name the trainee
and each stage's trainer, the progress board names branches (zh, en) and trainers; a rename
changes the name shown; a name not arrived yet reads as the id; a branch filter naming a branch
training has not learnt of is a 422 naming the field."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from services.training.consumers import HANDLER
from shared.auth import Role
from tests.integration.training.helpers import (
    TRAINEE,
    enrol,
    manager,
    plan_in_force,
    post,
    trainee,
    trainer,
    vp,
    wait_projected,
)
from tests.organisation import (
    branch_registered,
    branch_renamed,
    deliver_organisation,
    staff_registered,
    standard_names,
)


async def test_the_plan_table_and_its_export_name_the_trainee_and_the_trainers(svc):
    await deliver_organisation(
        svc.pool,
        HANDLER,
        staff_registered("tr-hr", "周老师", department="hr"),
        staff_registered("tr-tech", "吴工"),
    )
    await plan_in_force(svc)
    await post(svc, "/stages/1/sign-off", {"assessment": "goal reached"}, trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/countersign", {"agree": True}, trainee(svc))
    table = (await svc.client.get(f"/plans/{TRAINEE}", headers=manager(svc))).json()
    assert table["trainee_name"] == "李娜"
    assert [(s["trainer_id"], s["trainer_name"]) for s in table["stages"]] == [
        ("tr-hr", "周老师"),
        ("tr-hr", "周老师"),
        ("tr-as", "tr-as"),  # not registered (yet): its id
        ("tr-as", "tr-as"),
        ("tr-tech", "吴工"),
    ]
    answer = await svc.client.get(f"/plans/{TRAINEE}/export.xlsx", headers=manager(svc))
    rows = list(load_workbook(BytesIO(answer.content)).active.iter_rows(values_only=True))
    assert rows[1][2] == "人力资源部/周老师" and rows[1][6:] == ("周老师", "李娜")
    assert rows[3][2] == "售后部/tr-as" and rows[5][2] == "技术部/吴工"


async def test_the_progress_board_names_branches_and_trainers_and_follows_a_rename(svc):
    await deliver_organisation(
        svc.pool, HANDLER, branch_registered("dl-north"), staff_registered("tr-hr", "周老师")
    )
    await enrol(svc, "t-2", branch_id="dl-south")
    await plan_in_force(svc)
    await svc.client.post("/trainers/tr-hr/demerits", json={"reason": "late"}, headers=manager(svc))
    await wait_projected(svc)
    boss = svc.as_("boss", Role.MANAGEMENT)
    board = (await svc.client.get("/board/progress", headers=boss)).json()
    assert [(r["branch_id"], r["branch_name_zh"], r["branch_name_en"]) for r in board["rows"]] == [
        ("dl-north", *standard_names("dl-north")),
        ("dl-south", "dl-south", "dl-south"),
    ]
    assert [(t["trainer_id"], t["trainer_name"]) for t in board["trainers"]] == [
        ("tr-hr", "周老师")
    ]
    await deliver_organisation(
        svc.pool, HANDLER, branch_renamed("dl-north", "华北经销商", "North China")
    )
    north = await svc.client.get("/board/progress?branch_id=dl-north", headers=vp(svc))
    assert [(r["branch_name_zh"], r["branch_name_en"]) for r in north.json()["rows"]] == [
        ("华北经销商", "North China")
    ]


async def test_a_progress_filter_naming_an_unknown_branch_is_a_422_naming_the_field(svc):
    refused = await svc.client.get("/board/progress?branch_id=dl-south", headers=vp(svc))
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["type"]) for e in refused.json()["errors"]] == [
        ("query.branch_id", "unknown_branch")
    ]
    await deliver_organisation(svc.pool, HANDLER, branch_registered("dl-south"))
    await wait_projected(svc)  # the board's tables exist once the projection has started
    known = await svc.client.get("/board/progress?branch_id=dl-south", headers=vp(svc))
    assert known.status_code == 200 and known.json()["rows"] == []
