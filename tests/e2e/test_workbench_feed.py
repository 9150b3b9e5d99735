"""The branch clerk's "Feedback" and the status of fees and fines on the workbench (/app/ on
enrollment) in headless Chromium, signed in through the real development identity provider,
against enrollment and compensation over real TCP ports and the real bus; every control found by
its label or role, in English and in Chinese.

Seeded through the APIs: two branch-commissioned trainees of bo-east enrolled at enrollment (the
enrolments reach compensation over the bus), then what assessment and training tell compensation
about them (through its consumer and inbox): a trainer's concern and its handling (R-12b), a grade,
a failure and its disposition (R-18), a training day after it (R-19: 200 to the branch) and a
trainer's penalty (R-24). The clerk of bo-east reads it all, newest first, and the month's fee,
assessed and not yet issued (R-33); in Chinese too. Payroll sees the fee and the fine assessed,
runs March, and sees them issued.
"""

from __future__ import annotations

import pytest

from ops.rounds import PAYROLL
from shared.auth import Role
from tests.e2e.workbench_support import (
    browser_page,
    refreshed_until,
    serving,
    sign_in,
    sign_out,
    until,
)
from tests.integration.compensation.feed_events import (
    at,
    concern,
    disposed,
    failed,
    graded,
    handled,
)
from tests.integration.compensation.upstream import day_logged, deliver, penalty
from tests.support import enrolment, ok

MONTH = "2026-03"
CLERK = "clerk-bo-east"
PASSING, FAILING = "t-wb-pass", "t-wb-fail"


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "compensation"]) as served:
        yield served


async def results_of_bo_east(workbench) -> None:
    enrollment, pay = workbench.apps["enrollment"], workbench.apps["compensation"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    for trainee_id, name in ((PASSING, "周明"), (FAILING, "吴芳")):
        body = enrolment(trainee_id, name=name, branch_id="bo-east", enrolled_on="2026-02-27")
        await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
    await until(
        lambda: pay.pool.fetchval(
            "SELECT count(*) = 2 FROM known_employees WHERE employee_id = ANY($1::text[])",
            [PASSING, FAILING],
        )
    )
    await deliver(
        pay,
        concern(FAILING, at(10), "bo-east"),
        handled(FAILING, at(11), "bo-east"),
        graded(PASSING, at(20, 9), "bo-east"),
        failed(FAILING, at(20, 10), "bo-east"),
        disposed(FAILING, at(20, 15), "bo-east"),
        day_logged(FAILING, "2026-03-23"),
        penalty("tr-x", "200", "2026-03-20", "0.5"),
    )


@pytest.mark.timeout(300)
async def test_the_clerk_reads_its_feedback_and_fees_and_payroll_sees_them_issued(workbench):
    from playwright.async_api import expect

    workbench.clock.set("2026-03-25")
    await results_of_bo_east(workbench)
    async with browser_page(workbench) as (page, errors):
        urls = workbench.urls
        await page.goto(f"{workbench.address}?lang=en&compensation={urls['compensation']}")
        await sign_in(page, workbench, CLERK)
        nav = page.get_by_role("navigation", name="Views")
        await nav.get_by_role("link", name="Feedback").click()
        await expect(
            page.get_by_role("heading", name="Feedback on the trainees of")
        ).to_be_visible()

        feed = page.locator("#feedback tbody tr")
        await refreshed_until(page, feed, 5)  # a read model: Refresh while it catches up
        await expect(feed.locator("td:nth-child(3)")).to_have_text(
            [
                "Disposition",
                "Failed the assessment",
                "Grade",
                "Concern handled",
                "Concern noted by the trainer",
            ]
        )
        await expect(feed.nth(0)).to_contain_text("吴芳")
        await expect(feed.nth(0)).to_contain_text("Continue training: the branch insists")
        await expect(feed.nth(1)).to_contain_text("failed: Written; written 79")
        await expect(feed.nth(2)).to_contain_text("周明")
        await expect(feed.nth(2)).to_contain_text("grade score 86.5")
        await expect(feed.nth(3)).to_contain_text("verified: 加训两天 (by mgr)")
        await expect(feed.nth(4)).to_contain_text("stage 5: 跟不上产品系列 X 的进度")

        # The month's fee, assessed and not yet issued.
        fees = page.get_by_role("region", name="Your branch's training fees (R-19)")
        await fees.get_by_label("Month", exact=True).fill(MONTH)
        await fees.get_by_role("button", name="Show").click()
        fee = page.locator("#branch-fees tbody tr")
        await expect(fee).to_have_count(1)
        await expect(fee).to_contain_text("吴芳")
        await expect(fee).to_contain_text("200.00")
        await expect(fee).to_contain_text("Assessed, not yet issued")

        # 中文: the same, in Chinese.
        await page.get_by_role("button", name="中文").click()
        nav_zh = page.get_by_role("navigation", name="功能")
        await expect(nav_zh.get_by_role("link", name="反馈")).to_be_visible()
        await expect(page.get_by_role("heading", name="学员的反馈")).to_be_visible()
        await expect(feed.locator("td:nth-child(3)")).to_have_text(
            ["处置", "考核不合格", "定级", "问题处理", "培训师记录的问题"]
        )
        await expect(feed.nth(0)).to_contain_text("继续培训")
        await expect(feed.nth(3)).to_contain_text("已核实：加训两天")
        await expect(fee).to_contain_text("已核定，未发放")
        await page.get_by_role("button", name="刷新").click()
        await expect(feed).to_have_count(5)
        await page.get_by_role("button", name="English").click()
        await sign_out(page, workbench)

        # Payroll: the fee and the fine assessed; the month run issues them.
        await page.goto(
            f"{workbench.address}?lang=en&compensation={urls['compensation']}#payroll/{MONTH}"
        )
        await sign_in(page, workbench, PAYROLL.sub)
        await nav.get_by_role("link", name="Payroll").click()
        await page.get_by_label("Month", exact=True).fill(MONTH)
        await page.get_by_role("button", name="Show").click()
        await expect(page.get_by_role("heading", name=f"Payroll of {MONTH}")).to_be_visible()
        fee_row = page.locator("#branch-fees tbody tr")
        fine_row = page.locator("#trainer-fines tbody tr")
        await expect(fee_row).to_contain_text("Assessed, not yet issued")
        await expect(fine_row).to_contain_text("Assessed, not yet issued")
        await page.get_by_role("button", name="Run the month").click()
        await expect(page.get_by_role("status").filter(has_text="Issued")).to_contain_text(
            "1 branch fee(s) and 1 trainer fine(s)"
        )
        await expect(fee_row).to_contain_text("Issued")
        await expect(fine_row).to_contain_text("Issued")
        await page.get_by_role("button", name="中文").click()
        await expect(fee_row).to_contain_text("已发放")
        await expect(fine_row).to_contain_text("已发放")
        assert errors == []
