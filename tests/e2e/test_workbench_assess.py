"""The assessment work on the workbench (/app/ on enrollment) in headless Chromium, signed in
through the real development identity provider, against enrollment, training and assessment
over real TCP ports; every control found by its label or role, in English and then in Chinese.

Seeded through the APIs: two trainees of bo-east enrolled and placed, their plans (tr-x's stage on
series X) approved, and the four other departments' practical scores. Then through the pages: the
after-sales manager opens session s-wb; the after-sales examiner scores it from the keyboard
(Enter saves a row; a score whose answer was lost is sent again under its key and stored once;
the rater-spread flag shows); the manager closes it (R-24) and records the failed trainee's
disposition (R-18). In Chinese: the trainee reads its grade and rule trace and files a dispute;
the manager corrects the scores (R-23); the auditor opens the trainee's audit in the dashboard.
"""

from __future__ import annotations

import time

import pytest

from ops.identity_provider import demo_trainee
from shared.auth import Role
from tests.e2e.helpers import approved_plans
from tests.e2e.workbench_support import (
    browser_page,
    practical_scores,
    serving,
    sign_in,
    sign_out,
)
from tests.support import enrolment, mandatory_stages, ok, plan_stage

MANAGER, EXAMINER, AUDITOR = "mgr-xu", "ex-after_sales", "aud-he"
PASSING = demo_trainee("bo-east")  # the demo trainee the provider signs in
FAILING = "t-wb-fail"
TRAINER, SERIES, SESSION = "tr-x", "X", "s-wb"
PLAN = [*mandatory_stages(), plan_stage(5, "product", "technical", TRAINER, SERIES)]
# The practical scores the four other departments' examiners enter (R-16); after-sales enters its
# own in the page: 83 for the passing trainee makes the spread 99 - 83 = 16 > 15, flagged.
OTHERS = {
    PASSING: {"technical": "99", "process_engineering": "96", "quality": "97", "production": "98"},
    FAILING: {"technical": "90", "process_engineering": "90", "quality": "90", "production": "90"},
}


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["assessment", "training", "enrollment"]) as served:
        yield served


