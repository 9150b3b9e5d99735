"""The trainer's and the trainee's daily training work on the workbench (/app/ on enrollment) in
headless Chromium, signed in through the real development identity provider, against enrollment
and training over real TCP ports; every control found by its label or role, as a person finds it.

Seeded through the APIs: the demo trainee of bo-east enrolled and placed, its plan drafted and
approved, stages 1 and 2 trained by the demo trainer tr-chen-gang (stages 3 and 4 by tr-liu-fang).
The trainer finds its stages and its trainee, logs a day (a bad hours value refused beside the
field, nothing sent; then the submit double-clicked: stored once, under one key) and signs stage 1
off after someone else changed the plan (the 412 message, Reload, sign: StageAssessed). Then, in
Chinese, the trainee confirms the day disagreeing with a comment and countersigns the stage, and
the trainer sends it back to stage 1 from stage 2 with the reason (StageReturned).
"""

from __future__ import annotations

import time

import pytest

from ops.identity_provider import demo_trainee
from shared.auth import Role
from tests.e2e.helpers import approve_once_placed
from tests.e2e.workbench_support import browser_page, serving, sign_in, sign_out, until
from tests.support import ALL_CONTENT, enrolment, ok, plan_stage

TRAINER, OTHER_TRAINER = "tr-chen-gang", "tr-liu-fang"
TRAINEE = demo_trainee("bo-east")
DATES = {"planned_start": "2026-02-16", "planned_end": "2026-03-20"}
STAGES = [
    plan_stage(1, "company_processes", "after_sales", TRAINER, **DATES, covers=ALL_CONTENT),
    plan_stage(2, "department_responsibilities", "after_sales", TRAINER, **DATES),
    plan_stage(3, "travel_policy", "hr", OTHER_TRAINER, **DATES),
    plan_stage(4, "appraisal_rules", "hr", OTHER_TRAINER, **DATES),
]


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "training"]) as served:
        yield served


