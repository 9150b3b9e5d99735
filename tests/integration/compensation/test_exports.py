"""Exports of a month (xlsx with openpyxl, csv with the stdlib) and an employee's payslips."""

from __future__ import annotations

import asyncio
import csv
import io

from openpyxl import load_workbook

from shared.auth import Role
from tests.integration.compensation.upstream import (
    MONTH,
    clerk,
    day_logged,
    deliver,
    disposed,
    enrolled,
    graded,
    payroll,
    run,
)


async def month_with_pay_and_fees(svc):
    await deliver(svc, enrolled("t-d", "production_reserve"), graded("t-d", "technician", "junior"))
    await deliver(svc, enrolled("t-a"), graded("t-a", "engineer", "intermediate"))
    await deliver(
        svc,
        enrolled("t-f", "branch_commissioned", "dl-north"),
        disposed("t-f", "continue_training", "2026-04-10"),
        day_logged("t-f", "2026-04-11"),
    )
    travel = {"month": MONTH, "days": 3}
    assert (
        await svc.client.post("/employees/t-d/travel", json=travel, headers=payroll(svc))
    ).status_code == 201
    assert (await run(svc)).status_code == 200


async def test_payroll_exports_parse_as_xlsx_and_csv(svc):
    await month_with_pay_and_fees(svc)
    xlsx = await svc.client.get(f"/payroll/{MONTH}/export.xlsx", headers=payroll(svc))
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"payroll-{MONTH}.xlsx" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["员工编号", "姓名", "岗位工资"] and "合计" in header
    totals = {row[0]: row[header.index("合计")] for row in rows}
    assert totals == {"t-a": 3200, "t-d": 404.55}  # 50 + 354.55 travel pay
    assert {row[0]: row[1] for row in rows} == {"t-a": "王强", "t-d": "王强"}  # beside the id
    answer = await svc.client.get(f"/payroll/{MONTH}/export.csv", headers=payroll(svc))
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["员工编号"], r["姓名"], r["出差工资"], r["合计"]) for r in table] == [
        ("t-a", "王强", "", "3200.00"),
        ("t-d", "王强", "354.55", "404.55"),
    ]
    # header=key: the same cells under the JSON field names, for programs reading by column.
    keyed = await svc.client.get(
        f"/payroll/{MONTH}/export.csv", params={"header": "key"}, headers=payroll(svc)
    )
    by_key = list(csv.DictReader(io.StringIO(keyed.content.decode("utf-8-sig"))))
    assert [list(r.values()) for r in by_key] == [list(r.values()) for r in table]
    assert {"employee_id", "employee_name", "travel_pay", "total"} <= set(by_key[0])
    bad = await svc.client.get(
        f"/payroll/{MONTH}/export.csv", params={"header": "en"}, headers=payroll(svc)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.header"
    refused = await svc.client.get(f"/payroll/{MONTH}/export.csv", headers=clerk(svc))
    assert refused.status_code == 403


async def test_branch_fee_exports_parse_and_keep_to_the_clerks_branch(svc):
    await month_with_pay_and_fees(svc)
    answer = await svc.client.get(f"/branch-fees/{MONTH}/export.csv", headers=clerk(svc))
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows == [
        {
            "分支机构编号": "dl-north",
            "分支机构/网点": "dl-north",  # its names have not arrived: the id
            "分支机构/网点（英文）": "dl-north",
            "学员编号": "t-f",
            "学员姓名": "王强",
            "培训天数": "1",
            "金额": "200.00",
            "培训日期": "2026-04-11",
            "状态": "已发放",  # the month's run issued it
        },
    ]
    south = await svc.client.get(f"/branch-fees/{MONTH}/export.csv", headers=clerk(svc, "x"))
    assert len(list(csv.reader(io.StringIO(south.content.decode("utf-8-sig"))))) == 1  # header
    xlsx = await svc.client.get(f"/branch-fees/{MONTH}/export.xlsx", headers=payroll(svc))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert list(sheet.iter_rows(values_only=True))[1][:7] == (
        "dl-north",
        "dl-north",
        "dl-north",
        "t-f",
        "王强",
        1,
        200,
    )


async def test_an_employee_reads_its_own_payslips_across_months(svc):
    await month_with_pay_and_fees(svc)
    assert (await run(svc, month="2026-05")).status_code == 200
    mine = svc.as_("t-a", Role.TRAINEE)
    async with asyncio.timeout(10):
        while True:  # the read model follows the payroll stream a moment later
            page = (await svc.client.get("/employees/t-a/payslips?limit=1", headers=mine)).json()
            if page["next_cursor"]:
                break
            await asyncio.sleep(0.05)
    assert [p["month"] for p in page["items"]] == [MONTH]
    url = f"/employees/t-a/payslips?limit=1&cursor={page['next_cursor']}"
    rest = (await svc.client.get(url, headers=mine)).json()
    assert [(p["month"], p["total"]) for p in rest["items"]] == [("2026-05", "3200.00")]
    assert rest["next_cursor"] is None
    other = svc.as_("t-d", Role.TRAINEE)
    assert (await svc.client.get("/employees/t-a/payslips", headers=other)).status_code == 403
