"""Issue 17's journey in one chain, through the workbench's pages (/app/ on enrollment) and the
dashboard (on assessment), in headless Chromium, against enrollment, training, assessment and
compensation over real TCP ports and the real development identity provider; each person a demo
user signing in and out in the same page, every control found by its label or role.

Seeded through the API only: the organisation (the three trainers registered by an admin: the
plans name them) and the practical scores of the four departments whose examiners are not the
one in the page (``ex-<department>`` tokens, R-16). Everything else is done in the pages, each
step asserted on what the page shows and on the events stored:

the clerk of bo-east enrols the demo trainee of bo-east by the form, and the clerk of the HQ a
head-office trainee from an xlsx sheet (a branch-commissioned trainee is paid by its branch, R-31:
payroll's grid has a row for the head-office one only, and R-1 keeps each category to its kind of
branch, so the two come from two clerks); the after-sales manager places both and draws up their
plans; the executive vice-president approves both; the trainer logs two days of stage 1 and signs
the stage off; in Chinese from here on, the trainee confirms the days (agreeing with one,
dissenting from the other) and countersigns; the manager opens an exam session; the after-sales
examiner scores it in the grid (written and after-sales practical); the trainee reads its grade
and disputes it; the manager decides the dispute (the scores corrected); payroll records the
head-office trainee's inputs for March and runs the month; the auditor opens the trainee's audit,
signs in to the dashboard and sees the timeline.
"""

from __future__ import annotations

import time

import pytest

from ops.identity_provider import demo_trainee
from tests.e2e.workbench_support import (
    browser_page,
    draw_up_plan,
    fill_day,
    practical_scores,
    refreshed_until,
    register_trainers,
    serving,
    sheet_file,
    sign_in,
    sign_out,
)

CLERK, HQ_CLERK, MANAGER, VP = "clerk-bo-east", "clerk-hq", "mgr-xu", "vp-song"
TRAINER, EXAMINER, AUDITOR = "tr-chen-gang", "ex-after_sales", "aud-he"
PAYROLL = "pay-qian"
TRAINEE = demo_trainee("bo-east")  # the trainee the provider signs in: enrolled by the form
SHEET_TRAINEE = demo_trainee("hq")  # the head-office trainee, enrolled from the sheet
NAMES = {TRAINEE: "王小明", SHEET_TRAINEE: "李娜"}
MONTH = "2026-03"
STAFF = [
    {"staff_id": "tr-chen-gang", "name": "陈刚", "department": "after_sales"},
    {"staff_id": "tr-liu-fang", "name": "刘芳", "department": "hr"},
    {"staff_id": "tr-wang-lei", "name": "王磊", "department": "technical"},
]
ORIENTATION = {"start": "2026-02-23", "end": "2026-03-06"}
PLAN = [
    {"content": "公司流程 company processes", "trainer": "陈刚", **ORIENTATION},
    {"content": "部门职责 department responsibilities", "trainer": "陈刚", **ORIENTATION},
    {"content": "差旅制度 travel policy", "trainer": "刘芳", **ORIENTATION},
    {"content": "售后考核制度 appraisal rules", "trainer": "刘芳", **ORIENTATION},
    {
        "content": "X1 数控折弯机 press brake",
        "topic": "Product",
        "trainer": "王磊",
        "series": "X1",
        "covers": "all",  # every content item of the trainee's level
        "start": "2026-03-09",
        "end": "2026-03-20",
    },
]
SESSION, SERIES = "s-jr", "X1"
# The practical scores of the departments other than after-sales, posted by their
# examiners through the API; after-sales enters the written and its practical in the grid.
OTHERS = {
    TRAINEE: {"technical": "95", "process_engineering": "94", "quality": "93", "production": "96"},
    SHEET_TRAINEE: {
        "technical": "95",
        "process_engineering": "95",
        "quality": "95",
        "production": "95",
    },
}
SHEET_HEADERS = ["学员编号", "姓名", "类别", "网点编号", "学历", "工作年限", "产品系列", "报名日期"]


@pytest.fixture
async def workbench(settings):
    async with serving(settings, ["enrollment", "training", "assessment", "compensation"]) as w:
        yield w


