"""The after-sales manager's placement and plan and the executive vice-president's approval on the
workbench (/app/ on enrollment) in headless Chromium, signed in through the real development
identity provider, against enrollment and training over real TCP ports (training learning of the
trainees over the bus); every control found by its label or role, in English, then in Chinese.

Two trainees enrolled and two trainers registered through the API. The manager sees both waiting
for a placement, places one (PlacementExamScored) and draws up its plan: a plan missing a
mandatory topic is refused by the page before anything is sent (R-8a), fixed with another stage,
then the submit double-clicked: one PlanDrafted, every request under one Idempotency-Key. In
Chinese the vice-president finds it in the queue as its plan table, trainers by name; the manager
re-drafts it meanwhile, so the approval is refused (412) and nothing stored; reloaded, the second
revision is approved in one action (PlanApproved). The production manager lists only its
production reserve trainees' plans and opens one to draw it up.
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.workbench_support import (
    browser_page,
    refreshed_until,
    register_trainers,
    serving,
    sign_in,
    sign_out,
)
from tests.support import enrolment, mandatory_stages, ok

MANAGER, VP, PRODUCTION = "mgr-xu", "vp-song", "pm-gao"
# R-7a: the intermediate level's content items, as the editor labels them.
INTERMEDIATE_ITEMS = (
    "Circuit principles",
    "Mechanical structure",
    "Working principle",
    "Product structure",
    "Assembling the product",
    "Maintenance",
    "Control-program install and commissioning",
    "Fault analysis",
    "Fault repair",
)
PLACED, WAITING = "t-wb-plan", "t-wb-wait"
TRAINERS = [
    {"staff_id": "tr-wb-hr", "name": "周老师", "department": "hr"},
    {"staff_id": "tr-wb-as", "name": "孙老师", "department": "after_sales"},
]


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "training"]) as served:
        yield served


async def seeded(workbench) -> None:
    enrollment = workbench.apps["enrollment"]
    await register_trainers(enrollment, TRAINERS)
    manager = enrollment.as_(MANAGER, Role.AFTER_SALES_MANAGER)
    for trainee_id, name, category, branch in (
        (PLACED, "陈刚", "branch_commissioned", "bo-east"),
        (WAITING, "刘洋", "production_reserve", "hq"),
    ):
        body = enrolment(
            trainee_id, name=name, category=category, branch_id=branch, enrolled_on="2026-02-20"
        )
        await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)


async def types(workbench, service, stream):
    return [e["type"] for e in await workbench.events(service, stream)]


@pytest.mark.timeout(300)
async def test_the_manager_places_and_plans_and_the_vp_approves(workbench):
    from playwright.async_api import expect

    await seeded(workbench)
    async with browser_page(workbench) as (page, errors):
        # The page names training's address (elsewhere than beside enrollment here).
        await page.goto(f"{workbench.address}?lang=en&training={workbench.urls['training']}")
        await sign_in(page, workbench, MANAGER)
        nav = page.get_by_role("navigation", name="Views")
        await expect(nav.get_by_role("link")).to_have_text(
            [
                "To place and plan",
                "Training plans",
                "Exam sessions",
                "Scoring grid",
                "Disposition of a failed trainee",
                "Concerns about trainees",
                "Grade disputes",
                "Audit of a trainee",
            ]
        )

        # Both trainees wait for a placement (the directory may lag a moment: Refresh).
        await expect(page.get_by_role("heading", name="Trainees to place and plan")).to_be_visible()
        rows = page.locator("#waiting-trainees tbody tr")

        await refreshed_until(page, rows, 2)
        await expect(rows.nth(0)).to_contain_text("None yet")

        # The placement exam: written and practical, average 88.5: a technician.
        await page.get_by_role("link", name="Record the placement of 陈刚").click()
        await expect(page.get_by_role("heading", name="Placement exam: 陈刚")).to_be_visible()
        await page.get_by_label("Written score").fill("85")
        await page.get_by_label("Practical score (optional)").fill("92")
        await page.get_by_role("button", name="Record the placement").click()
        await expect(page.get_by_role("status").filter(has_text="is placed")).to_have_text(
            "陈刚 is placed: Technician, Intermediate (average 88.5)."
        )
        assert await types(workbench, "enrollment", f"trainee-{PLACED}") == [
            "TraineeEnrolled",
            "PlacementExamScored",
        ]

        # The plan: a new one starts from the four mandatory topics, one row each.
        await page.get_by_role("link", name="Draw up the plan of 陈刚").click()
        await expect(page.get_by_role("heading", name="Training plan: 陈刚")).to_be_visible()
        await expect(
            page.get_by_text("No plan has been drawn up for this trainee yet.")
        ).to_be_visible()
        for n, (content, trainer) in enumerate(
            [
                ("公司流程", "周老师"),
                ("部门职责", "周老师"),
                ("差旅制度", "孙老师"),
                ("X1 wiring", "孙老师"),
            ],
            start=1,
        ):
            await page.get_by_label(f"Content, stage {n}").fill(content)
            await page.get_by_label(f"Trainer, stage {n}").select_option(label=trainer)
            await page.get_by_label(f"Planned start, stage {n}").fill("2026-03-02")
            await page.get_by_label(f"Planned end, stage {n}").fill("2026-03-13")
        # The trainer's department fills in the stage's.
        await expect(page.get_by_label("Department, stage 1")).to_have_value("hr")
        # Stage 4 made a product stage: the appraisal rules are no longer covered (R-8a).
        await page.get_by_label("Topic, stage 4").select_option(label="Product")
        await page.get_by_label("Product series, stage 4").fill("X1")
        topics = page.locator("#plan-topics")
        await expect(topics).to_have_text(
            "Mandatory topics not covered yet (R-8a): After-sales appraisal rules."
        )
        puts: list[dict] = []
        page.on("request", lambda r: puts.append(r.headers) if r.method == "PUT" else None)
        submit = page.get_by_role("button", name="Submit the plan for approval")
        await submit.click()
        await expect(page.get_by_role("alert")).to_have_text(
            "The plan does not cover the mandatory topics: After-sales appraisal rules (R-8a)."
            " Add a stage for each, then submit."
        )
        assert puts == []

        # Fixed with a fifth stage, from the keyboard's reach; then double-clicked: stored once.
        await page.get_by_role("button", name="Add a stage").click()
        await expect(page.get_by_label("Content, stage 5")).to_be_focused()
        await page.keyboard.type("售后考核制度")
        await page.get_by_label("Topic, stage 5").select_option(label="After-sales appraisal rules")
        await page.get_by_label("Trainer, stage 5").select_option(label="孙老师")
        await page.get_by_label("Planned start, stage 5").fill("2026-03-16")
        await page.get_by_label("Planned end, stage 5").fill("2026-03-20")
        await expect(topics).to_have_text("The four mandatory topics are covered (R-8a).")
        await expect(page.get_by_role("alert")).to_have_count(0)
        # the intermediate level's content items (a technician), none ticked yet: refused
        # before anything is sent; ticked on stage 4 (the product stage), the plan goes.
        covers = page.locator("#plan-covers")
        await expect(covers).to_contain_text("Content of the Intermediate level not covered yet")
        await submit.click()
        await expect(page.get_by_role("alert")).to_contain_text("(R-7)")
        assert puts == []
        for item in INTERMEDIATE_ITEMS:
            await page.get_by_label(f"{item}, stage 4").check()
        await expect(covers).to_have_text(
            "Every content item of the Intermediate level is covered (R-7)."
        )
        await expect(page.get_by_role("alert")).to_have_count(0)
        await submit.dblclick()
        await expect(page.get_by_role("status").filter(has_text="Submitted")).to_have_text(
            "Submitted: revision 1 of the plan of 陈刚 awaits approval."
        )
        table = page.locator("#plan-table tbody tr")
        await expect(table).to_have_count(5)
        await expect(table.nth(4)).to_contain_text("After-sales / 孙老师")
        assert await types(workbench, "training", f"plan-{PLACED}") == ["PlanDrafted"]
        assert puts and len({h.get("idempotency-key") for h in puts}) == 1, puts

        # 中文: the vice-president's queue.
        await sign_out(page, workbench)
        await page.get_by_role("button", name="中文").click()
        await sign_in(page, workbench, VP, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await expect(nav.get_by_role("link")).to_have_text(["待审批计划", "政策"])
        await expect(page.get_by_role("heading", name="待审批的培训计划")).to_be_visible()
        card = page.locator(f'article[data-trainee="{PLACED}"]')

        await refreshed_until(page, card, 1, refresh="刷新")
        await expect(card.get_by_role("heading")).to_have_text(f"陈刚（{PLACED}）：第 1 版")
        await expect(card.locator("tbody tr")).to_have_count(5)
        await expect(card.locator("tbody tr").nth(0)).to_contain_text("人力资源部 / 周老师")
        await expect(card.locator("tbody tr").nth(4)).to_contain_text("售后考核制度")

        # The manager re-drafts meanwhile: the approval is decided on a plan no longer there.
        training = workbench.apps["training"]
        stages = mandatory_stages(planned_start="2026-03-02", planned_end="2026-03-20")
        for stage, trainer in zip(
            stages, ("tr-wb-hr", "tr-wb-hr", "tr-wb-as", "tr-wb-as"), strict=True
        ):
            stage["trainer_id"] = trainer
        manager = training.as_(MANAGER, Role.AFTER_SALES_MANAGER) | {"If-Match": '"1"'}
        await ok(training.client.put(f"/plans/{PLACED}", json={"stages": stages}, headers=manager))
        approve = card.get_by_role("button", name="批准 陈刚 的培训计划")
        await approve.click()
        await expect(card.get_by_role("alert")).to_contain_text("您打开此记录后，已有他人修改了它")
        assert await types(workbench, "training", f"plan-{PLACED}") == ["PlanDrafted"] * 2
        await card.get_by_role("button", name="重新加载").click()
        await expect(card.get_by_role("status")).to_have_text(
            "已重新加载：这是计划的最新状态（第 2 版），请重新决定。"
        )
        await expect(card.locator("tbody tr")).to_have_count(4)
        await approve.click()
        await expect(card.get_by_role("status")).to_have_text(
            "已批准：陈刚 的培训计划（第 2 版）已生效。"
        )
        await expect(approve).to_have_count(0)
        events = await workbench.events("training", f"plan-{PLACED}")
        assert [e["type"] for e in events] == ["PlanDrafted", "PlanDrafted", "PlanApproved"]
        assert (events[-1]["actor"]["sub"], events[-1]["actor"]["role"]) == (VP, "exec_vp")

        # The production manager lists its production reserve trainees' plans only (none yet:
        # not 陈刚's), and opens 刘洋's to draw it up, trainers by name.
        await sign_out(page, workbench, button="退出登录")
        await sign_in(page, workbench, PRODUCTION, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await expect(nav.get_by_role("link")).to_have_text(["培训计划"])
        await expect(page.locator("#plans-table")).to_have_text("尚未制定任何计划。")
        await page.get_by_label("学员编号").fill(WAITING)
        await page.get_by_role("button", name="打开").click()
        await expect(page.get_by_role("heading", name="培训计划：刘洋")).to_be_visible()
        await expect(page.get_by_label("第 1 阶段培训人").locator("option")).to_have_text(
            ["请选择…", "孙老师", "周老师"]
        )
        assert errors == [], errors
