"""Names where people read them in compensation: payslips name the employee, branch fees the
branch (zh, en) and the trainee, trainer fines the trainer, in JSON and in the xlsx and csv files
(Chinese headers); a rename changes the name shown, a closed branch keeps its fees; a fee filter
naming a branch compensation has not learnt of is a 422 naming the field."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from services.compensation.consumers import handle
from tests.integration.compensation.upstream import (
    MONTH,
    day_logged,
    deliver,
    disposed,
    enrolled,
    graded,
    management,
    payroll,
    penalty,
    run,
)
from tests.organisation import (
    branch_closed,
    branch_registered,
    branch_renamed,
    deliver_organisation,
    staff_registered,
    standard_names,
)


async def a_month_with_names(svc):
    await deliver_organisation(
        svc.pool, handle, branch_registered("bo-east"), staff_registered("tr-1", "孙老师")
    )
    await deliver(
        svc,
        enrolled("t-a", name="张伟"),
        graded("t-a", "engineer", "intermediate"),
        enrolled("t-f", "branch_commissioned", "bo-east", name="赵敏"),
        disposed("t-f", "continue_training", "2026-04-10"),
        day_logged("t-f", "2026-04-11"),
        penalty("tr-1", "150", "2026-04-28"),
        penalty("tr-2", "200", "2026-04-28", "0.5"),
    )
    assert (await run(svc)).status_code == 200


def csv_rows(answer):
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def xlsx_rows(answer):
    assert answer.status_code == 200, answer.text
    return list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))


async def test_payroll_fees_and_fines_name_people_and_branches_in_json(svc):
    await a_month_with_names(svc)
    month = (await svc.client.get(f"/payroll/{MONTH}", headers=payroll(svc))).json()
    assert [(p["employee_id"], p["employee_name"]) for p in month["payslips"]] == [("t-a", "张伟")]
    assert [p["employee_name"] for p in month["history"]] == ["张伟"]
    fees = (await svc.client.get(f"/branch-fees/{MONTH}", headers=payroll(svc))).json()
    assert [
        (r["branch_id"], r["branch_name_zh"], r["branch_name_en"], r["trainee_name"])
        for r in fees["rows"]
    ] == [("bo-east", *standard_names("bo-east"), "赵敏")]
    fines = (await svc.client.get(f"/trainer-fines/{MONTH}", headers=management(svc))).json()
    assert sorted((r["trainer_id"], r["trainer_name"]) for r in fines["rows"]) == [
        ("tr-1", "孙老师"),
        ("tr-2", "tr-2"),  # not registered (yet): the id
    ]


async def test_the_exports_carry_chinese_headers_and_names_beside_ids(svc):
    await a_month_with_names(svc)
    pay = csv_rows(await svc.client.get(f"/payroll/{MONTH}/export.csv", headers=payroll(svc)))
    assert [(r["员工编号"], r["姓名"], r["合计"]) for r in pay] == [("t-a", "张伟", "3200.00")]
    header, *rows = xlsx_rows(
        await svc.client.get(f"/branch-fees/{MONTH}/export.xlsx", headers=payroll(svc))
    )
    assert header[:5] == (
        "分支机构编号",
        "分支机构/网点",
        "分支机构/网点（英文）",
        "学员编号",
        "学员姓名",
    )
    assert rows == [
        ("bo-east", *standard_names("bo-east"), "t-f", "赵敏", 1, 200, "2026-04-11", "已发放")
    ]
    fines = csv_rows(
        await svc.client.get(f"/trainer-fines/{MONTH}/export.csv", headers=management(svc))
    )
    assert sorted((r["培训师编号"], r["培训师"], r["不合格率"], r["金额"]) for r in fines) == [
        ("tr-1", "孙老师", "0.4", "150.00"),
        ("tr-2", "tr-2", "0.5", "200.00"),
    ]
    header, *rows = xlsx_rows(
        await svc.client.get(
            f"/trainer-fines/{MONTH}/export.xlsx", params={"header": "key"}, headers=payroll(svc)
        )
    )
    # header=key: the fields of the JSON answer's rows, the trainer's name beside the id.
    fines = (await svc.client.get(f"/trainer-fines/{MONTH}", headers=payroll(svc))).json()
    assert set(header) < set(fines["rows"][0]) and header[:2] == ("trainer_id", "trainer_name")
    assert ("tr-1", "孙老师", "s-1", "X1", None, 0.4, 150, "issued") in rows


async def test_a_rename_shows_at_once_and_a_closed_branch_keeps_its_fees(svc):
    await a_month_with_names(svc)
    await deliver_organisation(
        svc.pool, handle, branch_renamed("bo-east", "华东大区", "East Region")
    )
    url = f"/branch-fees/{MONTH}/export.csv"
    renamed = csv_rows(await svc.client.get(url, headers=payroll(svc)))
    assert [(r["分支机构/网点"], r["分支机构/网点（英文）"]) for r in renamed] == [
        ("华东大区", "East Region")
    ]
    await deliver_organisation(svc.pool, handle, branch_closed("bo-east", version=3))
    closed = await svc.client.get(
        f"/branch-fees/{MONTH}", params={"branch_id": "bo-east"}, headers=management(svc)
    )
    assert closed.status_code == 200, closed.text
    assert [(r["branch_name_zh"], r["amount"]) for r in closed.json()["rows"]] == [
        ("华东大区", "200.00")
    ]


async def test_a_fee_filter_naming_an_unknown_branch_is_a_422_naming_the_field(svc):
    for path in (f"/branch-fees/{MONTH}", f"/branch-fees/{MONTH}/export.csv"):
        refused = await svc.client.get(path, params={"branch_id": "bo-x"}, headers=payroll(svc))
        assert refused.status_code == 422, refused.text
        assert [(e["field"], e["type"]) for e in refused.json()["errors"]] == [
            ("query.branch_id", "unknown_branch")
        ]
    await deliver_organisation(svc.pool, handle, branch_registered("bo-x"))
    known = await svc.client.get(
        f"/branch-fees/{MONTH}", params={"branch_id": "bo-x"}, headers=payroll(svc)
    )
    assert known.status_code == 200 and known.json()["rows"] == []
