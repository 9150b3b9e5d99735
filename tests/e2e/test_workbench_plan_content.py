"""The plan level and the remedial revision on the workbench (plan-content.js), in a browser,
against enrollment and training over the real bus:

- R-18a: a placed trainee (intermediate) completed its plan and was kept in training
  (continue_training, as assessment would tell training). The after-sales manager (in Chinese)
  opens the plan from the plans view: the completed stages are locked as signed, a new stage
  waits; the content items of the level are ticked per stage (R-7a). The executive
  vice-president (in English) finds the revision in the queue marked remedial and approves it.
"""

from __future__ import annotations

import pytest

from services.training.consumers import HANDLER
from shared.auth import Role
from shared.inbox import handle_once
from tests.e2e.helpers import approve_once_placed
from tests.e2e.workbench_support import (
    browser_page,
    refreshed_until,
    register_trainers,
    serving,
    sign_in,
    sign_out,
    until,
)
from tests.support import delivered, enrolment, mandatory_stages, ok, plan_stage

MANAGER, VP = "mgr-xu", "vp-song"
TRAINEE, NAME = "t-wb-rem", "赵磊"
TRAINERS = [
    {"staff_id": "tr-hr", "name": "周老师", "department": "hr"},
    {"staff_id": "tr-as", "name": "孙老师", "department": "after_sales"},
    {"staff_id": "tr-tech", "name": "钱老师", "department": "technical"},
]
DATES = {"planned_start": "2026-03-02", "planned_end": "2026-03-13"}
INTERMEDIATE = [
    "circuit_principles",
    "mechanical_structure",
    "working_principle",
    "product_structure",
    "assembly",
    "maintenance",
    "program_install",
    "fault_analysis",
    "fault_repair",
]
PLAN = [
    *mandatory_stages(covers=(), **DATES),
    plan_stage(5, "product", "technical", "tr-tech", "X1", covers=INTERMEDIATE, **DATES),
]


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "training"]) as served:
        yield served


async def completed_and_kept_in_training(workbench) -> None:
    """Enrolled, placed (written 85: intermediate), the plan approved and every stage signed;
    then assessment's continue_training disposition, delivered as training's consumer would."""
    enrollment, training = workbench.apps["enrollment"], workbench.apps["training"]
    await register_trainers(enrollment, TRAINERS)
    manager = enrollment.as_(MANAGER, Role.AFTER_SALES_MANAGER)
    body = enrolment(TRAINEE, name=NAME, branch_id="dl-north", enrolled_on="2026-02-20")
    await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
    path = f"/trainees/{TRAINEE}/placement"
    await ok(enrollment.client.post(path, json={"written": "85"}, headers=manager))
    drafter = training.as_(MANAGER, Role.AFTER_SALES_MANAGER)

    async def drafted():
        answer = await training.client.put(
            f"/plans/{TRAINEE}", json={"stages": PLAN}, headers=drafter
        )
        return answer.status_code == 200

    await until(drafted)
    await approve_once_placed(training, TRAINEE)
    workbench.clock.set("2026-03-13")
    for stage in PLAN:
        url = f"/plans/{TRAINEE}/stages/{stage['no']}"
        trainer = training.as_(stage["trainer_id"], Role.TRAINER)
        await ok(
            training.client.post(url + "/sign-off", json={"assessment": "ok"}, headers=trainer)
        )
        own = training.as_(TRAINEE, Role.TRAINEE)
        await ok(training.client.post(url + "/countersign", json={"agree": True}, headers=own))
    data = {
        "trainee_id": TRAINEE,
        "session_id": "s-1",
        "outcome": "continue_training",
        "reason": "the branch insists",
        "decided_on": "2026-03-20",
        "decided_by": MANAGER,
    }
    stream = f"assessment-s-1/{TRAINEE}"
    await handle_once(
        training.pool, HANDLER, delivered("assessment", "DispositionDecided", stream, data)
    )
    workbench.clock.set("2026-03-20")


