"""Payroll's month and a trainee's payslips on the workbench (/app/ on enrollment) in headless
Chromium, signed in through the real development identity provider, against enrollment and
compensation over real TCP ports and the real bus; every control found by its label or role.

Seeded through the APIs: two trainees enrolled at enrollment (the enrolments reach compensation
over the bus), graded as compensation's tests grade them (GradeAssigned through its consumer and
inbox). Payroll chooses April and enters inputs in the grid (a value the month cannot hold is
refused beside its field, and so is the service's refusal of one input; a double-clicked row
stores once, one key per input); imports a sheet (a bad one first: the per-row report, nothing
stored); runs the month and sees the payslips. Then, in Chinese, it corrects an input (the save
after someone else recorded meanwhile is refused with the 412 message, and goes through once
reloaded), runs again (a correction beside the payslip it replaces, R-32) and downloads the
payslips' xlsx. The trainee signs in and sees its own payslips.
"""

from __future__ import annotations

import time

import pytest
from openpyxl import load_workbook

from ops.identity_provider import demo_trainee
from ops.rounds import PAYROLL
from shared.auth import Role
from tests.e2e.helpers import HQ_TRAINEE
from tests.e2e.workbench_support import (
    browser_page,
    refreshed_until,
    serving,
    sheet_file,
    sign_in,
    sign_out,
    until,
)
from tests.integration.compensation.upstream import deliver, graded
from tests.support import enrolment, ok

MONTH = "2026-04"
HQ, RESERVE = demo_trainee("hq"), "t-wb-reserve"
SHEET_HEADERS = ["员工编号", "姓名", "出差天数", "计件工资", "绩效评分"]


def sheet(name: str, rows) -> dict:
    return sheet_file(name, SHEET_HEADERS, rows)


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "compensation"]) as served:
        yield served


