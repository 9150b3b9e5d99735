"""The branch clerk's day on the workbench (/app/ on enrollment) in headless Chromium, signed in
through the real development identity provider, against enrollment over a real TCP port; every
control found by its label or role, as a person finds it, in English and then in Chinese.

A clerk of bo-east signs in and sees its four views only; enrols a trainee by form (a date in the
future by the service's clock: R-3's error beside the field, nothing stored; fixed, then the
submit double-clicked: stored once, every request under one Idempotency-Key); enrols another from
an xlsx sheet (a sheet with a bad row first: the per-row report, nothing stored); finds both in
the branch's list; opens one through a quiet "waiting" state (a 404 with Retry-After); withdraws
it after someone else changed it (the 412 message, reload, withdraw: TraineeWithdrawn). Then in
Chinese a clerk of bo-west sees none of them (R-2), not even by address, and enrols its own.
"""

from __future__ import annotations

import asyncio

import pytest

from shared.auth import Role
from tests.e2e.workbench_support import (
    browser_page,
    refreshed_until,
    serving,
    sheet_file,
    sign_in,
    sign_out,
)
from tests.support import ok

EAST, WEST = "clerk-bo-east", "clerk-bo-west"
SHEET_HEADERS = ["学员编号", "姓名", "类别", "网点编号", "学历", "工作年限", "产品系列", "报名日期"]
ELSEWHERE = "http://127.0.0.1:9/"  # the dashboard's service, as the address names it


def sheet(name: str, rows) -> dict:
    return sheet_file(name, SHEET_HEADERS, rows)


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment"]) as served:
        yield served


async def enrolled(workbench, trainee_id):
    return [
        e
        for e in await workbench.events("enrollment", f"trainee-{trainee_id}")
        if e["type"] == "TraineeEnrolled"
    ]