@pytest.mark.timeout(300)
async def test_the_manager_drafts_a_remedial_revision_ticking_content_and_the_vp_approves_it(
    workbench,
):
    from playwright.async_api import expect

    await completed_and_kept_in_training(workbench)
    async with browser_page(workbench) as (page, errors):
        await page.goto(f"{workbench.address}?lang=zh&training={workbench.urls['training']}")
        await sign_in(page, workbench, MANAGER, button="登录")
        await (
            page.get_by_role("navigation", name="功能").get_by_role("link", name="培训计划").click()
        )
        await page.get_by_label("学员编号").fill(TRAINEE)
        await page.get_by_role("button", name="打开").click()
        await expect(page.get_by_role("heading", name=f"培训计划：{NAME}")).to_be_visible()
        await expect(page.get_by_text("已决定继续培训：需制定补训修订版（R-18a）")).to_be_visible()
        await expect(
            page.get_by_role("heading", name="制定补训修订版（R-18a：继续培训）")
        ).to_be_visible()

        # The completed stages are kept as signed: locked, their content items ticked as drafted.
        await expect(page.get_by_label("第 1 阶段受训内容")).to_be_disabled()
        await expect(page.get_by_label("第 5 阶段：故障解决")).to_be_checked()
        await expect(page.get_by_label("第 5 阶段：故障解决")).to_be_disabled()
        await expect(page.locator("#plan-covers")).to_have_text(
            "中级培训计划的全部内容均已涵盖（R-7）。"
        )

        # The new stage 6: more fault repair with the technical trainer.
        await page.get_by_label("第 6 阶段受训内容").fill("X1 故障复训")
        await page.get_by_label("第 6 阶段内容类别").select_option(label="产品")
        await page.get_by_label("第 6 阶段培训人").select_option(label="钱老师")
        await page.get_by_label("第 6 阶段产品系列").fill("X1")
        await page.get_by_label("第 6 阶段：故障分析").check()
        await page.get_by_label("第 6 阶段：故障解决").check()
        await page.get_by_label("第 6 阶段计划开始").fill("2026-03-23")
        await page.get_by_label("第 6 阶段计划结束").fill("2026-03-31")
        await page.get_by_role("button", name="提交计划审批").click()
        await expect(page.get_by_role("status").filter(has_text="已提交")).to_have_text(
            f"已提交：{NAME} 的培训计划第 2 版待审批。"
        )
        await expect(page.locator("#plan-table tbody tr")).to_have_count(6)
        await expect(page.locator("#plan-table tbody tr").nth(5)).to_contain_text(
            "故障分析、故障解决"
        )
        events = await workbench.events("training", f"plan-{TRAINEE}")
        assert events[-1]["type"] == "PlanDrafted"
        stored = await workbench.apps["training"].pool.fetchval(
            "SELECT data FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
            f"plan-{TRAINEE}",
        )
        assert stored["remedial"] is True
        assert stored["stages"][5]["covers"] == ["fault_analysis", "fault_repair"]

        # English: the vice-president's queue marks the revision remedial; approved.
        await sign_out(page, workbench, button="退出登录")
        await page.get_by_role("button", name="English").click()
        await sign_in(page, workbench, VP)
        card = page.locator(f'article[data-trainee="{TRAINEE}"]')
        await refreshed_until(page, card, 1)
        await expect(card).to_contain_text("Remedial revision after continue training (R-18a)")
        await expect(card.locator("thead")).to_contain_text("Content items (R-7a)")
        await card.get_by_role("button", name=f"Approve the plan of {NAME}").click()
        await expect(card.get_by_role("status")).to_have_text(
            f"Approved: the plan of {NAME} is in force (revision 2)."
        )
        assert (await workbench.events("training", f"plan-{TRAINEE}"))[-1]["type"] == "PlanApproved"
        assert errors == []
