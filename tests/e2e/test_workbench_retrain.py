"""R-24 as now written on the workbench (/app/ on enrollment) in headless Chromium, signed in
through the development identity provider, against enrollment, training and assessment over
real TCP ports; every control found by its label or role, in English and then in Chinese.

Seeded through the APIs: two trainees of bo-east enrolled and placed, their plans approved (刘芳's
trainer colleague 陈刚, tr-chen-gang, teaches the travel policy, R-8a). Through the pages: the
after-sales manager opens a session for the training content "Travel policy"; the examiners'
scores go in through the API (one trainee fails: 50 %); the manager closes it, and 陈刚 reads
"Keep training until they pass (R-24)" with the failed trainee on it.
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.helpers import approve_once_placed, draft_once_known, sit
from tests.e2e.workbench_support import browser_page, serving, sign_in, sign_out, until
from tests.support import ALL_CONTENT, enrolment, ok, plan_stage

MANAGER, TRAINER = "mgr-xu", "tr-chen-gang"
PASSING, FAILING = "t-rt-pass", "t-rt-fail"
SESSION = "s-travel"
DAY = "2026-02-20"  # enrolled on, by the services' pinned clock
PLAN = [
    plan_stage(1, "company_processes", "hr", "tr-hr"),
    plan_stage(2, "department_responsibilities", "hr", "tr-hr"),
    plan_stage(3, "travel_policy", "after_sales", TRAINER),
    plan_stage(4, "appraisal_rules", "after_sales", "tr-as"),
    plan_stage(5, "product", "technical", "tr-x", "X", covers=ALL_CONTENT),
]


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
            trainee_id, name=name, branch_id="bo-east", education="bachelor", enrolled_on=DAY
        )
        await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
        path = f"/trainees/{trainee_id}/placement"
        await ok(enrollment.client.post(path, json={"written": 85}, headers=manager))
        await draft_once_known(training, trainee_id, PLAN)
        await approve_once_placed(training, trainee_id)
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT count(DISTINCT trainee_id) = 2 FROM plan_stages_in_force"
            " WHERE trainer_id = $1 AND topic = 'travel_policy'",
            TRAINER,
        )
    )


@pytest.mark.timeout(300)
async def test_a_content_session_opened_and_closed_and_the_trainer_told_whom_to_keep_training(
    workbench,
):
    from playwright.async_api import expect

    assessment = workbench.apps["assessment"]
    await seed(workbench)
    workbench.clock.set("2026-03-20")
    async with browser_page(workbench) as (page, errors):
        urls = workbench.urls
        await page.goto(
            f"{workbench.address}?lang=en"
            f"&assessment={urls['assessment']}&training={urls['training']}"
        )
        await sign_in(page, workbench, MANAGER)
        nav = page.get_by_role("navigation", name="Views")

        # The manager opens a session for a training content rather than a product series.
        await nav.get_by_role("link", name="Exam sessions").click()
        await page.get_by_label("Session ID").fill(SESSION)
        await page.get_by_label("Session for").select_option(label="A training content")
        await expect(page.get_by_label("Product series")).to_be_hidden()
        await page.get_by_label("Training content").select_option(label="Travel policy")
        await page.get_by_label("Held on").fill("2026-03-20")
        await page.get_by_role("button", name="Open the session").click()
        await expect(page.get_by_role("status").filter(has_text="is open")).to_have_text(
            f"Session {SESSION} (Travel policy) is open."
        )
        row = page.locator(f'#sessions tr[data-session="{SESSION}"]')
        await expect(row).to_contain_text("Travel policy")
        opened = await workbench.events("assessment", f"session-{SESSION}")
        assert [e["type"] for e in opened] == ["ExamSessionOpened"]

        # The examiners' scores (through the API): one of the two fails, 50 % -> fined.
        assert (await sit(assessment, SESSION, PASSING, "95"))["type"] == "GradeAssigned"
        assert (await sit(assessment, SESSION, FAILING, "79"))["type"] == "AssessmentFailed"
        await page.get_by_role("button", name="Refresh").click()
        await page.get_by_role("button", name=f"Close {SESSION}").click()
        await expect(page.get_by_role("status").filter(has_text="is closed")).to_have_text(
            f"Session {SESSION} is closed: 1 trainer(s) assessed under R-24, 1 fined."
        )
        await sign_out(page, workbench)

        # The trainer fined reads whom to keep training, in English and then in Chinese.
        await sign_in(page, workbench, TRAINER)
        await nav.get_by_role("link", name="Keep training until they pass (R-24)").click()
        owed = page.locator("#my-retraining tbody tr")

        async def listed() -> bool:
            if await owed.count() == 1:
                return True
            await page.get_by_role("button", name="Refresh", exact=True).click()
            return False

        await until(listed)
        await expect(owed).to_contain_text(f"吴刚 ({FAILING})")
        await expect(owed).to_contain_text("Travel policy")
        await expect(page.get_by_role("status")).to_have_text("1 trainee(s) to keep training.")
        await page.get_by_role("button", name="中文").click()
        await expect(page.get_by_role("heading", name="继续培训直至合格（R-24）")).to_be_visible()
        await expect(owed).to_contain_text("差旅制度")
        await expect(page.get_by_role("columnheader", name="不合格场次")).to_be_visible()
        assert errors == []