async def seed(workbench) -> None:
    """The trainee enrolled and placed (enrollment), its plan drafted once training knows it, and
    approved; until the trainer's list (the progress projection) shows it."""
    enrollment, training = workbench.apps["enrollment"], workbench.apps["training"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    body = enrolment(TRAINEE, name="王小明", branch_id="bo-east", enrolled_on="2026-02-10")
    await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
    placement = {"written": 85}
    await ok(
        enrollment.client.post(f"/trainees/{TRAINEE}/placement", json=placement, headers=manager)
    )

    async def drafted():
        answer = await training.client.put(
            f"/plans/{TRAINEE}", json={"stages": STAGES}, headers=manager
        )
        return answer.status_code == 200

    await until(drafted)
    await approve_once_placed(training, TRAINEE)

    async def listed():
        mine = await training.client.get(
            f"/trainers/{TRAINER}/stages", headers=training.as_(TRAINER, Role.TRAINER)
        )
        return len(mine.json()["items"]) == 2

    await until(listed)


async def plan_events(workbench) -> list[dict]:
    """The plan's events as the service's store reads them: the texts revealed (issue 19: they
    are stored sealed with the trainee's key)."""
    store = workbench.apps["training"].app.state.store
    return [
        {
            "type": e.type,
            "data": e.data,
            "actor": e.actor.as_json(),
            "idempotency_key": e.idempotency_key,
        }
        for e in await store.read_stream(f"plan-{TRAINEE}")
    ]


async def of_type(workbench, type_: str) -> list[dict]:
    return [e for e in await plan_events(workbench) if e["type"] == type_]


@pytest.mark.timeout(120)
async def test_a_trainer_logs_and_signs_and_the_trainee_confirms_and_countersigns(workbench):
    from playwright.async_api import expect

    started = time.monotonic()
    await seed(workbench)
    training = workbench.apps["training"]
    async with browser_page(workbench) as (page, errors):
        # The page reaches training where the test serves it (?training=, kept for the tab).
        await page.goto(f"{workbench.address}?lang=en&training={workbench.urls['training']}")
        await sign_in(page, workbench, TRAINER)

        # The trainer's views: its stages (where it lands) and its trainees.
        nav = page.get_by_role("navigation", name="Views")
        await expect(nav.get_by_role("link")).to_have_text(
            [
                "My stages",
                "My trainees",
                "Send-backs and concerns",
                "Keep training until they pass (R-24)",
            ]
        )
        await expect(page.get_by_role("heading", name="My stages")).to_be_visible()
        rows = page.locator("#my-stages tbody tr")
        await expect(rows).to_have_count(2)
        await expect(page.get_by_role("status")).to_have_text("2 stage(s) in 1 plan(s).")
        await expect(rows.first).to_contain_text("Company processes")
        await expect(rows.first).to_contain_text("2026-02-16 to 2026-03-20")
        await nav.get_by_role("link", name="My trainees").click()
        trainee_row = page.locator("#my-trainees tbody tr")
        await expect(trainee_row).to_contain_text("王小明")
        await expect(trainee_row).to_contain_text("Approved")

        # One stage: the day's record. The form checks the hours before sending anything...
        await trainee_row.get_by_role("link", name="Stage 1").click()
        await expect(page.get_by_role("heading", name="Stage 1 of 王小明")).to_be_focused()
        await expect(page.locator("#stage")).to_contain_text("No day logged yet.")
        posts: list[dict] = []
        page.on(
            "request",
            lambda r: posts.append(r.headers) if r.method == "POST" and "/days" in r.url else None,
        )
        day = page.get_by_role("form", name="Log a training day")
        await day.get_by_label("Date of the training").fill("2026-02-24")
        hours = day.get_by_label("Hours")
        await hours.fill("25")
        await day.get_by_label("Content taught").fill("售后服务流程 after-sales procedures")
        await day.get_by_label("Method").fill("lecture")
        await day.get_by_label("Trainee's performance").fill("attentive")
        await day.get_by_label("Effect").fill("knows the procedure")
        log = day.get_by_role("button", name="Log the day")
        await log.click()
        await expect(hours).to_have_attribute("aria-invalid", "true")
        await expect(hours).to_have_accessible_description(
            "More than 0, at most 24, two decimals at most (7.5). "
            "Hours more than 0, at most 24, two decimals at most."
        )
        assert posts == []
        # ... fixed, and double-clicked: stored once, under one key.
        await hours.fill("7.5")
        await log.dblclick()
        await expect(page.get_by_role("status")).to_have_text("Logged 2026-02-24 in stage 1.")
        days = page.locator("#stage-days tbody tr")
        await expect(days).to_have_count(1)
        await expect(days).to_contain_text("Not confirmed")
        (logged,) = await of_type(workbench, "TrainingDayLogged")
        assert logged["actor"]["sub"] == TRAINER and logged["idempotency_key"]
        assert {h.get("if-match") for h in posts} == {'"2"'}
        assert len({h.get("idempotency-key") for h in posts}) == 1, posts

        # Someone else changes the plan meanwhile (the other trainer logs a day of stage 3): the
        # sign-off, decided on what the page showed, is refused and nothing is stored...
        other = training.as_(OTHER_TRAINER, Role.TRAINER)
        other_day = {
            "date": "2026-02-23",
            "content": "报销制度 travel claims",
            "method": "lecture",
            "hours": "2",
            "performance": "ok",
            "effect": "ok",
        }
        await ok(
            training.client.post(f"/plans/{TRAINEE}/stages/3/days", json=other_day, headers=other),
            201,
        )
        sign = page.get_by_role("form", name="Sign the stage off")
        await sign.get_by_label("Assessment").fill("达到培训目标 goal reached")
        await sign.get_by_role("button", name="Sign off").click()
        await expect(page.get_by_role("alert")).to_contain_text(
            "Someone else changed this record after you opened it, so nothing was saved."
        )
        assert await of_type(workbench, "StageAssessed") == []
        # ... reloaded (what was typed kept), it is signed.
        await page.get_by_role("button", name="Reload").click()
        await expect(page.get_by_role("status")).to_contain_text("version 4")
        await expect(sign.get_by_label("Assessment")).to_have_value("达到培训目标 goal reached")
        await sign.get_by_role("button", name="Sign off").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Stage 1 signed: it awaits the trainee's countersign."
        )
        await expect(sign).to_be_hidden()
        await expect(page.locator('dd[data-field="d_assessment"]')).to_have_text(
            "达到培训目标 goal reached"
        )
        (assessed,) = await of_type(workbench, "StageAssessed")
        assert assessed["actor"]["sub"] == TRAINER
        # Stage 2 has no earlier stage signed off yet to send back to.
        await page.goto(f"{workbench.address}#my-stages/{TRAINEE}/2")
        await expect(page.get_by_role("heading", name="Stage 2 of 王小明")).to_be_visible()
        await expect(page.locator("#stage")).to_contain_text(
            "No earlier stage is signed off: none can be sent back to."
        )
        await sign_out(page, workbench)

        # 中文: the trainee reads its plan, confirms the day disagreeing, and countersigns.
        await page.get_by_role("button", name="中文").click()
        await sign_in(page, workbench, TRAINEE, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await expect(nav.get_by_role("link")).to_have_text(
            ["我的培训计划", "我的等级", "我的工资单"]
        )
        await expect(page.get_by_role("heading", name="我的培训计划")).to_be_visible()
        await expect(page.locator("#my-plan")).to_contain_text("王小明 的培训计划")
        stage_one = page.get_by_role("region", name="第 1 阶段：stage 1: company_processes")
        await expect(stage_one.locator('dd[data-field="d_status"]')).to_have_text("进行中")
        await expect(stage_one.locator('dd[data-field="d_assessment"]')).to_have_text(
            "达到培训目标 goal reached"
        )
        confirm = page.get_by_role("form", name="确认培训记录")
        await confirm.get_by_label("培训日").select_option(label="第 1 阶段，2026-02-24")
        await confirm.get_by_label("您的意见").select_option(label="不同意")
        await confirm.get_by_label("意见说明").fill("实际只培训了 6 小时")
        await confirm.get_by_role("button", name="确认").click()
        await expect(page.get_by_role("status")).to_have_text("已确认 2026-02-24 的培训记录。")
        await expect(stage_one.locator("tbody tr")).to_contain_text("不同意：实际只培训了 6 小时")
        (confirmed,) = await of_type(workbench, "TrainingDayConfirmed")
        assert (confirmed["data"]["agree"], confirmed["data"]["comment"]) == (
            False,
            "实际只培训了 6 小时",
        )
        assert confirmed["actor"]["sub"] == TRAINEE

        countersign = page.get_by_role("form", name="阶段签名确认")
        await countersign.get_by_label("阶段").select_option(
            label="第 1 阶段：stage 1: company_processes"
        )
        await countersign.get_by_role("button", name="签名确认").click()
        answer = countersign.get_by_label("您的意见")
        await expect(answer).to_have_accessible_description("必填。")  # chosen, never assumed
        await answer.select_option(label="同意")
        await countersign.get_by_role("button", name="签名确认").click()
        await expect(page.get_by_role("status")).to_have_text("已签名确认第 1 阶段。")
        await expect(stage_one.locator('dd[data-field="d_status"]')).to_have_text("已签署")
        await expect(page.get_by_text("没有待您签名确认的阶段。")).to_be_visible()
        (signed,) = await of_type(workbench, "StageSignedOff")
        assert (signed["data"]["stage_no"], signed["data"]["disputed"]) == (1, False)
        await sign_out(page, workbench, button="退出登录")

        # The trainer of stage 2 sends the trainee back to stage 1 with the reason.
        await sign_in(page, workbench, TRAINER, button="登录")
        await expect(page.get_by_role("heading", name="我的培训阶段")).to_be_visible()
        await page.locator('#my-stages tbody tr[data-stage="2"]').get_by_role("link").click()
        await expect(page.get_by_role("heading", name="王小明 的第 2 阶段")).to_be_focused()
        back = page.get_by_role("form", name="退回到之前的阶段")
        await back.get_by_label("退回到阶段").select_option(
            label="第 1 阶段：stage 1: company_processes"
        )
        await back.get_by_label("退回原因").fill("公司流程掌握不牢")
        await back.get_by_role("button", name="退回", exact=True).click()
        await expect(page.get_by_role("status")).to_have_text("第 1 阶段已重新开放。")
        (returned,) = await of_type(workbench, "StageReturned")
        assert returned["data"] | {"from_stage": 2, "to_stage": 1} == returned["data"]
        assert returned["actor"]["sub"] == TRAINER
        assert errors == [], errors
    print(f"daily journey: {time.monotonic() - started:.1f} s")
