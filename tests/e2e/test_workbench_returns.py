"""Send-backs ended by an explanation (R-12a) and concerns about a trainee who cannot keep up
(R-12b) on the workbench (/app/ on enrollment), in headless Chromium, signed in through the
development identity provider, against enrollment and training over real TCP ports; every control
found by its label or role.

Seeded through the APIs: the demo trainee of bo-east (branch-commissioned) enrolled and placed,
its plan approved (stages 1 and 2 trained by tr-chen-gang, 3 and 4 by tr-liu-fang), stages 1 to 3
signed off, and stage 3's trainer sending the trainee back to stage 1. In English, tr-chen-gang
explains the send-back of stage 1 and notes a concern on stage 2; in Chinese, tr-liu-fang accepts
the explanation (stage 1 counts as signed again), and the after-sales manager records the
concern's handling, which the plan then shows.
"""

from __future__ import annotations

import pytest

from ops.identity_provider import demo_trainee
from shared.auth import Role
from tests.e2e.helpers import approve_once_placed
from tests.e2e.workbench_support import (
    browser_page,
    refreshed_until,
    serving,
    sign_in,
    sign_out,
    until,
)
from tests.support import ALL_CONTENT, enrolment, ok, plan_stage

TRAINER, LATER_TRAINER, MANAGER = "tr-chen-gang", "tr-liu-fang", "mgr-xu"
TRAINEE = demo_trainee("bo-east")
DATES = {"planned_start": "2026-02-16", "planned_end": "2026-03-20"}
STAGES = [
    plan_stage(1, "company_processes", "after_sales", TRAINER, covers=ALL_CONTENT, **DATES),
    plan_stage(2, "department_responsibilities", "after_sales", TRAINER, **DATES),
    plan_stage(3, "travel_policy", "hr", LATER_TRAINER, **DATES),
    plan_stage(4, "appraisal_rules", "hr", LATER_TRAINER, **DATES),
]
TRAINER_OF = {s["no"]: s["trainer_id"] for s in STAGES}


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "training"]) as served:
        yield served


