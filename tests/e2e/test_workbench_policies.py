"""Policies on the workbench (/app/ on enrollment) in headless Chromium, signed in through the
real development identity provider, against enrollment, assessment and compensation over real
TCP ports; every control found by its label or role (docs/policy.md).

The executive vice-president opens Grading: its versions and the version in force; edits a
draft from it and previews the changes (nothing stored); publishes a malformed draft (every
problem listed, nothing stored); publishes the corrected one (its changes, a second version).
Then, in Chinese, payroll sees only the pay tables, and previews a change to them.
"""

from __future__ import annotations

import asyncio

import pytest

from ops.rounds import EXEC_VP, PAYROLL
from tests.e2e.workbench_support import browser_page, serving, sign_in, sign_out

TODAY = "2026-05-20"


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "assessment", "compensation"]) as served:
        yield served


@pytest.mark.timeout(300)
async def test_the_vp_previews_and_publishes_a_grading_version_payroll_the_pay_tables(workbench):
    from playwright.async_api import expect

    workbench.clock.set(TODAY)
    urls = workbench.urls
    async with browser_page(workbench) as (page, errors):
        await page.goto(
            f"{workbench.address}?lang=en&assessment={urls['assessment']}"
            f"&compensation={urls['compensation']}"
        )
        await sign_in(page, workbench, EXEC_VP.sub)
        nav = page.get_by_role("navigation", name="Views")
        await nav.get_by_role("link", name="Policies").click()
        await page.get_by_label("Policy", exact=True).select_option(label="Grading (R-15 to R-21)")
        versions = page.get_by_role("table", name="Versions")
        await expect(versions.get_by_role("row")).to_have_count(2)  # the header, the shipped one
        await expect(versions).to_contain_text("grading-2026.1")
        await expect(
            page.get_by_role("heading", name="In force today: grading-2026.1")
        ).to_be_visible()

        # A draft from the version in force: its changes, nothing stored.
        draft = page.get_by_label("Draft (JSON)")
        shipped = await draft.input_value()
        await page.get_by_label("Version", exact=True).fill("grading-2027.1")
        await expect(page.get_by_label("Effective from")).to_have_value(TODAY)
        await draft.fill(shipped.replace('"min_score": "97"', '"min_score": "98"'))
        await page.get_by_role("button", name="Preview changes").click()
        changes = page.get_by_role("region", name="Changes against grading-2026.1")
        await expect(changes.get_by_role("listitem")).to_have_text(
            ["bands[engineer/senior].min_score: 97 → 98"]
        )
        assert len(await workbench.events("assessment", "policy-grading")) == 1

        # A malformed draft: every problem listed, by field; nothing stored.
        malformed = shipped.replace('"min_score": "97"', '"min_score": "93"').replace(
            '"written_pass_mark": "80"', '"written_pass_mark": "180"'
        )
        await draft.fill(malformed)
        await page.get_by_role("button", name="Publish").click()
        problems = page.get_by_role("region", name="Problems")
        await expect(problems.get_by_role("listitem")).to_have_text(
            [
                "document.written_pass_mark: must be between 0 and 100, not 180",
                "document.bands[1]: min_score 94 must be below the one before (93): highest first",
            ]
        )
        assert len(await workbench.events("assessment", "policy-grading")) == 1

        # Corrected and published: its changes, and a second version.
        await draft.fill(shipped.replace('"min_score": "97"', '"min_score": "98"'))
        await page.get_by_role("button", name="Publish").click()
        await expect(page.get_by_role("status")).to_have_text(
            f"Published grading-2027.1, in force from {TODAY}."
        )
        await expect(versions.get_by_role("row")).to_have_count(3)
        await expect(changes.get_by_role("listitem")).to_have_text(
            ["bands[engineer/senior].min_score: 97 → 98"]
        )
        published = await workbench.events("assessment", "policy-grading")
        assert [e["type"] for e in published] == ["PolicyPublished", "PolicyPublished"]
        assert published[-1]["actor"] == {"sub": EXEC_VP.sub, "role": "exec_vp"}

        # 中文: payroll publishes the pay tables only, and previews a change to them.
        await page.get_by_role("button", name="中文").click()
        await sign_out(page, workbench, "退出登录")
        await sign_in(page, workbench, PAYROLL.sub, "登录")
        await page.get_by_role("navigation", name="功能").get_by_role("link", name="政策").click()
        choice = page.get_by_label("政策", exact=True)
        await expect(choice.get_by_role("option")).to_have_text(["薪酬标准（R-25 至 R-32）"])
        await expect(page.get_by_role("heading", name="今日适用：pay-2026.1")).to_be_visible()
        pay = page.get_by_label("草案（JSON）")
        await pay.fill(
            (await pay.input_value()).replace('"default_rating": "100"', '"default_rating": "95"')
        )
        await page.get_by_label("版本", exact=True).fill("pay-2027.1")
        await page.get_by_role("button", name="预览差异").click()
        await expect(
            page.get_by_role("region", name="与 pay-2026.1 相比的变化").get_by_role("listitem")
        ).to_have_text(["default_rating: 100 → 95"])
        assert errors == []


@pytest.mark.timeout(120)
async def test_a_policy_chosen_while_the_first_still_loads_is_the_one_shown(workbench):
    """The first policy's versions arrive after the second was chosen: the second stays shown."""
    from playwright.async_api import expect

    workbench.clock.set(TODAY)
    urls = workbench.urls
    first_sent, first_answered = asyncio.Event(), asyncio.Event()

    async def hold_the_first(route) -> None:
        first_sent.set()
        await asyncio.sleep(1.5)  # the placement policy answers slowly
        await route.continue_()
        first_answered.set()

    async with browser_page(workbench) as (page, errors):
        await page.goto(f"{workbench.address}?lang=en&assessment={urls['assessment']}")
        await sign_in(page, workbench, EXEC_VP.sub)
        await page.route("**/policies/placement", hold_the_first)
        nav = page.get_by_role("navigation", name="Views")
        await nav.get_by_role("link", name="Policies").click()
        await first_sent.wait()
        await page.get_by_label("Policy", exact=True).select_option(label="Grading (R-15 to R-21)")
        in_force = page.get_by_role("heading", name="In force today: grading-2026.1")
        await expect(in_force).to_be_visible()
        await first_answered.wait()
        await page.evaluate("() => new Promise((done) => setTimeout(done, 300))")
        await expect(in_force).to_be_visible()
        await expect(page.get_by_role("table", name="Versions")).not_to_contain_text("placement")
        assert errors == [], errors