async def seed(workbench) -> None:
    enrollment, training = workbench.apps["enrollment"], workbench.apps["training"]
    assessment = workbench.apps["assessment"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    for trainee_id, name in ((PASSING, "周丽"), (FAILING, "吴刚")):
        body = enrolment(
            trainee_id,
            name=name,
            branch_id="bo-east",
            education="bachelor",
            experience_years=4,
            product_series=["X1", "X2", "X3"],
            enrolled_on="2026-02-20",
        )
        await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
        placement = {"written": 85}
        path = f"/trainees/{trainee_id}/placement"
        await ok(enrollment.client.post(path, json=placement, headers=manager))
    await approved_plans(training, assessment, [PASSING, FAILING], PLAN, TRAINER, SERIES)


@pytest.mark.timeout(300)
async def test_a_session_opened_scored_closed_graded_disputed_and_decided(workbench):
    from playwright.async_api import expect

    started = time.monotonic()
    assessment = workbench.apps["assessment"]
    await seed(workbench)
    workbench.clock.set("2026-03-20")

    async def events(stream_prefix: str) -> list[dict]:
        return await workbench.events("assessment", stream_prefix)

    async with browser_page(workbench) as (page, errors):
        # The services' addresses on the page's own (sessionStorage keeps them for the tab).
        urls = workbench.urls
        await page.goto(
            f"{workbench.address}?lang=en"
            f"&assessment={urls['assessment']}&training={urls['training']}"
        )
        await sign_in(page, workbench, MANAGER)
        nav = page.get_by_role("navigation", name="Views")

        # The manager opens the session.
        await nav.get_by_role("link", name="Exam sessions").click()
        await page.get_by_label("Session ID").fill(SESSION)
        await page.get_by_label("Product series").fill(SERIES)
        await page.get_by_label("Held on").fill("2026-03-20")
        await page.get_by_role("button", name="Open the session").click()
        await expect(page.get_by_role("status").filter(has_text="is open")).to_have_text(
            f"Session {SESSION} ({SERIES}) is open."
        )
        await expect(page.locator(f'#sessions tr[data-session="{SESSION}"]')).to_contain_text(
            "Open"
        )
        (opened,) = await events(f"session-{SESSION}")
        assert (opened["type"], opened["actor"]["sub"]) == ("ExamSessionOpened", MANAGER)
        await practical_scores(assessment, SESSION, OTHERS)
        await sign_out(page, workbench)

        # The after-sales examiner scores from the keyboard: its written and practical columns.
        await sign_in(page, workbench, EXAMINER)
        await expect(nav.get_by_role("link")).to_have_text(["Scoring grid"])
        await page.get_by_label("Exam session").select_option(SESSION)
        await page.get_by_role("button", name="Show the grid").click()
        grid = page.locator("#scoring")
        await expect(
            page.get_by_role("heading", name=f"Scoring: {SESSION} ({SERIES})")
        ).to_be_visible()
        written_a = page.get_by_role("textbox", name="Written 周丽")
        await written_a.focus()
        await page.keyboard.type("95")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("textbox", name="After-sales 周丽")).to_be_focused()
        await page.keyboard.type("83")
        await page.keyboard.press("Enter")  # saved; on to the next row
        await expect(page.get_by_role("textbox", name="Written 吴刚")).to_be_focused()
        row_a = grid.locator(f'tr[data-trainee="{PASSING}"]')
        await expect(row_a.locator("td.decision")).to_have_text("Engineer, intermediate (94.8)")
        await expect(row_a.locator(".flag")).to_have_text(
            "Rater spread: review the practical scores (R-16)"
        )
        await expect(row_a.get_by_role("textbox")).to_have_count(0)

        # A bad score stays in its row, unsent; the first answer of the next one is lost on the
        # way back (the service stored it): Enter again sends it under the same key, once.
        posts: list[dict] = []
        page.on(
            "request",
            lambda r: posts.append(r.headers) if r.url.endswith("/written") else None,
        )
        lost: list[int] = []

        async def lose_the_answer(route):
            if not lost:
                lost.append((await route.fetch()).status)
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await page.route("**/written", lose_the_answer)
        row_b = grid.locator(f'tr[data-trainee="{FAILING}"]')
        await page.keyboard.type("101")
        await page.keyboard.press("Enter")
        await expect(row_b.get_by_role("alert")).to_contain_text("“101” is not a score")
        assert posts == []
        await page.get_by_role("textbox", name="Written 吴刚").fill("70")
        await page.keyboard.press("Enter")
        await expect(row_b.get_by_role("alert")).to_contain_text("Cannot reach the Assessment")
        assert lost == [201]
        await page.get_by_role("textbox", name="Written 吴刚").press("Enter")
        await page.get_by_role("textbox", name="After-sales 吴刚").fill("88")
        await page.keyboard.press("Enter")
        await expect(row_b.locator("td.decision")).to_have_text("Failed: Written (R-18)")
        assert len(posts) == 2 and len({h["idempotency-key"] for h in posts}) == 1, posts
        sitting = await events(f"assessment-{SESSION}/{FAILING}")
        scored = [e for e in sitting if e["type"] == "ExamScored"]
        assert len(scored) == 6, scored  # four seeded, the examiner's two: each stored once
        assert [e["actor"]["sub"] for e in scored[-2:]] == [EXAMINER, EXAMINER]
        assert sitting[-1]["type"] == "AssessmentFailed"
        graded = await events(f"assessment-{SESSION}/{PASSING}")
        assert graded[-1]["type"] == "GradeAssigned"
        await page.unroute("**/written")
        await sign_out(page, workbench)

        # The manager closes the session (R-24: one trainee of two failed, tr-x fined) and
        # records the failed trainee's disposition from the grid.
        await sign_in(page, workbench, MANAGER)
        await nav.get_by_role("link", name="Exam sessions").click()
        await page.get_by_role("button", name=f"Close {SESSION}").click()
        await expect(page.get_by_role("status").filter(has_text="is closed")).to_have_text(
            f"Session {SESSION} is closed: 1 trainer(s) assessed under R-24, 1 fined."
        )
        types = [e["type"] for e in await events(f"session-{SESSION}")]
        assert types == ["ExamSessionOpened", "ExamSessionClosed", "TrainerPenaltyAssessed"]
        await page.get_by_role("link", name=SESSION, exact=True).click()
        await expect(grid.locator("td.decision")).to_have_count(2)
        await page.get_by_role("link", name="Record the disposition").click()
        await expect(page.get_by_label("Trainee ID")).to_have_value(FAILING)
        await page.get_by_label("Disposition", exact=True).select_option(label="Continue training")
        await page.get_by_label("Cause and reason").fill("written exam weak: more product study")
        await page.get_by_role("button", name="Record the disposition").click()
        await expect(page.get_by_role("status").filter(has_text="recorded")).to_have_text(
            f"{FAILING} ({SESSION}): Continue training, recorded."
        )
        sitting = await events(f"assessment-{SESSION}/{FAILING}")
        assert (sitting[-1]["type"], sitting[-1]["actor"]["sub"]) == ("DispositionDecided", MANAGER)
        await sign_out(page, workbench)

        # 中文: the trainee reads its grade and how it was derived, and disputes it.
        await page.get_by_role("button", name="中文").click()
        await sign_in(page, workbench, PASSING, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await nav.get_by_role("link", name="我的等级").click()
        details = page.locator("#grade-details")
        await expect(details.locator('dd[data-field="grade"]')).to_have_text(
            "工程师（中级，94.8 分）"
        )
        trace = page.get_by_role("list", name="定级依据")
        await expect(
            trace.get_by_role("listitem").filter(has_text="practical spread")
        ).to_have_count(1)
        await page.get_by_label("理由").fill("售后实操评分偏低")
        await page.get_by_role("button", name="提交异议").click()
        await expect(page.get_by_role("status").filter(has_text="已提交")).to_contain_text(
            "您的异议 d-"
        )
        await expect(page.locator("#my-disputes tbody tr")).to_contain_text("已提出")
        filed = [e for e in await events("dispute-") if e["type"] == "GradeDisputed"]
        assert [(e["actor"]["sub"], e["branch_id"]) for e in filed] == [(PASSING, "bo-east")]
        await sign_out(page, workbench, button="退出登录")

        # The manager corrects the practical score of after-sales: a new grade.
        await sign_in(page, workbench, MANAGER, button="登录")
        await nav.get_by_role("link", name="等级异议").click()
        dispute = page.get_by_role("article", name="周丽")
        await expect(dispute.locator('dd[data-field="written"]')).to_have_text("95")
        await dispute.get_by_label("处理结果").select_option(label="更正分数")
        await dispute.get_by_label("售后部").fill("95")
        await dispute.get_by_role("button", name="作出决定").click()
        await expect(page.get_by_role("status").filter(has_text="已处理")).to_have_text(
            "周丽的异议已处理：更正分数。当前等级：工程师（中级，96 分）。"
        )
        await expect(page.locator("#disputes")).to_have_text("暂无待处理的异议。")
        sitting = await events(f"assessment-{SESSION}/{PASSING}")
        assert sitting[-1]["type"] == "GradeAssigned"
        resolved = [e for e in await events("dispute-") if e["type"] == "GradeDisputeResolved"]
        assert [e["actor"]["sub"] for e in resolved] == [MANAGER]
        await sign_out(page, workbench, button="退出登录")

        # The branch clerk reads the results reported back to the branch on each of its
        # trainees' pages: the corrected grade, and why the other has none (R-18).
        await sign_in(page, workbench, "clerk-bo-east", button="登录")
        results = page.locator("#trainee-results")
        await page.goto(f"{workbench.address}#trainees/{PASSING}")
        await expect(results.get_by_role("heading")).to_have_text("向分支机构反馈的结果")
        await expect(results.locator('dd[data-field="grade"]')).to_have_text(
            "工程师（中级，96 分）"
        )
        await page.goto(f"{workbench.address}#trainees/{FAILING}")
        await expect(results).to_contain_text("暂无等级：")
        await expect(results).to_contain_text("failed the assessment (R-18)")
        await sign_out(page, workbench, button="退出登录")

        # The auditor opens the trainee's audit in the dashboard.
        await sign_in(page, workbench, AUDITOR, button="登录")
        await page.get_by_label("学员编号").fill(PASSING)
        await page.get_by_role("button", name="打开审计").click()
        await page.wait_for_url(f"{workbench.urls['assessment']}/dashboard?lang=zh#audit/{PASSING}")
        assert errors == [], errors
    print(f"wall time {time.monotonic() - started:.1f} s")