async def seed(workbench) -> None:
    enrollment, training = workbench.apps["enrollment"], workbench.apps["training"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    body = enrolment(TRAINEE, name="王小明", branch_id="bo-east", enrolled_on="2026-02-10")
    await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
    await ok(
        enrollment.client.post(
            f"/trainees/{TRAINEE}/placement", json={"written": 85}, headers=manager
        )
    )

    async def drafted():
        answer = await training.client.put(
            f"/plans/{TRAINEE}", json={"stages": STAGES}, headers=manager
        )
        return answer.status_code == 200

    await until(drafted)
    plan = f"/plans/{TRAINEE}"
    post = training.client.post
    await approve_once_placed(training, TRAINEE)
    trainee = training.as_(TRAINEE, Role.TRAINEE)
    for no in (1, 2, 3):
        trainer = training.as_(TRAINER_OF[no], Role.TRAINER)
        await ok(post(f"{plan}/stages/{no}/sign-off", json={"assessment": "ok"}, headers=trainer))
        await ok(post(f"{plan}/stages/{no}/countersign", json={"agree": True}, headers=trainee))
    back = {"to_stage": 1, "reason": "公司流程掌握不牢"}
    later = training.as_(LATER_TRAINER, Role.TRAINER)
    await ok(post(f"{plan}/stages/3/return", json=back, headers=later))


async def of_type(workbench, type_: str) -> list[dict]:
    """The plan's events of one type as the service's store reads them: the texts revealed
    (issue 19: they are stored sealed with the trainee's key)."""
    store = workbench.apps["training"].app.state.store
    return [
        {"data": e.data, "actor": e.actor.as_json()}
        for e in await store.read_stream(f"plan-{TRAINEE}")
        if e.type == type_
    ]


@pytest.mark.timeout(120)
async def test_a_send_back_is_explained_and_accepted_and_a_concern_handled(workbench):
    from playwright.async_api import expect

    await seed(workbench)
    async with browser_page(workbench) as (page, errors):
        await page.goto(f"{workbench.address}?lang=en&training={workbench.urls['training']}")
        await sign_in(page, workbench, TRAINER)
        nav = page.get_by_role("navigation", name="Views")
        await nav.get_by_role("link", name="Send-backs and concerns").click()
        await expect(page.get_by_role("heading", name="Send-backs and concerns")).to_be_visible()
        trainee_row = page.locator("#follow-up-trainees tbody tr")
        await refreshed_until(page, trainee_row, 1)
        await trainee_row.get_by_role("link", name="王小明").click()
        await expect(
            page.get_by_role("heading", name="Send-backs and concerns: 王小明")
        ).to_be_visible()
        send_backs = page.locator("#send-backs tbody tr")
        await expect(send_backs).to_contain_text("公司流程掌握不牢")
        await expect(send_backs).to_contain_text("Awaiting an explanation or a new sign-off")
        await expect(page.get_by_text("No explanation awaits your acceptance.")).to_be_visible()

        # The explanation: nothing sent without one, then sent on the returned stage (R-12a).
        explain = page.get_by_role("form", name="Explain a send-back")
        await explain.get_by_label("Send-back of stage").select_option(
            label="Stage 1: stage 1: company_processes"
        )
        await explain.get_by_role("button", name="Send the explanation").click()
        text = explain.get_by_label("Explanation")
        await expect(text).to_have_attribute("aria-invalid", "true")
        assert await of_type(workbench, "ReturnExplained") == []
        await text.fill("流程已逐项考核 every process was tested")
        await explain.get_by_role("button", name="Send the explanation").click()
        await expect(page.get_by_role("status")).to_have_text(
            "The send-back of stage 1 is explained: it awaits acceptance."
        )
        await expect(send_backs).to_contain_text("Explained, awaiting acceptance")
        await expect(explain).to_be_hidden()
        (explained,) = await of_type(workbench, "ReturnExplained")
        assert explained["data"]["explanation"] == "流程已逐项考核 every process was tested"

        # A concern on one of the trainer's own stages (R-12b).
        concern = page.get_by_role("form", name="Note that the trainee cannot keep up")
        await concern.get_by_label("Stage").select_option(
            label="Stage 2: stage 2: department_responsibilities"
        )
        await concern.get_by_label("What the trainee cannot keep up with").fill("记不住部门职责")
        await concern.get_by_role("button", name="Note the concern").click()
        await expect(page.get_by_role("status")).to_have_text(
            "The concern on stage 2 is noted: the manager handles it."
        )
        await expect(page.locator("#plan-concerns tbody tr")).to_contain_text(
            "Awaiting the manager"
        )
        await sign_out(page, workbench)

        # 中文: the trainer of stage 3 accepts the explanation; stage 1 counts as signed again.
        await page.get_by_role("button", name="中文").click()
        await sign_in(page, workbench, LATER_TRAINER, button="登录")
        await page.goto(f"{workbench.address}#follow-ups/{TRAINEE}")
        await expect(page.get_by_role("heading", name="退回与学员情况：王小明")).to_be_visible()
        accept = page.get_by_role("form", name="接受说明")
        await accept.get_by_label("说明所属阶段").select_option(
            label="第 1 阶段：stage 1: company_processes"
        )
        await accept.get_by_label("意见").fill("同意")
        await accept.get_by_role("button", name="接受说明").click()
        await expect(page.get_by_role("status")).to_have_text("第 1 阶段恢复为已签署。")
        await expect(page.locator("#send-backs tbody tr")).to_contain_text(
            "说明已接受，阶段恢复签署"
        )
        (closed,) = await of_type(workbench, "ReturnClosed")
        assert (closed["data"]["stage_no"], closed["data"]["comment"]) == (1, "同意")
        assert closed["actor"]["sub"] == LATER_TRAINER
        await sign_out(page, workbench, button="退出登录")

        # 中文: the manager verifies the concern and records how it will be handled.
        await sign_in(page, workbench, MANAGER, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await nav.get_by_role("link", name="学员跟不上情况").click()
        await refreshed_until(page, page.locator("#open-concerns section"), 1, refresh="刷新")
        open_concern = page.get_by_role("region", name="王小明，第 2 阶段")
        await expect(open_concern).to_contain_text("记不住部门职责")
        await expect(open_concern).to_contain_text("委培学员")
        handle = open_concern.get_by_role("form", name="记录处理意见")
        await handle.get_by_label("核实结果").select_option(label="属实：学员跟不上")
        await handle.get_by_label("处理意见").fill("延长第 2 阶段一周")
        await handle.get_by_role("button", name="提交").click()
        await expect(page.get_by_role("status")).to_have_text("已记录对 王小明 情况的处理意见。")
        await expect(page.locator("#handled-concerns tbody tr")).to_contain_text(
            "经核实：延长第 2 阶段一周"
        )
        (handled,) = await of_type(workbench, "ConcernHandled")
        assert (handled["data"]["verified"], handled["data"]["handling"]) == (
            True,
            "延长第 2 阶段一周",
        )
        training = workbench.apps["training"]
        shown = await ok(
            training.client.get(
                f"/plans/{TRAINEE}", headers=training.as_(MANAGER, Role.AFTER_SALES_MANAGER)
            )
        )
        assert shown["concerns"][0]["handling"] == "延长第 2 阶段一周"
        assert shown["stages"][0]["status"] == "signed_off"
        assert errors == [], errors
