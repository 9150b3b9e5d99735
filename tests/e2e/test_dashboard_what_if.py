"""The dashboard's "What if" view in headless Chromium (as tests/e2e/test_dashboard.py), against
enrollment, assessment and compensation served over real TCP ports: management raises the
engineer-senior band from 97 to 98 in the draft (the grading document in force is where it
starts), and the view lists exactly the trainee whose score is in [97, 98), the counts before and
after and the monthly cost difference, in English and in 中文; a bad draft lists its problems; the
workbook downloads. Nothing is appended anywhere."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shared.auth import Role
from tests.e2e.helpers import HQ_TRAINEE, enrol, known_to_assessment, open_session, pay_rate, sit
from tests.e2e.test_dashboard import Clock, bound_socket, chromium_page, served_on
from tests.support import long_secret, until

SERVICES = ("compensation", "assessment", "enrollment")
# written -> grade score with the practical mean 96: 97.25 changes; 98 and 96.5 do not
WRITTEN = {"t-a": "98.5", "t-b": "100", "t-c": "97"}


@pytest.fixture
async def served(settings):
    sockets = {name: bound_socket() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    settings = long_secret(settings).model_copy(
        update={
            "pool_size": 3,
            "consumer_partitions": 1,
            "cors_origins": [urls["assessment"]],
            "compensation_url": urls["compensation"],  # where assessment asks for pay
        }
    )
    clock = Clock()
    async with AsyncExitStack() as stack:
        apps = await served_on(stack, settings, sockets, clock)
        yield apps, urls, clock


async def seed(apps, clock) -> None:
    enrollment, assessment, pay = (apps[n] for n in ("enrollment", "assessment", "compensation"))
    clock.set("2026-03-01")
    await open_session(assessment, "s-wi", "X1", "2026-03-01")
    for trainee_id, written in WRITTEN.items():
        await enrol(enrollment, trainee_id, **HQ_TRAINEE, enrolled_on="2026-02-27")
        await known_to_assessment(assessment, trainee_id)
        await sit(assessment, "s-wi", trainee_id, written)
    for trainee_id in WRITTEN:
        await until(lambda t=trainee_id: pay_rate(pay, t))


async def event_counts(apps) -> dict[str, int]:
    return {n: await apps[n].pool.fetchval("SELECT count(*) FROM events") for n in SERVICES}


@pytest.mark.timeout(180)
async def test_management_weighs_a_raised_senior_band_in_the_dashboard(served):
    from playwright.async_api import expect

    apps, urls, clock = served
    await seed(apps, clock)
    before = await event_counts(apps)
    boss = apps["assessment"].token("boss", Role.MANAGEMENT)
    query = "&".join(f"{name}={url}" for name, url in urls.items())
    address = f"{urls['assessment']}/dashboard?token={boss}&{query}&lang=en#whatif"

    async with chromium_page() as (page, errors):
        await page.goto(address)
        await page.get_by_role("tab", name="What if").click()
        senior = page.get_by_label("Minimum score for Engineer · Senior")
        await expect(senior).to_have_value("97")
        await page.get_by_label("From").fill("2026-03-01")
        await page.get_by_label("To", exact=True).fill("2026-03-31")
        await senior.fill("98")
        await page.get_by_role("button", name="Evaluate").click()

        changes = page.locator("#whatif-changes-table tbody tr")
        await expect(changes).to_have_count(1)
        await expect(changes.first).to_contain_text("t-a")
        await expect(changes.first).to_contain_text("-300.00")
        await expect(page.locator("#whatif-total-delta")).to_have_text("-300.00")
        counts = page.locator("#whatif-counts-table")
        await expect(counts.locator("tr", has_text="Senior")).to_contain_text("2")

        # The workbook of the same draft.
        async with page.expect_download() as waiting:
            await page.get_by_role("button", name="Download xlsx").click()
        download = await waiting.value
        data = await asyncio.to_thread(Path(await download.path()).read_bytes)
        book = load_workbook(BytesIO(data))
        assert book.sheetnames[0] == "变化 Changes"

        # 中文: the same view relabelled.
        await page.locator("#lang-toggle").click()
        await expect(page.get_by_role("tab", name="政策模拟")).to_be_visible()
        senior_zh = page.get_by_label("工程师 · 高级 最低分")
        await expect(senior_zh).to_have_value("98")
        await page.get_by_role("button", name="评估").click()
        await expect(page.locator("#whatif-changes-table thead")).to_contain_text("草案等级")
        await expect(changes).to_have_count(1)

        # A draft with the bands out of order is refused with its problems listed.
        await senior_zh.fill("93")
        await page.get_by_role("button", name="评估").click()
        await expect(page.locator("#whatif-problems")).to_contain_text("highest first")
        assert errors == [], errors
    assert await event_counts(apps) == before


@pytest.mark.timeout(120)
async def test_a_slower_earlier_answer_does_not_overwrite_a_later_refusal(served):
    """Evaluate, then evaluate a bad draft while the first answer is still on its way: the view
    shows the later answer (the problems), and the first, arriving last, is dropped."""
    from playwright.async_api import expect

    apps, urls, clock = served
    clock.set("2026-03-01")
    boss = apps["assessment"].token("boss", Role.MANAGEMENT)
    query = "&".join(f"{name}={url}" for name, url in urls.items())
    address = f"{urls['assessment']}/dashboard?token={boss}&{query}&lang=en#whatif"
    first_sent = asyncio.Event()
    first_answered = asyncio.Event()

    async def hold_the_first(route) -> None:
        if first_sent.is_set():
            await route.continue_()
            return
        first_sent.set()
        await asyncio.sleep(1.5)  # the first evaluation is slow
        await route.continue_()
        first_answered.set()

    async with chromium_page() as (page, errors):
        await page.goto(address)
        await page.get_by_role("tab", name="What if").click()
        senior = page.get_by_label("Minimum score for Engineer · Senior")
        await expect(senior).to_have_value("97")
        await page.route("**/what-if", hold_the_first)
        await page.get_by_role("button", name="Evaluate").click()
        await first_sent.wait()
        await senior.fill("93")
        await page.get_by_role("button", name="Evaluate").click()
        problems = page.locator("#whatif-problems")
        await expect(problems).to_contain_text("highest first")
        await first_answered.wait()
        await page.wait_for_load_state("networkidle")
        await page.evaluate("() => new Promise((done) => setTimeout(done, 300))")
        await expect(problems).to_contain_text("highest first")
        await expect(page.locator("#whatif-changes-table, #whatif-cost-table")).to_have_count(0)
        assert errors == [], errors
