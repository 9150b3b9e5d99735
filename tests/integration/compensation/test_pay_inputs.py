"""The payroll clerk's month of inputs over HTTP against real PostgreSQL: the grid's read
(``GET /payroll/{month}/inputs``) and a sheet of inputs (``POST /imports/pay-inputs/{month}``):
every row recorded as its own route would record it, or, when any row is bad, nothing, with
each problem named by row and column (problem+json)."""

from __future__ import annotations

from shared.auth import Role
from shared.problems import PROBLEM_JSON
from tests.integration.compensation.upstream import (
    MONTH,
    amounts,
    count_events,
    deliver,
    enrolled,
    graded,
    management,
    payroll,
    payslips,
    run,
)
from tests.support import xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZH = ["员工编号", "姓名", "出差天数", "计件工资", "绩效评分"]


async def two_employees(svc):
    await deliver(
        svc,
        enrolled("t-hq"),
        graded("t-hq", "engineer", "intermediate"),
        enrolled("t-pr", "production_reserve"),
        graded("t-pr", "technician", "junior"),
        enrolled("t-ungraded"),
    )


async def upload(svc, data, month=MONTH, key="sheet-1", headers=None):
    head = {**(headers or payroll(svc)), "Content-Type": XLSX, "Idempotency-Key": key}
    return await svc.client.post(f"/imports/pay-inputs/{month}", content=data, headers=head)


async def inputs(svc, month=MONTH, headers=None):
    return await svc.client.get(f"/payroll/{month}/inputs", headers=headers or payroll(svc))


async def test_the_grid_lists_the_paid_employees_with_their_inputs_r27_r28(svc):
    await two_employees(svc)
    answer = await inputs(svc)
    assert answer.status_code == 200, answer.text
    rows = {r["employee_id"]: r for r in answer.json()["rows"]}
    assert sorted(rows) == ["t-hq", "t-pr"]  # the ungraded one is paid nothing yet
    hq, pr = rows["t-hq"], rows["t-pr"]
    assert (hq["employee_name"], hq["category"], hq["position"], hq["level"]) == (
        "王强",
        "hq_full_time",
        "engineer",
        "intermediate",
    )
    assert hq["inputs"] == ["travel_days", "rating"]
    assert pr["inputs"] == ["travel_days", "piece_rate"]
    assert (hq["travel_days"], hq["rating"], pr["piece_rate"]) == (None, None, None)

    body = {"month": MONTH, "days": 4}
    await svc.client.post("/employees/t-hq/travel", json=body, headers=payroll(svc))
    body = {"month": MONTH, "amount": "1500.5"}
    await svc.client.post("/employees/t-pr/piece-rate", json=body, headers=payroll(svc))
    rows = {r["employee_id"]: r for r in (await inputs(svc)).json()["rows"]}
    assert (rows["t-hq"]["travel_days"], rows["t-pr"]["piece_rate"]) == (4, "1500.50")
    assert (rows["t-hq"]["version"], rows["t-pr"]["version"]) == (2, 2)  # the rate, the input
    assert (await inputs(svc, "2026-05")).json()["rows"][0]["travel_days"] is None

    assert (await inputs(svc, headers=management(svc))).status_code == 200
    trainee = svc.as_("t-hq", Role.TRAINEE)
    assert (await inputs(svc, headers=trainee)).status_code == 403
    assert (await inputs(svc, "2026-13")).status_code == 422


async def test_a_sheet_with_a_bad_row_stores_nothing_and_names_row_and_column(svc):
    await two_employees(svc)
    before = await count_events(svc)
    sheet = xlsx(
        ZH,
        ["t-hq", "王强", 3, None, 90],
        ["t-pr", "李", 2, None, 80],  # no performance pay for production reserve
        ["t-nobody", None, 1, None, None],
        ["t-hq", None, 30, None, None],  # twice
        ["t-ungraded", None, None, None, None],  # records nothing
        ["t-x", None, "many", None, None],
    )
    answer = await upload(svc, sheet)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    found = [(e["row"], e["field"], e.get("rule")) for e in answer.json()["errors"]]
    assert found == [
        (3, "rating", "R-27"),
        (4, "employee_id", None),
        (5, "employee_id", None),
        (6, "row", None),
        (7, "travel_days", None),
    ], answer.json()
    assert await count_events(svc) == before

    # April has 30 days: the account's decider refuses 31 as its route would.
    answer = await upload(svc, xlsx(ZH, ["t-pr", None, 31, None, None]), key="sheet-2")
    assert [(e["row"], e["field"]) for e in answer.json()["errors"]] == [(2, "travel_days")]
    # A header the layout does not know is a problem of row 1.
    answer = await upload(svc, xlsx(["员工编号", "奖金"], ["t-hq", 1]), key="sheet-3")
    assert [(e["row"], e["field"]) for e in answer.json()["errors"]] == [(1, "奖金")]
    answer = await upload(svc, b"not a workbook", key="sheet-4")
    assert [(e["row"], e["field"]) for e in answer.json()["errors"]] == [(None, "file")]
    assert await count_events(svc) == before


async def test_a_good_sheet_records_every_row_once_and_pays_it(svc):
    await two_employees(svc)
    sheet = xlsx(
        ["employee_id", "travel_days", "piece_rate", "rating"],
        ["t-hq", 3, None, "90"],
        ["t-pr", 2, "1234.56", None],
    )
    answer = await upload(svc, sheet)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "month": MONTH,
        "imported": 2,
        "rows": [
            {"row": 2, "employee_id": "t-hq", "recorded": ["travel_days", "rating"]},
            {"row": 3, "employee_id": "t-pr", "recorded": ["travel_days", "piece_rate"]},
        ],
    }
    recorded = await count_events(svc)
    again = await upload(svc, sheet)  # the same key: replayed, nothing stored twice
    assert again.status_code == 201 and again.json() == answer.json()
    assert await count_events(svc) == recorded
    rows = await svc.pool.fetch(
        "SELECT type, actor ->> 'sub' AS sub FROM events WHERE stream_id = 'employee-t-hq'"
        " AND type <> 'PayRateSet' ORDER BY version"
    )
    assert [(r["type"], r["sub"]) for r in rows] == [
        ("TravelDaysRecorded", "pay-1"),
        ("PerformanceRated", "pay-1"),
    ]
    assert (await run(svc)).status_code == 200
    slips = {p["employee_id"]: p for p in (await payslips(svc))["payslips"]}
    assert amounts(slips["t-pr"])["piece_rate"] == "1234.56"
    trainee = svc.as_("t-hq", Role.TRAINEE)
    assert (await upload(svc, sheet, key="sheet-5", headers=trainee)).status_code == 403
