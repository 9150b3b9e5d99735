"""The management dashboard (GET /dashboard on assessment) in headless Chromium, against the four
apps served over real TCP ports: the page fetches every service cross-origin with the viewer's
token, as in production.

Seeded through the services' HTTP APIs over the real bus: seven trainees of two branches, six
graded to known positions and levels and one failed (kept in training at its branch's cost), one
trainer on every plan, a closed session, and the payroll month 2026-03. The page must show those
numbers; the drill-down lists a cell's trainees; a trainee's audit shows its events in order and
the rule trace; 中文 relabels the page; 401, 403 and unreachable services say so.

Chromium is Debian's (/usr/bin/chromium, installed by .ci/run), driven by Playwright: its own
browser download does not work on this network. Without it the test fails, saying so.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Collection
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from openpyxl import load_workbook

from shared.auth import Role
from tests.e2e.helpers import CONSUMERS, FACTORIES, approved_plans, place
from tests.integration.assessment.helpers import delete_topology
from tests.support import (
    RunningService,
    bearer,
    consuming,
    long_secret,
    mandatory_stages,
    ok,
    plan_stage,
    register_branches,
    running,
    until,
)

CHROMIUM = os.environ.get("GRADELINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")
PRACTICAL = ("96", "95", "97", "98", "94")  # mean 96
MONTH = "2026-03"
TRAINER, SERIES, SESSION = "tr-x", "X1", "s-dash"

# trainee: (branch, category, name, written score, grade); grade score = (written + 96) / 2
TRAINEES = {
    "t-h1": ("hq", "hq_full_time", "张伟", "95", ("engineer", "intermediate")),  # 95.5
    "t-h2": ("hq", "hq_full_time", "李娜", "95", ("engineer", "intermediate")),
    "t-h3": ("hq", "hq_full_time", "王强", "80", ("technician", "senior")),  # 88
    "t-e1": ("bo-east", "branch_commissioned", "赵敏", "95", ("engineer", "intermediate")),
    "t-e2": ("bo-east", "branch_commissioned", "陈刚", "99", ("engineer", "senior")),  # 97.5
    "t-e3": ("bo-east", "branch_commissioned", "刘洋", "80", ("technician", "senior")),
    "t-e4": ("bo-east", "branch_commissioned", "周杰", "79", None),  # below 80 fails
}
KEPT_IN_TRAINING = "t-e4"  # bo-east pays 200 per training day after the disposition
# hq_full_time engineer intermediate 3200, technician senior 2900; R-31: branch
# offices' commissioned staff are not on this payroll.
PAYROLL_TOTAL = "9300.00"
POSITIONS, LEVELS = ("technician", "engineer"), ("junior", "intermediate", "senior")


class Clock:
    """The pinned ``now`` of every app, moved on by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 2, 25, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: str) -> None:
        self.now = datetime.combine(date.fromisoformat(day), self.now.timetz())


class HttpServer:
    """An app (its lifespan already running) served by uvicorn on a socket bound in advance."""

    def __init__(self, app, sock: socket.socket) -> None:
        config = uvicorn.Config(
            app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        async with asyncio.timeout(10):
            while not self.server.started:
                assert not self.task.done(), "uvicorn stopped while starting"
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)
        self.sock.close()


async def served_on(
    stack: AsyncExitStack, settings, sockets: dict[str, socket.socket], clock: Clock
) -> dict[str, RunningService]:
    """The apps named in ``sockets`` with their lifespans (consumers first, each listening before
    the next app starts), all on ``clock``, each served on its socket; stopped with ``stack``."""
    names = [n for n in FACTORIES if n in sockets]
    for sock in sockets.values():
        stack.callback(sock.close)
    stack.push_async_callback(delete_topology, settings, [n for n in CONSUMERS if n in names])
    apps: dict[str, RunningService] = {}
    for name in names:
        app = FACTORIES[name](settings)
        app.state.clock = clock
        apps[name] = await stack.enter_async_context(running(app, settings, name))
        if name in CONSUMERS:
            await consuming(settings, name)
        server = HttpServer(app, sockets[name])
        await server.start()
        stack.push_async_callback(server.stop)
    return apps


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
async def served(settings):
    """The four apps with their lifespans, each also on a TCP port; CORS allows the origin of
    the assessment service, which serves the page."""
    async with serving(settings) as apps_urls_clock:
        yield apps_urls_clock


