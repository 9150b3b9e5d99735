"""The administrator's "Personal data" on the workbench (/app/ on enrollment) in headless
Chromium, signed in through the real development identity provider, against the four services
over real TCP ports and the real bus; every control found by its label or role (issue 19,
docs/privacy.md).

A trainee withdrawn in 2021 is due for erasure under the retention policy in force in 2026; the
administrator chooses them from "Due for erasure", sees what each service holds about them,
downloads it as a workbook (their name in it), is stopped until the erasure is confirmed, then
erases them: the list empties and enrollment answers the name as erased. In Chinese, a second
trainee (not due) is erased by id.
"""

from __future__ import annotations

import asyncio
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shared.auth import Role
from shared.personal import ERASED
from tests.e2e.workbench_support import browser_page, serving, sign_in, sign_out, until
from tests.support import enrolment, ok

ADMIN = "admin-ma"  # the development provider's organisation administrator
OLD, NEW = "t-priv-old", "t-priv-new"
OLD_NAME, NEW_NAME = "隐私甲", "隐私乙"


@pytest.fixture
async def workbench(settings):
    names = ["compensation", "assessment", "training", "enrollment"]
    async with serving(settings, names) as served:
        yield served


async def seeded(workbench) -> None:
    enrollment = workbench.apps["enrollment"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    workbench.clock.set("2021-03-01")
    old = enrolment(OLD, name=OLD_NAME, branch_id="bo-east", enrolled_on="2021-02-01")
    await ok(enrollment.client.post("/trainees", json=old, headers=manager), 201)
    path = f"/trainees/{OLD}/withdraw"
    await ok(enrollment.client.post(path, json={"reason": "moved away"}, headers=manager))
    workbench.clock.set("2026-05-20")
    new = enrolment(NEW, name=NEW_NAME, branch_id="bo-east", enrolled_on="2026-05-01")
    await ok(enrollment.client.post("/trainees", json=new, headers=manager), 201)


async def name_of(workbench, trainee_id: str) -> str:
    enrollment = workbench.apps["enrollment"]
    manager = enrollment.as_("mgr", Role.AFTER_SALES_MANAGER)
    return (await ok(enrollment.client.get(f"/trainees/{trainee_id}", headers=manager)))["name"]


@pytest.mark.timeout(300)
async def test_the_administrator_hands_over_and_erases_a_persons_data(workbench):
    from playwright.async_api import expect

    await seeded(workbench)
    urls = workbench.urls
    query = "&".join(f"{name}={url}" for name, url in urls.items() if name != "enrollment")
    async with browser_page(workbench) as (page, errors):
        await page.goto(f"{workbench.address}?lang=en&{query}")
        await sign_in(page, workbench, ADMIN)
        nav = page.get_by_role("navigation", name="Views")
        await nav.get_by_role("link", name="Personal data").click()

        due = page.get_by_role("region", name="Due for erasure")
        await expect(due.get_by_role("row")).to_have_count(2)  # the header, the withdrawn one
        await expect(due).to_contain_text("Withdrawn trainee")
        await due.get_by_role("button", name=f"Choose {OLD}").click()
        await expect(page.get_by_label("Person id")).to_have_value(OLD)

        await page.get_by_role("button", name="Show what is held").click()
        held = page.locator("#privacy-held-table")
        await expect(held.locator("tbody tr")).to_have_count(4)  # one row per service
        enrolled = (
            await held.locator("tbody tr", has_text="enrollment").locator("td").all_inner_texts()
        )
        assert int(enrolled[1]) >= 2 and int(enrolled[2]) >= 1, enrolled  # enrolled, withdrawn

        async with page.expect_download() as waiting:
            await page.get_by_role("button", name="Download their data (xlsx)").click()
        data = await asyncio.to_thread(Path(await (await waiting.value).path()).read_bytes)
        cells = [
            str(c)
            for s in load_workbook(BytesIO(data)).worksheets
            for row in s.iter_rows(values_only=True)
            for c in row
            if c is not None
        ]
        assert any(OLD_NAME in c for c in cells)

        await page.get_by_label("Reason").fill("retention: withdrawn five years ago")
        await page.get_by_role("button", name="Erase").click()
        await expect(page.get_by_role("alert")).to_be_visible()  # not confirmed: nothing sent
        assert await name_of(workbench, OLD) == OLD_NAME
        await page.get_by_label("I understand that this cannot be undone.").check()
        await page.get_by_role("button", name="Erase").click()
        await expect(page.get_by_role("status")).to_contain_text(f"{OLD}'s personal data is erased")
        await expect(due).to_contain_text("Nobody is due for erasure today.")
        assert await name_of(workbench, OLD) == ERASED

        # 中文: a person not due, erased by id.
        await page.get_by_role("button", name="中文").click()
        await page.get_by_label("人员编号").fill(NEW)
        await page.get_by_label("原因").fill("本人要求删除（2026-05-19）")
        await page.get_by_label("我知道此操作无法撤销。").check()
        await page.get_by_role("button", name="删除", exact=True).click()
        await expect(page.get_by_role("status")).to_contain_text(f"{NEW} 的个人信息已删除")
        await until(lambda: _is_erased(workbench, NEW))
        await sign_out(page, workbench, "退出登录")
        assert errors == [], errors


async def _is_erased(workbench, trainee_id: str) -> bool:
    return await name_of(workbench, trainee_id) == ERASED