@pytest.mark.timeout(300)
async def test_a_clerk_enrols_finds_and_withdraws_and_another_branch_sees_none_of_it(workbench):
    from playwright.async_api import expect

    enrollment = workbench.apps["enrollment"]
    async with browser_page(workbench) as (page, errors):
        await page.goto(f"{workbench.address}?lang=en&assessment={ELSEWHERE}")
        await expect(page.locator("#global-message")).to_have_text("Sign in to start your work.")
        await expect(page.get_by_role("navigation")).to_be_hidden()
        await sign_in(page, workbench, EAST)

        # Only the clerk's views; the dashboard one link away.
        nav = page.get_by_role("navigation", name="Views")
        await expect(nav.get_by_role("link")).to_have_text(
            ["Enrol a trainee", "Trainees", "Enrol from a spreadsheet", "Feedback"]
        )
        await expect(page.get_by_role("link", name="Management dashboard")).to_have_attribute(
            "href", f"{ELSEWHERE.rstrip('/')}/dashboard?lang=en"
        )
        await expect(page.get_by_role("heading", name="Enrol a trainee")).to_be_visible()
        await expect(page.get_by_label("Branch", exact=True)).to_have_value("bo-east")

        # From the keyboard: the first Tab reaches "Skip to the work", its focus drawn.
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to the work")
        await expect(skip).to_be_focused()
        assert await skip.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"

        # The form checks what the request model checks before sending anything...
        posts: list[dict] = []
        page.on(
            "request",
            lambda r: (
                posts.append(r.headers)
                if r.method == "POST" and r.url.endswith("/trainees")
                else None
            ),
        )
        enrol = page.get_by_role("button", name="Enrol", exact=True)
        await enrol.click()
        name = page.get_by_label("Name", exact=True)
        await expect(name).to_have_attribute("aria-invalid", "true")
        await expect(name).to_have_accessible_description("Required.")
        await expect(page.get_by_role("alert").filter(has_text="Please correct")).to_contain_text(
            "Name"
        )
        assert posts == []

        # ... and shows the service's problem+json beside the field it names (R-3: the
        # service's today is 2026-02-25).
        await name.fill("赵敏")
        await page.get_by_label("Category").select_option(
            label="Commissioned by a branch office or dealer"
        )
        await page.get_by_label("Education").select_option(label="High school")
        await page.get_by_label("Years of experience").fill("4")
        await page.get_by_label("Product series mastered").fill("X1, X2")
        await page.get_by_label("Trainee ID (optional)").fill("t-wb-form")
        date = page.get_by_label("Enrolment date")
        await date.fill("2026-03-10")
        await enrol.click()
        await expect(date).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#enrol-date-error")).to_contain_text("in the future (R-3)")
        await expect(page.get_by_role("alert").filter(has_text="Please correct")).to_contain_text(
            "Enrolment date"
        )
        assert await enrolled(workbench, "t-wb-form") == []

        # Fixed, and double-clicked: stored once, under one key.
        posts.clear()
        await date.fill("2026-02-20")
        await enrol.dblclick()
        await expect(page.get_by_role("status").filter(has_text="Enrolled")).to_have_text(
            "Enrolled 赵敏 as t-wb-form."
        )
        await expect(date).not_to_have_attribute("aria-invalid", "true")
        events = await enrolled(workbench, "t-wb-form")
        assert len(events) == 1, events
        assert (events[0]["branch_id"], events[0]["actor"]["sub"]) == ("bo-east", EAST)
        keys = {h.get("idempotency-key") for h in posts}
        assert len(keys) == 1 and None not in keys, posts
        assert events[0]["idempotency_key"] is not None

        # Many at once: a sheet with a bad row stores nothing and says which row...
        await nav.get_by_role("link", name="Enrol from a spreadsheet").click()
        await expect(page.get_by_role("heading", name="Enrol from a spreadsheet")).to_be_focused()
        chooser = page.get_by_label("Spreadsheet (xlsx)")
        good_row = ["t-wb-sheet", "陈刚", "委培", "bo-east", "本科", 2.5, "X1", "2026-02-21"]
        bad_row = ["t-wb-bad", "王强", "专职", "bo-east", "高中", 3, "", "2026-02-21"]
        await chooser.set_input_files(sheet("bad.xlsx", [good_row, bad_row]))
        await page.get_by_role("button", name="Enrol everyone in the file").click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Nothing was enrolled: 1 problem(s) in the file"
        )
        problem = page.locator("#import-problems tbody tr")
        await expect(problem).to_have_count(1)
        await expect(problem).to_have_attribute("data-row", "3")
        await expect(problem).to_contain_text("category")
        assert await enrolled(workbench, "t-wb-sheet") == []
        # ... a good one enrols everyone in it, row by row.
        await chooser.set_input_files(sheet("good.xlsx", [good_row]))
        await page.get_by_role("button", name="Enrol everyone in the file").click()
        await expect(page.get_by_role("status").filter(has_text="from the file")).to_have_text(
            "Enrolled 1 trainee(s) from the file."
        )
        await expect(page.locator("#import-enrolled tbody tr")).to_have_attribute("data-row", "2")
        assert len(await enrolled(workbench, "t-wb-sheet")) == 1

        # The branch's list has both (its read model may lag a moment: Refresh, as a person
        # would); the filter narrows it.
        await nav.get_by_role("link", name="Trainees").focus()
        await page.keyboard.press("Enter")
        heading = page.get_by_role("heading", name="Trainees of East branch office")
        await expect(heading).to_be_focused()
        rows = page.locator("#trainees tbody tr")

        await refreshed_until(page, rows, 2)
        await expect(rows.get_by_role("link")).to_have_text(["赵敏", "陈刚"])
        await page.get_by_label("Find by name or ID").fill("陈")
        await expect(rows).to_have_count(1)

        # Opened while its profile "has not arrived": waited out quietly, visibly.
        answered_404 = []

        async def not_yet(route):
            if not answered_404:
                answered_404.append(route.request.url)
                await route.fulfill(
                    status=404,
                    headers={"Retry-After": "1", "Content-Type": "application/problem+json"},
                    body='{"type": "/problems/not-arrived", "title": "Not arrived",'
                    ' "status": 404, "detail": "not yet"}',
                )
            else:
                await route.continue_()

        await page.route("**/trainees/t-wb-sheet", not_yet)
        await rows.get_by_role("link", name="陈刚").click()
        waiting = page.locator("#waiting")
        await expect(waiting).to_have_text(
            "Waiting for the Enrollment service: what this needs has not reached it yet…"
        )
        await expect(page.get_by_role("heading", name="陈刚")).to_be_visible()
        await expect(waiting).to_be_hidden()
        assert answered_404
        await page.unroute("**/trainees/t-wb-sheet")

        # Someone else changes the trainee meanwhile: the withdrawal is refused (412), nothing
        # stored; reloaded, the clerk sees the change and withdraws.
        manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
        placed = enrollment.client.post(
            "/trainees/t-wb-sheet/placement", json={"written": 85}, headers=manager
        )
        await ok(placed)
        await page.get_by_label("Reason for withdrawing").fill("moved to another company")
        await page.get_by_role("button", name="Withdraw", exact=True).click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Someone else changed this record after you opened it, so nothing was saved."
        )
        withdrawals = await workbench.events("enrollment", "trainee-t-wb-sheet")
        assert [e["type"] for e in withdrawals] == ["TraineeEnrolled", "PlacementExamScored"]
        await page.get_by_role("button", name="Reload").click()
        profile = page.locator("#trainee-profile")
        await expect(profile.locator('dd[data-field="status"]')).to_have_text("Placed")
        await expect(page.get_by_label("Reason for withdrawing")).to_have_value(
            "moved to another company"
        )
        await page.get_by_role("button", name="Withdraw", exact=True).click()
        await expect(page.get_by_role("status").filter(has_text="withdrawn")).to_have_text(
            "陈刚 is withdrawn."
        )
        await expect(profile.locator('dd[data-field="status"]')).to_have_text("Withdrawn")
        # The withdrawal form is gone, and nothing stands in its place.
        await expect(page.get_by_label("Reason for withdrawing")).to_have_count(0)
        assert "null" not in await page.locator("#view").inner_text()
        events = await workbench.events("enrollment", "trainee-t-wb-sheet")
        assert [e["type"] for e in events][-1] == "TraineeWithdrawn"
        assert (events[-1]["actor"]["sub"], events[-1]["actor"]["role"]) == (EAST, "branch_clerk")

        # Back from signing out, the page asks for the sign-in settings (slowly, here): the
        # language switch, pressed meanwhile, is not lost.
        async def slowly(route):
            await asyncio.sleep(1)
            await route.continue_()

        await page.route("**/auth/config", slowly)
        await sign_out(page, workbench)

        # 中文: a clerk of bo-west sees none of bo-east's trainees, even by address.
        await page.get_by_role("button", name="中文").click()
        await expect(page.locator("#global-message")).to_have_text("请先登录，再开始工作。")
        await sign_in(page, workbench, WEST, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await expect(nav.get_by_role("link")).to_have_text(
            ["学员报名", "学员名单", "表格批量报名", "反馈"]
        )
        await nav.get_by_role("link", name="学员名单").click()
        await expect(page.get_by_role("heading", name="西部办事处的学员")).to_be_visible()
        await expect(page.locator("#trainees-table")).to_have_text("本分支机构尚无学员报名。")
        await page.goto(f"{workbench.address}#trainees/t-wb-form")
        await expect(page.get_by_role("alert")).to_contain_text("未找到（报名服务）")
        await expect(page.locator("#trainee-profile")).to_have_count(0)

        # ... and enrols its own, by the Chinese labels. The first answer is lost on the way
        # back (the service stored it): sent again, the same submission keeps its key, and the
        # service answers as the first time instead of storing a second trainee.
        await (
            page.get_by_role("navigation", name="功能").get_by_role("link", name="学员报名").click()
        )
        lost: list[int] = []

        async def lose_the_answer(route):
            if route.request.method == "POST" and not lost:
                lost.append((await route.fetch()).status)
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await page.route("**/trainees", lose_the_answer)
        posts.clear()
        await page.get_by_label("姓名", exact=True).fill("刘洋")
        await page.get_by_label("人员类别").select_option(label="办事处/经销商委培售后人员")
        await page.get_by_label("学历").select_option(label="本科")
        await page.get_by_label("从业年限").fill("2")
        await page.get_by_label("报名日期").fill("2026-02-24")
        await page.get_by_label("学员编号（可选）").fill("t-wb-west")
        await page.get_by_role("button", name="报名", exact=True).click()
        await expect(page.get_by_role("alert")).to_contain_text("无法连接 报名服务")
        assert lost == [201]
        await page.get_by_role("button", name="报名", exact=True).click()
        await expect(page.get_by_role("status").filter(has_text="已为")).to_have_text(
            "已为 刘洋 报名，学员编号 t-wb-west。"
        )
        assert len(posts) == 2 and len({h["idempotency-key"] for h in posts}) == 1, posts
        (event,) = await enrolled(workbench, "t-wb-west")
        assert (event["branch_id"], event["actor"]["sub"]) == ("bo-west", WEST)
        assert errors == [], errors
