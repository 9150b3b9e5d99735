"""The dashboard's trends and the progress board's workbook (issue 20) in headless Chromium,
against the four apps over real TCP ports, seeded as tests/e2e/test_dashboard.py seeds them: six
trainees graded and one failed on 1 March 2026, three of each branch (hq, bo-east).

The Trends tab shows, per month, the trainees graded, failed and the trainer fines, found by its
labels in English and in Chinese, every month shown (0 where nothing happened); the training
progress tab downloads its board as a workbook with both header rows."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.test_dashboard import chromium_page, seed, served, workbook_rows

__all__ = ["served"]  # the fixture, used by name


def cells(row) -> list[str]:
    return [text.strip() for text in row]


@pytest.mark.timeout(180)
async def test_the_trends_per_month_and_branch_in_english_and_chinese(served):
    from playwright.async_api import expect

    apps, urls, clock = served
    await seed(apps, clock)
    assessment = apps["assessment"]
    boss = assessment.token("boss", Role.MANAGEMENT, Role.AUDITOR)
    query = "&".join(f"{name}={url}" for name, url in urls.items())
    address = f"{urls['assessment']}/dashboard?token={boss}&{query}&lang=en#trends"

    async with chromium_page() as (page, errors):
        await page.goto(address)
        await expect(page.get_by_role("tab", name="Trends")).to_have_attribute(
            "aria-selected", "true"
        )
        await page.get_by_label("First month").fill("2026-01")
        await page.get_by_label("Last month").fill("2026-04")
        async with page.expect_request(lambda r: "from=2026-01&to=2026-04" in r.url):
            await page.locator("#view-trends").get_by_role("button", name="Show").click()
        totals = page.get_by_role("table", name="Per month", exact=True)
        await expect(totals.locator("tbody tr")).to_have_count(4)  # empty months too
        await expect(totals.locator("thead")).to_contain_text("Graded")
        march = totals.locator('tbody tr[data-month="2026-03"] td')
        await expect(march).to_have_text(["2026-03", "6", "1", "0", "0.00"])
        january = totals.locator('tbody tr[data-month="2026-01"] td')
        await expect(january).to_have_text(["2026-01", "0", "0", "0", "0.00"])
        by_branch = page.get_by_role("table", name="Per month and branch")
        east = by_branch.locator('tbody tr[data-month="2026-03"][data-branch="bo-east"] td')
        await expect(east.nth(2)).to_have_text("3")
        await expect(east.nth(3)).to_have_text("1")  # t-e4 failed
        hq = by_branch.locator('tbody tr[data-month="2026-03"][data-branch="hq"] td')
        await expect(hq.nth(2)).to_have_text("3")
        bars = page.get_by_role("img", name="Graded and failed per month")
        await expect(
            bars.locator('rect[data-month="2026-03"][data-measure="graded"]')
        ).to_have_count(1)

        # One branch: the service is asked for it, the rows are its own.
        async with page.expect_request(lambda r: "branch_id=hq" in r.url):
            await (
                page.locator("#view-trends")
                .get_by_role("combobox", name="Branch")
                .select_option("hq")
            )
        await expect(by_branch.locator("tbody tr")).to_have_count(4)
        await expect(march).to_have_text(["2026-03", "3", "0", "0", "0.00"])

        # 中文: the labels change, the numbers stay.
        await page.locator("#lang-toggle").click()
        await expect(page.get_by_role("tab", name="趋势")).to_be_visible()
        totals_zh = page.get_by_role("table", name="按月合计", exact=True)
        await expect(totals_zh.locator("thead")).to_contain_text("定级人数")
        await expect(totals_zh.locator('tbody tr[data-month="2026-03"] td').nth(1)).to_have_text(
            "3"
        )
        await expect(page.get_by_label("起始月份")).to_have_value("2026-01")

        # The progress board as a workbook, from the training service.
        await page.get_by_role("tab", name="培训进度").click()
        await expect(page.locator("#progress-branches tbody tr")).not_to_have_count(0)
        async with page.expect_download() as waiting:
            await page.locator("#view-progress").get_by_role("button", name="下载 xlsx").click()
        book = await workbook_rows(await waiting.value)
        assert book[0][:4] == ("网点编号", "网点", "Branch (English)", "学员人数")
        assert book[1][:4] == ("Branch id", "Branch", "Branch (English)", "Trainees")
        assert {row[0]: row[3] for row in book[2:]} == {"bo-east": 4, "hq": 3}
        assert errors == [], errors