@pytest.fixture
async def served_linking(settings):
    """As ``served``, with a grade board that lists no trainee inline: each cell links its
    drill-down (``GRADELINE_BOARD_INLINE_TRAINEES=0``), as a board of 100,000 trainees does."""
    async with serving(settings, board_inline_trainees=0) as apps_urls_clock:
        yield apps_urls_clock


@asynccontextmanager
async def serving(settings, **changes: Any):
    sockets = {name: bound_socket() for name in FACTORIES}
    urls = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    # Small pools and one partition per consumer: four apps share 2 cores and 100 connections.
    settings = long_secret(settings).model_copy(
        update={
            "pool_size": 3,
            "consumer_partitions": 1,
            "cors_origins": [urls["assessment"]],
            **changes,
        }
    )
    clock = Clock()
    async with AsyncExitStack() as stack:
        apps = await served_on(stack, settings, sockets, clock)
        yield apps, urls, clock


# --- seeding through the HTTP APIs --------------------------------------------------------------


PRODUCT_STAGE = plan_stage(1, "product", "technical", TRAINER, SERIES)
FULL_PLAN = [
    *mandatory_stages(),
    {**PRODUCT_STAGE, "no": 5},
]


async def seed(apps: dict[str, RunningService], clock: Clock) -> None:
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await register_branches(enrollment)
    for trainee_id, (branch, category, name, *_) in TRAINEES.items():
        body = {
            "trainee_id": trainee_id,
            "name": name,
            "category": category,
            "branch_id": branch,
            "education": "high_school",
            "experience_years": 4,
            "certificates": [],
            "product_series": ["X1", "X2", "X3"],
            "enrolled_on": "2026-02-20",
        }
        await ok(enrollment.client.post("/trainees", json=body, headers=manager), 201)
        await place(enrollment, trainee_id)  # the plan level approval needs

    # Every trainee is tr-x's on X1 in an approved plan (R-24 with R-9 counts them); approval
    # needs the mandatory topics too (R-8a).
    await approved_plans(training, assessment, TRAINEES, FULL_PLAN, TRAINER, SERIES)

    clock.set("2026-03-01")  # graded on the 1st: the whole of March at the new rate
    session = {"session_id": SESSION, "product_series": SERIES, "held_on": "2026-03-01"}
    await ok(assessment.client.post("/sessions", json=session, headers=manager), 201)
    hr = assessment.as_("ex-hr", Role.EXAMINER, department="hr")
    for trainee_id, (*_, written, grade) in TRAINEES.items():
        body = {"trainee_id": trainee_id, "score": written}
        await ok(assessment.client.post(f"/sessions/{SESSION}/written", json=body, headers=hr), 201)
        for department, score in zip(DEPARTMENTS, PRACTICAL, strict=True):
            examiner = assessment.as_(f"ex-{department}", Role.EXAMINER, department=department)
            body = {"trainee_id": trainee_id, "department": department, "score": score}
            path = f"/sessions/{SESSION}/practical"
            sitting = await ok(assessment.client.post(path, json=body, headers=examiner), 201)
        decision = sitting["decision"]
        assert (decision.get("position"), decision.get("level")) == (grade or (None, None))
    await ok(assessment.client.post(f"/sessions/{SESSION}/close", headers=manager))
    await ok(
        assessment.client.post(
            f"/trainees/{KEPT_IN_TRAINING}/disposition",
            headers=manager,
            json={"outcome": "continue_training", "reason": "the branch asks for more training"},
        )
    )

    clock.set("2026-03-03")
    day = {
        "date": "2026-03-02",
        "content": "fault finding on X1",
        "method": "hands-on",
        "hours": "8",
        "performance": "slow",
        "effect": "improving",
    }
    await ok(
        training.client.post(
            f"/plans/{KEPT_IN_TRAINING}/stages/5/days",
            json=day,
            headers=training.as_(TRAINER, Role.TRAINER),
        ),
        201,
    )

    await until(
        lambda: pay.pool.fetchval(
            "SELECT (SELECT count(*) FROM training_days WHERE trainee_id = $1) = 1"
            " AND (SELECT count(*) FROM dispositions WHERE trainee_id = $1) = 1"
            " AND (SELECT count(*) FROM trainer_penalties WHERE session_id = $2) = 1",
            KEPT_IN_TRAINING,
            SESSION,
        )
    )
    payroll = pay.as_("pay-1", Role.PAYROLL)

    async def rates_known():
        answers = [
            await pay.client.get(f"/employees/{t}/pay-rate", headers=payroll)
            for t in ("t-h1", "t-h2", "t-h3")
        ]
        return all(a.status_code == 200 for a in answers)

    await until(rates_known)
    clock.set("2026-04-01")
    run = await ok(pay.client.post(f"/payroll/{MONTH}/run", headers=payroll))
    assert run["issued"]["payslips"] == 3 and run["issued"]["branch_fees"] == 1, run["issued"]
    month = await ok(pay.client.get(f"/payroll/{MONTH}", headers=payroll))
    assert sum(float(p["total"]) for p in month["payslips"]) == float(PAYROLL_TOTAL)
    await until(
        lambda: assessment.pool.fetchval(  # the board's projection has caught up
            "SELECT count(*) = 6 FROM proj_grade_board.grades WHERE position IS NOT NULL"
        )
    )