async def graded_employees(workbench) -> None:
    """Two trainees enrolled at hq (an engineer and a production-reserve technician), known to
    compensation, graded in March: each has a pay rate."""
    enrollment, pay = workbench.apps["enrollment"], workbench.apps["compensation"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    reserve = {**HQ_TRAINEE, "name": "李娜", "category": "production_reserve"}
    for trainee_id, body in ((HQ, HQ_TRAINEE), (RESERVE, reserve)):
        request = enrolment(trainee_id, **body)
        await ok(enrollment.client.post("/trainees", json=request, headers=manager), 201)
    await until(
        lambda: pay.pool.fetchval(
            "SELECT count(*) = 2 FROM known_employees WHERE employee_id = ANY($1::text[])",
            [HQ, RESERVE],
        )
    )
    await deliver(
        pay, graded(HQ, "engineer", "intermediate"), graded(RESERVE, "technician", "junior")
    )


async def inputs_of(workbench, employee_id):
    return [
        e
        for e in await workbench.events("compensation", f"employee-{employee_id}")
        if e["type"] != "PayRateSet"
    ]


@pytest.mark.timeout(300)
async def test_payroll_enters_imports_runs_and_corrects_and_the_trainee_sees_it(
    workbench, tmp_path
):
    from playwright.async_api import expect

    started = time.monotonic()
    workbench.clock.set("2026-05-20")
    await graded_employees(workbench)
    async with browser_page(workbench) as (page, errors):
        urls = workbench.urls
        await page.goto(f"{workbench.address}?lang=en&compensation={urls['compensation']}")
        await sign_in(page, workbench, PAYROLL.sub)
        nav = page.get_by_role("navigation", name="Views")
        await expect(nav.get_by_role("link")).to_have_text(["Pay inputs", "Payroll", "Policies"])

        # April's grid: one row per graded employee, the inputs its category is paid on.
        await page.get_by_label("Month", exact=True).fill(MONTH)
        await page.get_by_role("button", name="Show").click()
        await expect(page.get_by_role("heading", name=f"Pay inputs of {MONTH}")).to_be_visible()
        hq = page.get_by_role("form", name="王强")
        reserve = page.get_by_role("form", name="李娜")
        await expect(hq.locator(".pay-post")).to_have_text(
            "Head-office after-sales staff · Engineer · intermediate"
        )
        await expect(hq.get_by_label("Piece-rate wage")).to_have_count(0)
        await expect(reserve.get_by_label("Performance rating (%)")).to_have_count(0)

        # A value April cannot hold is refused beside its field, nothing sent.
        posts: list[dict] = []
        page.on(
            "request",
            lambda r: posts.append({"url": r.url, **r.headers}) if r.method == "POST" else None,
        )
        days = reserve.get_by_label("Travel days")
        await days.fill("31")
        await reserve.get_by_role("button", name="Save").click()
        await expect(days).to_have_attribute("aria-invalid", "true")
        await expect(days).to_have_accessible_description("Whole days, 0 to 30.")
        assert posts == []

        # The service's refusal of one input (a rule, 409) is shown beside that input; what
        # was stored before it is not sent again.
        async def refuse(route):
            await route.fulfill(
                status=409,
                headers={"Content-Type": "application/problem+json"},
                body='{"type": "/problems/rules/R-28", "title": "Rule violated", "status": 409,'
                ' "detail": "not this month", "rule": "R-28"}',
            )

        await page.route("**/piece-rate", refuse)
        await days.fill("2")
        piece = reserve.get_by_label("Piece-rate wage")
        await piece.fill("1500.5")
        await reserve.get_by_role("button", name="Save").click()
        await expect(piece).to_have_accessible_description("not this month (R-28)")
        await expect(reserve.get_by_role("alert")).to_contain_text("not this month")
        await page.unroute("**/piece-rate")
        posts.clear()
        await reserve.get_by_role("button", name="Save").click()
        await expect(reserve.get_by_role("status")).to_have_text("Saved.")
        assert [p["url"].rsplit("/", 1)[1] for p in posts] == ["piece-rate"]
        assert [e["type"] for e in await inputs_of(workbench, RESERVE)] == [
            "TravelDaysRecorded",
            "PieceRateRecorded",
        ]

        # The engineer's row double-clicked: each input stored once, under one key each.
        posts.clear()
        await hq.get_by_label("Travel days").fill("3")
        await hq.get_by_label("Performance rating (%)").fill("90")
        await hq.get_by_role("button", name="Save").dblclick()
        await expect(hq.get_by_role("status")).to_have_text("Saved.")
        recorded = await inputs_of(workbench, HQ)
        assert [e["type"] for e in recorded] == ["TravelDaysRecorded", "PerformanceRated"]
        assert {e["actor"]["sub"] for e in recorded} == {PAYROLL.sub}
        keys = [p["idempotency-key"] for p in posts]
        assert len(posts) == 2 and len(set(keys)) == 2, posts
        stored = [e["idempotency_key"] for e in recorded]  # scoped: method, path, who, key
        assert all(s.endswith(f":{k}") for s, k in zip(stored, keys, strict=True)), stored

        # A sheet with a bad row records nothing and says which row and column...
        before = await workbench.apps["compensation"].pool.fetchval("SELECT count(*) FROM events")
        chooser = page.get_by_label("Spreadsheet (xlsx)")
        await chooser.set_input_files(
            sheet("bad.xlsx", [[HQ, "王强", 4, None, None], [RESERVE, "李娜", None, None, 80]])
        )
        await page.get_by_role("button", name="Record the file's inputs").click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Nothing was recorded: 1 problem(s) in the file"
        )
        problem = page.locator("#import-problems tbody tr")
        await expect(problem).to_have_attribute("data-row", "3")
        await expect(problem).to_contain_text("rating")
        await expect(problem).to_contain_text("(R-27)")
        pool = workbench.apps["compensation"].pool
        assert await pool.fetchval("SELECT count(*) FROM events") == before
        # ... a good one records every row, and the grid shows it.
        await chooser.set_input_files(
            sheet("good.xlsx", [[HQ, "王强", 4, None, None], [RESERVE, "李娜", None, 1600, None]])
        )
        await page.get_by_role("button", name="Record the file's inputs").click()
        await expect(page.get_by_role("status").filter(has_text="from the file")).to_have_text(
            "Recorded the inputs of 2 employee(s) from the file."
        )
        await expect(hq.get_by_label("Travel days")).to_have_value("4")
        await expect(reserve.get_by_label("Piece-rate wage")).to_have_value("1600.00")

        # The month run: a payslip each.
        await nav.get_by_role("link", name="Payroll").click()
        await expect(page.get_by_role("heading", name=f"Payroll of {MONTH}")).to_be_focused()
        await expect(page.get_by_text("No payslip issued for this month yet.")).to_be_visible()
        await page.get_by_role("button", name="Run the month").click()
        await expect(page.get_by_role("status").filter(has_text="Issued")).to_have_text(
            "Issued 2 payslip(s), 0 correction(s), 0 branch fee(s) and 0 trainer fine(s)."
        )
        slips = page.locator("#payslips tbody tr")
        await expect(slips).to_have_count(2)
        hq_slip = page.locator(f'#payslips tr[data-employee="{HQ}"]')
        await expect(hq_slip).to_contain_text("Position pay 2240.00")
        await expect(page.get_by_text("No branch fee charged this month.")).to_be_visible()

        # 中文: the engineer's travel days corrected, the month run again: a correction.
        await page.get_by_role("button", name="中文").click()
        nav = page.get_by_role("navigation", name="功能")
        await nav.get_by_role("link", name="薪酬输入").click()
        await expect(page.get_by_role("heading", name=f"{MONTH} 薪酬输入")).to_be_visible()
        # Someone else rates the engineer meanwhile: the row's save is refused (412), nothing
        # stored; the grid read again shows the rating, and the save goes through.
        await expect(hq.get_by_label("出差天数")).to_have_value("4")  # the grid as read now
        pay = workbench.apps["compensation"]
        body = {"month": MONTH, "rating": "85"}
        other = pay.as_("pay-other", Role.PAYROLL)
        await ok(pay.client.post(f"/employees/{HQ}/performance", json=body, headers=other), 201)
        await hq.get_by_label("出差天数").fill("5")
        await hq.get_by_role("button", name="保存").click()
        await expect(hq.get_by_role("alert")).to_contain_text("已有他人修改了它")
        assert [e["type"] for e in await inputs_of(workbench, HQ)][-1] == "PerformanceRated"
        await hq.get_by_role("button", name="重新加载").click()
        await expect(hq.get_by_label("绩效评分（%）")).to_have_value("85")
        await hq.get_by_label("出差天数").fill("5")
        await hq.get_by_role("button", name="保存").click()
        await expect(hq.get_by_role("status")).to_have_text("已保存。")
        await nav.get_by_role("link", name="工资发放").click()
        await page.get_by_role("button", name="发放本月工资").click()
        await expect(page.get_by_role("status").filter(has_text="已发放")).to_have_text(
            "已发放工资单 0 份、更正 1 份、网点培训费 0 笔、培训师罚款 0 笔。"
        )
        await expect(hq_slip).to_contain_text("更正前一工资单，差额 +")
        await page.get_by_text("本月发放的全部工资单（3）").click()
        await expect(page.locator("#payslip-history")).to_contain_text("已被更正")
        issued = await workbench.events("compensation", f"payroll-{MONTH}")
        assert [e["type"] for e in issued] == ["PayslipIssued"] * 3

        # The payslips' spreadsheet, fetched with the token and saved as a download.
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="下载工资单（xlsx）").click()
        download = await download_info.value
        assert download.suggested_filename == f"payroll-{MONTH}.xlsx"
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        book = load_workbook(saved)
        cells = {str(c.value) for row in book.active.iter_rows() for c in row}
        assert {HQ, RESERVE, "王强"} <= cells, cells
        await expect(page.get_by_role("status").filter(has_text="已下载")).to_have_text(
            f"已下载 payroll-{MONTH}.xlsx。"
        )

        # The trainee signs in and sees its own payslips (a read model a moment behind).
        await sign_out(page, workbench, button="退出登录")
        await sign_in(page, workbench, HQ, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await nav.get_by_role("link", name="我的工资单").click()
        await expect(page.get_by_role("heading", name="我的工资单")).to_be_focused()
        mine = page.locator("#my-payslips tbody tr")

        await refreshed_until(page, mine, 2, refresh="刷新")
        await expect(mine.nth(0)).to_contain_text("已被更正")
        await expect(mine.nth(1)).to_contain_text("更正前一工资单")
        await expect(mine.nth(1)).to_contain_text(MONTH)
        assert errors == [], errors
    elapsed = time.monotonic() - started
    print(f"test_workbench_pay: {elapsed:.1f} s")
