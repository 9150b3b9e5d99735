"""The training-progress board as a workbook (issue 20, ``GET /board/progress/export.xlsx``): the
same read as the JSON board, for the same readers and branch; a sheet of branches and one of
trainers, two header rows (Chinese, English), names beside ids, counts as numbers."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from services.training.consumers import HANDLER
from services.training.export import XLSX
from shared.auth import Role
from tests.integration.training.helpers import (
    TRAINEE,
    clerk,
    enrol,
    manager,
    plan_in_force,
    post,
    stages,
    trainee,
    trainer,
    vp,
    wait_projected,
)
from tests.organisation import deliver_organisation, staff_registered, teach_branches

EXPORT = "/board/progress/export.xlsx"


def sheets(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(BytesIO(content))
    return {s.title: [tuple(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets}


async def test_the_progress_board_as_a_workbook_scoped_like_the_board(svc):
    await teach_branches(svc.pool, HANDLER, "dl-north", "dl-south")
    await deliver_organisation(svc.pool, HANDLER, staff_registered("tr-hr", "李老师"))
    await enrol(svc, "t-2", branch_id="dl-south")  # enrolled, no plan yet
    await plan_in_force(svc, plan=stages(s1="2026-03-10", s2="2026-03-12"))
    await post(svc, "/stages/1/sign-off", {"assessment": "ok"}, trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/countersign", {"agree": False}, trainee(svc))  # a dispute
    await svc.client.post(
        "/trainers/tr-hr/demerits",
        json={"reason": "perfunctory", "trainee_id": TRAINEE},
        headers=manager(svc),
    )
    await wait_projected(svc)
    boss = svc.as_("boss", Role.MANAGEMENT)
    board = (await svc.client.get("/board/progress", headers=boss)).json()

    answer = await svc.client.get(EXPORT, headers=boss)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    disposition = answer.headers["content-disposition"]
    assert disposition == f'attachment; filename="progress-all-{board["as_of"]}.xlsx"'
    found = sheets(answer.content)
    assert list(found) == ["培训进度 Progress", "培训师 Trainers"]
    (zh, en, *branches), (trainer_zh, trainer_en, *trainers) = found.values()
    assert zh[:5] == ("网点编号", "网点", "Branch (English)", "学员人数", "无计划")
    assert en[:5] == ("Branch id", "Branch", "Branch (English)", "Trainees", "Without plan")
    assert en[-3:] == ("Overdue stages", "Disputes", "Send-backs")
    keys = ("trainees", "without_plan", "draft", "approved", "completed", "withdrawn")
    keys += ("overdue_stages", "disputes", "send_backs")
    assert branches == [
        (r["branch_id"], r["branch_name_zh"], r["branch_name_en"], *(r[k] for k in keys))
        for r in board["rows"]
    ]
    north = branches[0]
    assert north[0] == "dl-north" and north[1] != "dl-north"  # the registered name beside it
    assert north[3] == 1 and north[-2] == 1 and isinstance(north[9], int)  # numbers, not text
    assert (trainer_zh[:2], trainer_en[:2]) == (("培训师编号", "培训师"), ("Trainer id", "Trainer"))
    assert trainers == [("tr-hr", "李老师", 1, 0, 0, 1)]

    own = await svc.client.get(EXPORT, headers=clerk(svc, "dl-south"))
    assert [r[0] for r in sheets(own.content)["培训进度 Progress"][2:]] == ["dl-south"]
    assert (
        await svc.client.get(f"{EXPORT}?branch_id=dl-north", headers=clerk(svc))
    ).status_code == 200
    refused = await svc.client.get(f"{EXPORT}?branch_id=dl-south", headers=clerk(svc))
    assert refused.status_code == 403
    assert (await svc.client.get(EXPORT, headers=trainer(svc, "tr-hr"))).status_code == 403
    assert (await svc.client.get(EXPORT)).status_code == 401
    unknown = await svc.client.get(f"{EXPORT}?branch_id=nowhere", headers=vp(svc))
    assert unknown.status_code == 422 and "query.branch_id" in unknown.text
