"""Reading plans: the plan table as JSON and as the regulation's spreadsheet, and the progress
board built by the projection over the plan events and the inbox."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from services.training.consumers import HANDLER
from services.training.export import HEADERS, XLSX
from services.training.projections import PROGRESS
from shared.auth import Role
from shared.projections import verify
from tests.integration.training.helpers import (
    TRAINEE,
    clerk,
    day,
    draft,
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
from tests.organisation import teach_branches


async def test_the_plan_is_shown_to_its_audience_only(svc):
    await enrol(svc)
    url = f"/plans/{TRAINEE}"
    assert (await svc.client.get(url, headers=manager(svc))).status_code == 404  # not drafted
    await draft(svc)
    assert (await svc.client.get(url)).status_code == 401
    # The contract's readers are the manager, the VP, the trainee, its trainers, its branch:
    # management and auditors read boards, grades and audits, not plan tables.
    for wrong_role in (
        svc.as_("pay", Role.PAYROLL),
        svc.as_("ex", Role.EXAMINER),
        svc.as_("boss", Role.MANAGEMENT),
        svc.as_("aud", Role.AUDITOR),
    ):
        assert (await svc.client.get(url, headers=wrong_role)).status_code == 403
    # Another branch, another trainee, a trainer without a stage here: as if there were no plan.
    for outsider in (clerk(svc, "dl-south"), trainee(svc, "t-2"), trainer(svc, "tr-other")):
        assert (await svc.client.get(url, headers=outsider)).status_code == 404
    audience = (manager(svc), vp(svc), clerk(svc), trainee(svc), trainer(svc, "tr-tech"))
    for reader in audience:
        shown = await svc.client.get(url, headers=reader)
        assert shown.status_code == 200, reader
        assert shown.headers["ETag"] == '"1"' and shown.json()["version"] == 1
    assert (await svc.client.get("/plans/t-404", headers=manager(svc))).status_code == 404


async def test_the_plan_table_shows_days_signatures_and_status(svc):
    await plan_in_force(svc)
    await post(svc, "/stages/1/days", day(hours="7.25"), trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/days/2026-03-10/confirm", {"agree": True}, trainee(svc))
    await post(svc, "/stages/1/sign-off", {"assessment": "good"}, trainer(svc, "tr-hr"))
    table = (await svc.client.get(f"/plans/{TRAINEE}", headers=trainee(svc))).json()
    assert (table["status"], table["version"]) == ("approved", 5)
    first = table["stages"][0]
    assert (
        first["days"][0] | {"date": "2026-03-10", "hours": "7.25", "confirmed": True}
        == first["days"][0]
    )
    assert (first["status"], first["trainer_assessment"], first["countersigned"]) == (
        "open",
        "good",
        False,
    )


async def test_the_export_is_a_spreadsheet_in_the_regulations_columns_one_row_per_stage(svc):
    await plan_in_force(svc)
    await post(svc, "/stages/1/days", day(), trainer(svc, "tr-hr"))
    await post(
        svc, "/stages/1/days", day(date="2026-03-11", content="forms"), trainer(svc, "tr-hr")
    )
    await post(svc, "/stages/1/days/2026-03-11/confirm", {"agree": False}, trainee(svc))
    await post(svc, "/stages/1/sign-off", {"assessment": "goal reached"}, trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/countersign", {"agree": False}, trainee(svc))
    url = f"/plans/{TRAINEE}/export.xlsx"
    assert (await svc.client.get(url, headers=clerk(svc, "dl-south"))).status_code == 404
    answer = await svc.client.get(url, headers=clerk(svc))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["content-disposition"] == f'attachment; filename="plan-{TRAINEE}.xlsx"'
    assert answer.headers["ETag"] == '"7"'
    sheet = load_workbook(BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert (
        rows[0]
        == HEADERS
        == (
            "序号",
            "受训内容",
            "培训部门/人",
            "计划培训时间",
            "实际培训时间及培训内容",
            "培训人评估",
            "培训师签名",
            "受训人签名",
        )
    )
    assert [r[0] for r in rows[1:]] == [1, 2, 3, 4, 5]
    first = rows[1]
    assert first[2] == "人力资源部/tr-hr" and first[3] == "2026-03-02 至 2026-03-27"
    assert first[4].splitlines() == [
        "2026-03-10 7.5小时：wiring diagrams（hands-on）",
        "2026-03-11 7.5小时：forms（hands-on） [受训人不同意]",
    ]
    # The trainee signs with its name (from its enrolment); tr-hr's name has not arrived: its id.
    assert first[5:] == ("goal reached", "tr-hr", "李娜（有异议）")
    assert rows[5][1] == "stage 5: product（X1）" and rows[5][4] is None


async def test_the_progress_board_counts_per_branch_and_per_trainer(svc):
    await enrol(svc, "t-2", branch_id="dl-south")  # enrolled, no plan yet
    await plan_in_force(svc, plan=stages(s1="2026-03-10", s2="2026-03-12"))
    await post(svc, "/stages/1/sign-off", {"assessment": "ok"}, trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/countersign", {"agree": False}, trainee(svc))  # a dispute
    await post(svc, "/stages/2/days", day(date="2026-03-11"), trainer(svc, "tr-hr"))
    await post(svc, "/stages/2/days/2026-03-11/confirm", {"agree": False}, trainee(svc))
    back = {"to_stage": 1, "reason": "processes not understood"}
    assert (await post(svc, "/stages/3/return", back, trainer(svc, "tr-as"))).status_code == 200
    for body in ({"reason": "perfunctory", "trainee_id": TRAINEE}, {"reason": "late"}):
        await svc.client.post("/trainers/tr-hr/demerits", json=body, headers=manager(svc))
    await wait_projected(svc)
    board = await svc.client.get("/board/progress", headers=svc.as_("boss", Role.MANAGEMENT))
    assert board.status_code == 200, board.text
    assert board.json()["as_of"] == "2026-03-16"
    north, south = board.json()["rows"]
    assert north == {
        "branch_id": "dl-north",
        "branch_name_zh": "dl-north",  # its names have not arrived: the id
        "branch_name_en": "dl-north",
        "trainees": 1,
        "without_plan": 0,
        "draft": 0,
        "approved": 1,
        "completed": 0,
        "withdrawn": 0,
        "overdue_stages": 2,
        "disputes": 1,
        "send_backs": 1,
    }
    assert (south["branch_id"], south["trainees"], south["without_plan"]) == ("dl-south", 1, 1)
    assert board.json()["trainers"] == [
        {
            "trainer_id": "tr-hr",
            "trainer_name": "tr-hr",
            "disputed_stages": 1,
            "dissenting_days": 1,
            "send_backs_received": 1,
            "demerits": 2,
        },
    ]
    own = (await svc.client.get("/board/progress", headers=clerk(svc))).json()
    assert [r["branch_id"] for r in own["rows"]] == ["dl-north"]
    assert own["trainers"][0]["demerits"] == 1  # the demerit naming no trainee is no branch's
    assert (
        await svc.client.get("/board/progress?branch_id=dl-south", headers=clerk(svc))
    ).status_code == 403
    assert (
        await svc.client.get("/board/progress", headers=trainer(svc, "tr-hr"))
    ).status_code == 403
    assert (await svc.client.get("/board/progress")).status_code == 401
    await teach_branches(svc.pool, HANDLER, "dl-south")  # a filter names a known branch
    south_only = await svc.client.get("/board/progress?branch_id=dl-south", headers=vp(svc))
    assert [r["branch_id"] for r in south_only.json()["rows"]] == ["dl-south"]
    assert south_only.json()["trainers"] == []
    # A rebuild reads all events, then all the inbox: the same tables as the live interleaving.
    assert await verify(svc.pool, "training", PROGRESS) == []