@pytest.mark.timeout(300)
async def test_the_journey_from_enrolment_to_the_audit(workbench):
    from playwright.async_api import expect

    started = time.monotonic()
    await register_trainers(workbench.apps["enrollment"], STAFF)  # the organisation

    async def by_whom(service: str, stream: str) -> list[tuple[str, str]]:
        """The type and the actor's sub of each event on ``stream``, in order."""
        return [(e["type"], e["actor"]["sub"]) for e in await workbench.events(service, stream)]

    async def last(service: str, stream: str) -> tuple[str, str, str | None]:
        """The type, the actor's sub and the branch of the latest event on ``stream``."""
        event = (await workbench.events(service, stream))[-1]
        return event["type"], event["actor"]["sub"], event["branch_id"]

    urls = workbench.urls
    async with browser_page(workbench) as (page, errors):
        await page.goto(
            f"{workbench.address}?lang=en&training={urls['training']}"
            f"&assessment={urls['assessment']}&compensation={urls['compensation']}"
        )
        nav = page.get_by_role("navigation", name="Views")

        # The clerk of bo-east enrols its demo trainee by the form.
        await sign_in(page, workbench, CLERK)
        await expect(page.get_by_label("Branch", exact=True)).to_have_value("bo-east")
        await page.get_by_label("Name", exact=True).fill(NAMES[TRAINEE])
        await page.get_by_label("Category").select_option(
            label="Commissioned by a branch office or dealer"
        )
        await page.get_by_label("Education").select_option(label="Bachelor's degree")
        await page.get_by_label("Years of experience").fill("4")
        await page.get_by_label("Product series mastered").fill("X1, X2")
        await page.get_by_label("Trainee ID (optional)").fill(TRAINEE)
        await page.get_by_label("Enrolment date").fill("2026-02-20")
        await page.get_by_role("button", name="Enrol", exact=True).click()
        await expect(page.get_by_role("status").filter(has_text="Enrolled")).to_have_text(
            f"Enrolled 王小明 as {TRAINEE}."
        )
        enrolled = await last("enrollment", f"trainee-{TRAINEE}")
        assert enrolled == ("TraineeEnrolled", CLERK, "bo-east")
        await sign_out(page, workbench)

        # The clerk of the HQ enrols a head-office trainee from a spreadsheet.
        await sign_in(page, workbench, HQ_CLERK)
        await nav.get_by_role("link", name="Enrol from a spreadsheet").click()
        row = [SHEET_TRAINEE, "李娜", "专职", "hq", "本科", 4, "X1、X2、X3", "2026-02-20"]
        chooser = page.get_by_label("Spreadsheet (xlsx)")
        await chooser.set_input_files(sheet_file("enrol.xlsx", SHEET_HEADERS, [row]))
        await page.get_by_role("button", name="Enrol everyone in the file").click()
        await expect(page.get_by_role("status").filter(has_text="from the file")).to_have_text(
            "Enrolled 1 trainee(s) from the file."
        )
        enrolled = await last("enrollment", f"trainee-{SHEET_TRAINEE}")
        assert enrolled == ("TraineeEnrolled", HQ_CLERK, "hq")
        await sign_out(page, workbench)

        # The after-sales manager places both and draws up their plans.
        await sign_in(page, workbench, MANAGER)
        waiting = page.locator("#waiting-trainees tbody tr")
        await refreshed_until(page, waiting, 2)
        for trainee_id, name in NAMES.items():
            await page.get_by_role("link", name=f"Record the placement of {name}").click()
            await page.get_by_label("Written score").fill("85")
            await page.get_by_label("Practical score (optional)").fill("92")
            await page.get_by_role("button", name="Record the placement").click()
            await expect(page.get_by_role("status").filter(has_text="is placed")).to_have_text(
                f"{name} is placed: Technician, Intermediate (average 88.5)."
            )
            placed = await last("enrollment", f"trainee-{trainee_id}")
            assert placed[:2] == ("PlacementExamScored", MANAGER)

            await page.get_by_role("link", name=f"Draw up the plan of {name}").click()
            await expect(page.get_by_role("heading", name=f"Training plan: {name}")).to_be_visible()
            await draw_up_plan(page, PLAN)
            await expect(page.locator("#plan-topics")).to_have_text(
                "The four mandatory topics are covered (R-8a)."
            )
            await page.get_by_role("button", name="Submit the plan for approval").click()
            await expect(page.get_by_role("status").filter(has_text="Submitted")).to_have_text(
                f"Submitted: revision 1 of the plan of {name} awaits approval."
            )
            drafted = await by_whom("training", f"plan-{trainee_id}")
            assert drafted == [("PlanDrafted", MANAGER)]
            await nav.get_by_role("link", name="To place and plan").click()
        await sign_out(page, workbench)

        # The executive vice-president approves both from the queue, each as its plan table.
        await sign_in(page, workbench, VP)
        await expect(page.get_by_role("heading", name="Plans awaiting approval")).to_be_visible()
        await refreshed_until(page, page.locator("article[data-trainee]"), 2)
        for trainee_id, name in NAMES.items():
            card = page.locator(f'article[data-trainee="{trainee_id}"]')
            await expect(card.locator("tbody tr")).to_have_count(5)
            await card.get_by_role("button", name=f"Approve the plan of {name}").click()
            await expect(card.get_by_role("status")).to_have_text(
                f"Approved: the plan of {name} is in force (revision 1)."
            )
            approved = await last("training", f"plan-{trainee_id}")
            assert approved[:2] == ("PlanApproved", VP)
        await sign_out(page, workbench)

        # The trainer logs two days of stage 1 and signs the stage off.
        await sign_in(page, workbench, TRAINER)
        await expect(page.get_by_role("heading", name="My stages")).to_be_visible()
        await refreshed_until(page, page.locator("#my-stages tbody tr"), 4)
        await nav.get_by_role("link", name="My trainees").click()
        mine = page.locator("#my-trainees tbody tr").filter(has_text=NAMES[TRAINEE])
        await mine.get_by_role("link", name="Stage 1").click()
        await expect(page.get_by_role("heading", name="Stage 1 of 王小明")).to_be_focused()
        for day, hours in (("2026-02-23", "4"), ("2026-02-24", "7.5")):
            await fill_day(page, day, hours, f"售后服务流程 after-sales procedures, {day}")
            await page.get_by_role("button", name="Log the day").click()
            await expect(page.get_by_role("status")).to_have_text(f"Logged {day} in stage 1.")
        await expect(page.locator("#stage-days tbody tr")).to_have_count(2)
        sign = page.get_by_role("form", name="Sign the stage off")
        await sign.get_by_label("Assessment").fill("达到培训目标 goal reached")
        await sign.get_by_role("button", name="Sign off").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Stage 1 signed: it awaits the trainee's countersign."
        )
        assert (await by_whom("training", f"plan-{TRAINEE}"))[-3:] == [
            ("TrainingDayLogged", TRAINER),
            ("TrainingDayLogged", TRAINER),
            ("StageAssessed", TRAINER),
        ]
        await sign_out(page, workbench)

        # 中文 from here on. The trainee agrees with one day, dissents from the other, and
        # countersigns the stage.
        await page.get_by_role("button", name="中文").click()
        await sign_in(page, workbench, TRAINEE, button="登录")
        nav = page.get_by_role("navigation", name="功能")
        await expect(page.locator("#my-plan")).to_contain_text("王小明 的培训计划")
        confirm = page.get_by_role("form", name="确认培训记录")
        for day, answer, comment in (
            ("2026-02-23", "同意", ""),
            ("2026-02-24", "不同意", "实际只培训了 6 小时"),
        ):
            await confirm.get_by_label("培训日").select_option(label=f"第 1 阶段，{day}")
            await confirm.get_by_label("您的意见").select_option(label=answer)
            if comment:
                await confirm.get_by_label("意见说明").fill(comment)
            await confirm.get_by_role("button", name="确认").click()
            await expect(page.get_by_role("status")).to_have_text(f"已确认 {day} 的培训记录。")
        stage_one = page.get_by_role("region", name="第 1 阶段：公司流程 company processes")
        await expect(stage_one.locator("tbody tr").nth(1)).to_contain_text(
            "不同意：实际只培训了 6 小时"
        )
        countersign = page.get_by_role("form", name="阶段签名确认")
        await countersign.get_by_label("阶段").select_option(
            label="第 1 阶段：公司流程 company processes"
        )
        await countersign.get_by_label("您的意见").select_option(label="同意")
        await countersign.get_by_role("button", name="签名确认").click()
        await expect(page.get_by_role("status")).to_have_text("已签名确认第 1 阶段。")
        await expect(stage_one.locator('dd[data-field="d_status"]')).to_have_text("已签署")
        assert (await by_whom("training", f"plan-{TRAINEE}"))[-3:] == [
            ("TrainingDayConfirmed", TRAINEE),
            ("TrainingDayConfirmed", TRAINEE),
            ("StageSignedOff", TRAINEE),
        ]
        await sign_out(page, workbench, button="退出登录")

        # The manager opens the exam session on the day it is held.
        workbench.clock.set("2026-03-20")
        await sign_in(page, workbench, MANAGER, button="登录")
        await nav.get_by_role("link", name="考核场次").click()
        await page.get_by_label("场次编号").fill(SESSION)
        await page.get_by_label("产品系列").fill(SERIES)
        await page.get_by_label("考核日期").fill("2026-03-20")
        await page.get_by_role("button", name="开设场次").click()
        await expect(page.get_by_role("status").filter(has_text="已开设")).to_have_text(
            f"场次 {SESSION}（{SERIES}）已开设。"
        )
        opened = await last("assessment", f"session-{SESSION}")
        assert opened[:2] == ("ExamSessionOpened", MANAGER)
        await sign_out(page, workbench, button="退出登录")
        await practical_scores(workbench.apps["assessment"], SESSION, OTHERS)

        # The after-sales examiner scores the written and its practical from the keyboard.
        await sign_in(page, workbench, EXAMINER, button="登录")
        await expect(nav.get_by_role("link")).to_have_text(["评分表"])
        await page.get_by_label("考核场次").select_option(SESSION)
        await page.get_by_role("button", name="显示评分表").click()
        await expect(
            page.get_by_role("heading", name=f"评分：{SESSION}（{SERIES}）")
        ).to_be_visible()
        grid = page.locator("#scoring")
        for trainee_id, written, practical in ((TRAINEE, "92", "90"), (SHEET_TRAINEE, "95", "94")):
            await page.get_by_role("textbox", name=f"笔试 {NAMES[trainee_id]}").focus()
            await page.keyboard.type(written)
            await page.keyboard.press("Tab")
            await page.keyboard.type(practical)
            await page.keyboard.press("Enter")
            row = grid.locator(f'tr[data-trainee="{trainee_id}"]')
            await expect(row.get_by_role("textbox")).to_have_count(0)
        await expect(grid.locator(f'tr[data-trainee="{TRAINEE}"] td.decision')).to_have_text(
            "技术员（高级，92.8 分）"
        )
        await expect(grid.locator(f'tr[data-trainee="{SHEET_TRAINEE}"] td.decision')).to_have_text(
            "工程师（中级，94.9 分）"
        )
        sitting = await workbench.events("assessment", f"assessment-{SESSION}/{TRAINEE}")
        assert [e["actor"]["sub"] for e in sitting if e["type"] == "ExamScored"][-2:] == [
            EXAMINER,
            EXAMINER,
        ]
        assert sitting[-1]["type"] == "GradeAssigned"
        await sign_out(page, workbench, button="退出登录")

        # The trainee reads its grade and how it was derived, and disputes it.
        await sign_in(page, workbench, TRAINEE, button="登录")
        await nav.get_by_role("link", name="我的等级").click()
        await expect(page.locator('#grade-details dd[data-field="grade"]')).to_have_text(
            "技术员（高级，92.8 分）"
        )
        await expect(page.get_by_role("list", name="定级依据")).to_contain_text("R-20")
        await page.get_by_label("理由").fill("售后实操评分偏低")
        await page.get_by_role("button", name="提交异议").click()
        await expect(page.get_by_role("status").filter(has_text="已提交")).to_contain_text(
            "您的异议 d-"
        )
        disputed = await last("assessment", "dispute-")
        assert disputed[:2] == ("GradeDisputed", TRAINEE)
        await sign_out(page, workbench, button="退出登录")

        # The manager corrects the after-sales practical score: a new grade.
        await sign_in(page, workbench, MANAGER, button="登录")
        await nav.get_by_role("link", name="等级异议").click()
        dispute = page.get_by_role("article", name=NAMES[TRAINEE])
        await dispute.get_by_label("处理结果").select_option(label="更正分数")
        await dispute.get_by_label("售后部").fill("96")
        await dispute.get_by_role("button", name="作出决定").click()
        await expect(page.get_by_role("status").filter(has_text="已处理")).to_have_text(
            "王小明的异议已处理：更正分数。当前等级：技术员（高级，93.4 分）。"
        )
        resolved = await last("assessment", "dispute-")
        assert resolved[:2] == ("GradeDisputeResolved", MANAGER)
        regraded = await last("assessment", f"assessment-{SESSION}/{TRAINEE}")
        assert regraded[0] == "GradeAssigned"
        await sign_out(page, workbench, button="退出登录")

        # Payroll records the head-office trainee's March inputs (its grade set a pay rate on
        # the day of the session; the branch-commissioned trainee has none, R-31) and runs the
        # month.
        await sign_in(page, workbench, PAYROLL, button="登录")
        await page.get_by_label("月份", exact=True).fill(MONTH)
        await page.get_by_role("button", name="查看").click()
        await expect(page.get_by_role("heading", name=f"{MONTH} 薪酬输入")).to_be_visible()
        employee = page.get_by_role("form", name=NAMES[SHEET_TRAINEE])
        await refreshed_until(page, employee, 1, refresh="查看")
        await expect(page.get_by_role("form", name=NAMES[TRAINEE])).to_have_count(0)
        await employee.get_by_label("出差天数").fill("2")
        await employee.get_by_label("绩效评分（%）").fill("90")
        await employee.get_by_role("button", name="保存").click()
        await expect(employee.get_by_role("status")).to_have_text("已保存。")
        assert (await by_whom("compensation", f"employee-{SHEET_TRAINEE}"))[-2:] == [
            ("TravelDaysRecorded", PAYROLL),
            ("PerformanceRated", PAYROLL),
        ]
        await nav.get_by_role("link", name="工资发放").click()
        await page.get_by_role("button", name="发放本月工资").click()
        await expect(page.get_by_role("status").filter(has_text="已发放")).to_have_text(
            "已发放工资单 1 份、更正 0 份、网点培训费 0 笔、培训师罚款 0 笔。"
        )
        slip = page.locator(f'#payslips tr[data-employee="{SHEET_TRAINEE}"]')
        # An intermediate engineer's March from the 20th (R-26, R-27, R-32: 12 days of 31).
        await expect(slip).to_contain_text("岗位工资 867.10; 绩效工资 334.45; 出差补助 77.42")
        await expect(slip).to_contain_text("1278.97")
        issued = await by_whom("compensation", f"payroll-{MONTH}")
        assert issued == [("PayslipIssued", PAYROLL)]
        await sign_out(page, workbench, button="退出登录")

        # The auditor opens the trainee's audit: the dashboard, signed in there too.
        await sign_in(page, workbench, AUDITOR, button="登录")
        await page.get_by_label("学员编号").fill(TRAINEE)
        await page.get_by_role("button", name="打开审计").click()
        dashboard = f"{urls['assessment']}/dashboard"
        await page.wait_for_url(f"{dashboard}?lang=zh#audit/{TRAINEE}")
        # Another origin, another sign-in: the provider still knows the auditor (signed in on
        # the workbench a moment ago), so straight back, to the address asked for.
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.wait_for_url(f"{dashboard}**#audit/{TRAINEE}")
        await expect(page.locator("#session-user")).to_contain_text(f"({AUDITOR})")
        assert page.url.endswith(f"#audit/{TRAINEE}"), page.url
        timeline = page.locator("#audit-events > li")
        await expect(timeline.first).to_have_attribute("data-type", "TraineeEnrolled")
        shown = await timeline.evaluate_all("items => items.map(i => i.dataset.type)")
        # The whole chain, as the services stored it.
        assert shown == [
            "TraineeEnrolled",
            "PlacementExamScored",
            "PlanDrafted",
            "PlanApproved",
            *["TrainingDayLogged"] * 2,
            "StageAssessed",
            *["TrainingDayConfirmed"] * 2,
            "StageSignedOff",
            *["ExamScored"] * 6,
            "GradeAssigned",
            "GradeDisputed",
            "GradeDisputeResolved",
            "GradeAssigned",
        ], shown
        await expect(page.locator("#audit-verdict")).to_have_attribute("data-consistent", "true")
        assert errors == [], errors
    print(f"journey wall time {time.monotonic() - started:.1f} s")