def expected_counts() -> dict[str, int]:
    counts = {
        f"{branch}|{p}|{lv}": 0 for branch in ("bo-east", "hq") for p in POSITIONS for lv in LEVELS
    }
    for branch, _, _, _, grade in TRAINEES.values():
        if grade is not None:
            counts[f"{branch}|{grade[0]}|{grade[1]}"] += 1
    return counts


# --- the browser --------------------------------------------------------------------------------


def chromium() -> str:
    """The browser binary; a missing one fails the test (never a silent skip)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y "
            "chromium; .ci/run does) or set GRADELINE_CHROMIUM to a Chromium binary"
        )
    return CHROMIUM


@asynccontextmanager
async def chromium_page(
    origins: Collection[str] | None = None,
    refused: list[str] | None = None,
    *,
    timeout_ms: int = 15_000,
) -> AsyncIterator[tuple[Any, list[str]]]:
    """A page of a headless Chromium and the script errors it raised. With ``origins``, a
    request to any other origin fails as if offline (and its URL goes into ``refused``): what
    the tested pages need must come from those origins (the provider's form asks for a web font).
    """
    binary = chromium()
    from playwright.async_api import async_playwright

    async def local_only(route) -> None:
        parts = urlsplit(route.request.url)
        if f"{parts.scheme}://{parts.netloc}" in (origins or ()):
            await route.continue_()
        else:
            if refused is not None:
                refused.append(route.request.url)
            await route.abort("internetdisconnected")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=binary, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            context = await browser.new_context()
            if origins is not None:
                await context.route("**/*", local_only)
            page = await context.new_page()
            page.set_default_timeout(timeout_ms)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, errors
        finally:
            await browser.close()


async def workbook_rows(download) -> list[tuple]:
    """The first sheet's rows of a downloaded workbook."""
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    sheet = load_workbook(BytesIO(data)).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.timeout(180)
async def test_a_board_that_links_its_cells_drills_down_through_the_cells_pages(served_linking):
    """At scale the board answers counts and a link per cell; the drill-down then reads the
    cell's pages (GET /board/grades/{branch}/{position}/{level})."""
    from playwright.async_api import expect

    apps, urls, clock = served_linking
    await seed(apps, clock)
    assessment = apps["assessment"]
    boss = assessment.token("boss", Role.MANAGEMENT, Role.AUDITOR)
    board = (await assessment.client.get("/board/grades", headers=bearer(boss))).json()
    assert all(row["trainee_ids"] is None for row in board["rows"]), board
    query = "&".join(f"{name}={url}" for name, url in urls.items())
    address = f"{urls['assessment']}/dashboard?token={boss}&{query}&month={MONTH}&lang=en"

    async with chromium_page() as (page, errors):
        await page.goto(address)
        cell = page.locator('#grade-table td[data-cell="hq|engineer|intermediate"]')
        await expect(cell).to_have_text("2")
        await cell.locator("button").click()
        listed = page.locator("#drilldown-list button.trainee")
        await expect(listed).to_have_text(["t-h1", "t-h2"])
        await expect(page.locator("#drilldown-list")).to_contain_text("张伟")
        assert errors == [], errors


async def test_dashboard_shows_the_seeded_numbers_drills_down_and_audits(served):
    from playwright.async_api import expect

    apps, urls, clock = served
    await seed(apps, clock)
    assessment = apps["assessment"]

    # The page and its files come from the assessment service; nothing else there does.
    page_answer = await assessment.client.get("/dashboard")
    assert page_answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page_answer.headers["content-security-policy"]
    script = await assessment.client.get("/dashboard/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await assessment.client.get("/dashboard/index.html")).status_code == 404

    boss = assessment.token("boss", Role.MANAGEMENT, Role.AUDITOR)
    query = "&".join(f"{name}={url}" for name, url in urls.items())
    address = f"{urls['assessment']}/dashboard?token={boss}&{query}&month={MONTH}&lang=en"

    async with chromium_page() as (page, errors):
        await page.goto(address)
        assert "token=" not in page.url  # stored in sessionStorage, dropped from the URL
        # The workbench (enrollment's /app/) is one link away.
        await expect(page.get_by_role("link", name="Workbench")).to_have_attribute(
            "href", f"{urls['enrollment']}/app/?lang=en"
        )

        # The grade board: every branch x position x level cell, zeros included.
        await expect(page.locator("#grade-table")).to_be_visible()
        for cell, count in expected_counts().items():
            await expect(page.locator(f'#grade-table td[data-cell="{cell}"]')).to_have_text(
                str(count)
            )
        await expect(page.locator("#grade-table tfoot td.total")).to_have_text("6")
        nonzero = sorted(c for c, n in expected_counts().items() if n)
        bars = page.locator("#grades-chart rect[data-cell]")
        assert sorted(await bars.evaluate_all("bs => bs.map(b => b.dataset.cell)")) == nonzero

        # Drill-down: a cell lists its trainees with their names and current grades.
        await page.locator('#grade-table td[data-cell="hq|engineer|intermediate"] button').click()
        listed = page.locator("#drilldown-list button.trainee")
        await expect(listed).to_have_text(["t-h1", "t-h2"])
        await expect(page.locator("#drilldown-list")).to_contain_text("张伟")
        await expect(page.locator("#drilldown-list")).to_contain_text("95.5")
        # ... and a bar of the chart does the same.
        await page.locator('#grades-chart rect[data-cell="bo-east|engineer|senior"]').click()
        await expect(listed).to_have_text(["t-e2"])
        await expect(page.locator("#drilldown-list")).to_contain_text("97.5")

        # A trainee's audit: its events in order, the decision re-derived, the rule trace.
        await listed.first.click()
        verdict = page.locator("#audit-verdict")
        await expect(verdict).to_have_attribute("data-consistent", "true")
        types = await page.locator("#audit-events > li").evaluate_all(
            "items => items.map(i => i.dataset.type)"
        )
        assert types[0] == "TraineeEnrolled", types
        assert types.index("ExamScored") < types.index("GradeAssigned"), types
        await expect(page.locator("#audit-derivations .rule-trace").first).to_contain_text("R-20")
        assert page.url.endswith("#audit/t-e2")

        # As of a day before anything was recorded: the replayed board is empty.
        await page.locator('[role=tab][data-view="grades"]').click()
        async with page.expect_request(lambda r: "as_of=2020-01-01T23" in r.url):
            await page.locator("#grades-asof").fill("2020-01-01")
        await expect(page.locator("#grades-table")).to_contain_text("No graded trainees")
        await expect(page.locator("#grades-caption")).to_contain_text("2020-01-01")
        await page.locator("#grades-now").click()
        await expect(
            page.locator('#grade-table td[data-cell="bo-east|technician|senior"]')
        ).to_have_text("1")
        # The branch filter asks the service for one branch.
        await page.locator("#grades-branch").select_option("hq")
        await expect(page.locator("#grade-table tbody tr")).to_have_count(1)
        await expect(page.locator("#grade-table tfoot td.total")).to_have_text("3")
        # ... and so does the board's workbook (issue 20): the same filter, both headers.
        async with page.expect_download() as waiting:
            await page.locator("#view-grades").get_by_role("button", name="Download xlsx").click()
        book = await workbook_rows(await waiting.value)
        assert book[0][:2] == ("网点编号", "网点") and book[1][:2] == ("Branch id", "Branch")
        assert {row[0] for row in book[2:]} == {"hq"}
        assert sum(row[5] for row in book[2:]) == 3

        # 中文: the labels change, the numbers stay.
        await page.locator("#lang-toggle").click()
        await expect(page.locator('[role=tab][data-view="grades"]')).to_have_text("等级看板")
        await expect(page.locator("#grade-table thead")).to_contain_text("工程师")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

        # The trainer board and training progress.
        await page.locator('[role=tab][data-view="trainers"]').click()
        await expect(page.locator("#trainers-table tbody tr")).to_have_count(1)
        async with page.expect_request(lambda r: f"session_id={SESSION}" in r.url):
            await page.locator("#trainers-session").select_option(SESSION)
        trainer_row = page.locator("#trainers-table tbody tr", has_text=TRAINER)
        await expect(trainer_row).to_contain_text(SESSION)
        await expect(trainer_row.locator("td").nth(3)).to_have_text("7")
        await expect(trainer_row.locator("td").nth(4)).to_have_text("1")
        async with page.expect_download() as waiting:
            await page.locator("#view-trainers").get_by_role("button", name="下载 xlsx").click()
        book = await workbook_rows(await waiting.value)
        assert [(row[0], row[2], row[4], row[5]) for row in book[2:]] == [(TRAINER, SESSION, 7, 1)]
        await page.locator('[role=tab][data-view="progress"]').click()
        hq_progress = page.locator("#progress-branches tbody tr", has_text="hq")
        await expect(hq_progress.locator("td").nth(1)).to_have_text("3")

        # Payroll and fees of the month.
        await page.locator('[role=tab][data-view="pay"]').click()
        await expect(page.locator("#payroll-total")).to_have_text(PAYROLL_TOTAL)
        await expect(page.locator("#pay-payroll tbody tr")).to_have_count(3)
        await expect(page.locator("#fees-total")).to_have_text("200.00")
        await expect(page.locator("#pay-fees")).to_contain_text(KEPT_IN_TRAINING)

        # Clear messages: no audit without the auditor role (403), a bad token (401), a
        # service that does not answer.
        await page.locator("#connection").evaluate("d => d.open = true")
        await page.locator("#token").fill(assessment.token("boss", Role.MANAGEMENT))
        await page.locator("#connection-form button[type=submit]").click()
        await page.locator('[role=tab][data-view="audit"]').click()
        await page.locator("#audit-trainee").fill("t-h1")
        await page.locator("#audit-form button[type=submit]").click()
        await expect(page.locator("#audit-message")).to_contain_text("auditor")
        await page.locator("#token").fill("not-a-token")
        await page.locator("#connection-form button[type=submit]").click()
        await page.locator('[role=tab][data-view="grades"]').click()
        await expect(page.locator("#grades-message")).to_contain_text("gradeline token")
        closed = bound_socket()  # bound, never listening: connections are refused
        try:
            refused = f"http://127.0.0.1:{closed.getsockname()[1]}"
            await page.locator("#token").fill(boss)
            await page.locator("#url-compensation").fill(refused)
            await page.locator("#connection-form button[type=submit]").click()
            await page.locator('[role=tab][data-view="pay"]').click()
            await expect(page.locator("#pay-message")).to_contain_text(refused)
        finally:
            closed.close()
        assert errors == [], errors
