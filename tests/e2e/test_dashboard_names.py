"""The dashboard names branches and trainers (headless Chromium, as tests/e2e/test_dashboard.py):
the grade board shows a branch's English name in English and its Chinese name in 中文, with the
id beside it; the trainer board shows the trainer's name; a rename shows on the next refresh; a
branch whose registration has not arrived reads as its id.

Only the assessment service runs (the page's grade and trainer boards are its own); the
organisation's events and the upstream facts reach it through its consumer handler, as the bus
would deliver them.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from services.assessment.app import create_app as assessment_app
from services.assessment.consumers import HANDLER
from shared.auth import Role
from tests.e2e.test_dashboard import HttpServer, bound_socket, chromium_page
from tests.integration.assessment.helpers import Assessment, delete_topology
from tests.organisation import (
    branch_registered,
    branch_renamed,
    deliver_organisation,
    staff_registered,
    standard_names,
)
from tests.support import long_secret, running

SESSION, SERIES, TRAINER = "s-names", "X1", "tr-1"
# trainee: (branch, written score); 79 fails, so tr-1 is fined (R-24: 1 of 3)
TRAINEES = {"t-e1": ("bo-east", "95"), "t-h1": ("hq", "95"), "t-h2": ("hq", "79")}
EAST_ZH, EAST_EN = standard_names("bo-east")  # the standard branch's names (ops/organisation.py)


@pytest.fixture
async def served(settings):
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = long_secret(settings).model_copy(
        update={"pool_size": 3, "consumer_partitions": 1, "cors_origins": [url]}
    )
    async with AsyncExitStack() as stack:
        stack.callback(sock.close)
        stack.push_async_callback(delete_topology, settings, ["assessment"])
        service = await stack.enter_async_context(
            running(assessment_app(settings), settings, "assessment")
        )
        server = HttpServer(service.app, sock)
        await server.start()
        stack.push_async_callback(server.stop)
        yield Assessment(service), url


async def seed(svc: Assessment) -> None:
    await deliver_organisation(
        svc.pool,
        HANDLER,
        branch_registered("bo-east"),
        staff_registered(TRAINER, "孙老师"),
    )
    assert (await svc.open_session(SESSION, SERIES)).status_code == 201
    for trainee, (branch, written) in TRAINEES.items():
        await svc.enrol(trainee, branch=branch)
        await svc.plan(trainee, [(1, SERIES, TRAINER)])
        await svc.sit(SESSION, trainee, written=written)
    closed = await svc.client.post(f"/sessions/{SESSION}/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text
    await svc.eventually(
        "/board/grades", svc.management(), lambda b: sum(r["count"] for r in b["rows"]) == 2
    )
    await svc.eventually("/board/trainers", svc.management(), lambda b: len(b["rows"]) == 1)


@pytest.mark.timeout(120)
async def test_the_dashboard_names_branches_in_zh_and_en_and_trainers(served):
    from playwright.async_api import expect

    svc, url = served
    await seed(svc)
    boss = svc.service.token("boss", Role.MANAGEMENT)
    address = f"{url}/dashboard?token={boss}&assessment={url}&lang=en"
    names = await svc.client.get("/pages/names.js")
    assert names.status_code == 200
    assert names.headers["content-type"] == "text/javascript; charset=utf-8"

    async with chromium_page() as (page, errors):
        await page.goto(address)

        east = page.locator('#grade-table tr[data-branch="bo-east"] th')
        hq = page.locator('#grade-table tr[data-branch="hq"] th')
        await expect(east).to_contain_text(EAST_EN)
        await expect(east.locator("small.id")).to_have_text("bo-east")  # the id beside it
        await expect(hq).to_have_text("hq")  # its registration has not arrived: the id
        await expect(page.locator('#grades-chart text[data-branch="bo-east"]')).to_have_text(
            EAST_EN
        )
        option = page.locator('#grades-branch option[value="bo-east"]')
        await expect(option).to_have_text(EAST_EN)

        await page.locator("#lang-toggle").click()  # 中文
        await expect(east).to_contain_text(EAST_ZH)
        await expect(option).to_have_text(EAST_ZH)

        # The trainer board names the trainer (in either language: a person has one name).
        await page.locator('[role=tab][data-view="trainers"]').click()
        trainer = page.locator("#trainers-table tbody tr td").first
        await expect(trainer).to_contain_text("孙老师")
        await expect(trainer.locator("small.id")).to_have_text(TRAINER)

        # A rename, then the branch registered late: the next refresh shows both.
        await deliver_organisation(
            svc.pool,
            HANDLER,
            branch_renamed("bo-east", "华东大区", "East Region"),
            branch_registered("hq"),
        )
        await page.locator('[role=tab][data-view="grades"]').click()
        await page.locator("#grades-form .refresh").click()
        await expect(east).to_contain_text("华东大区")
        await expect(hq).to_contain_text(standard_names("hq")[0])
        await page.locator("#lang-toggle").click()  # English
        await expect(east).to_contain_text("East Region")
        await expect(hq).to_contain_text(standard_names("hq")[1])
        assert errors == [], errors
