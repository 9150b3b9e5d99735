"""What the workbench's browser tests share (tests/e2e/test_workbench_*.py): the services served
over real TCP ports with the development identity provider trusting the page's origin, one
Chromium, signing in through the provider's form, and the events the services stored.

The workbench is served by enrollment (/app/); the services a role's views call are started
(``Workbench.started``): the branch clerk's call enrollment alone. Every app runs on one pinned
``Clock`` (tests/e2e/test_dashboard.py's), so "today" is the service's, not the machine's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ops.identity_provider import RunningProvider, demo_users, issuer_url, start_provider
from shared.auth import Role
from shared.settings import Settings
from tests.e2e.test_dashboard import (
    Clock,
    bound_socket,
    chromium_page,
    served_on,
)
from tests.support import (
    RunningService,
    free_port,
    long_secret,
    ok,
    register_branches,
    xlsx,
)

PEERS = ("training", "assessment", "compensation")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Workbench:
    apps: dict[str, RunningService]
    urls: dict[str, str]
    provider: RunningProvider
    clock: Clock

    @property
    def address(self) -> str:
        return f"{self.urls['enrollment']}/app/"

    async def events(self, service: str, stream_prefix: str) -> list[dict[str, Any]]:
        """The events ``service`` stored on streams starting with ``stream_prefix``, in order."""
        rows = await self.apps[service].pool.fetch(
            "SELECT stream_id, version, type, branch_id, actor, idempotency_key FROM events"
            " WHERE stream_id LIKE $1 ORDER BY position",
            stream_prefix + "%",
        )
        return [dict(r) for r in rows]


@asynccontextmanager
async def serving(settings: Settings, names: Sequence[str]) -> AsyncIterator[Workbench]:
    """The apps ``names`` on TCP ports (consumers first), trusting a provider that sends people
    back to the workbench's origin (and to every app's: the dashboard on assessment); the
    standard branches registered."""
    sockets = {name: bound_socket() for name in names}
    urls = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    page = urls["enrollment"]
    port = free_port()
    settings = long_secret(settings).model_copy(
        update={
            "pool_size": 3,
            "consumer_partitions": 1,
            "cors_origins": [page],
            "oidc_issuer": issuer_url(port),
            "oidc_jwks_refetch_seconds": 0.0,
            # Where a service asks another (enrollment gathers a person's data from the three
            # others; assessment asks compensation for what-if): the ports they are served on.
            **{f"{name}_url": urls[name] for name in PEERS if name in urls},
        }
    )
    clock = Clock()
    async with AsyncExitStack() as stack:
        apps = await served_on(stack, settings, sockets, clock)
        provider = await asyncio.to_thread(
            start_provider,
            Settings(cors_origins=[page, *(u for u in urls.values() if u != page)]),
            port=port,
            users=demo_users(),
        )
        stack.push_async_callback(asyncio.to_thread, provider.stop)
        await register_branches(apps["enrollment"])
        yield Workbench(apps, urls, provider, clock)


@asynccontextmanager
async def browser_page(workbench: Workbench) -> AsyncIterator[tuple[Any, list[str]]]:
    """One Chromium page that reaches the services and the provider only, and the script errors
    it raised."""
    origins = {workbench.provider.issuer, *workbench.urls.values()}
    async with chromium_page(origins) as (page, errors):
        yield page, errors


async def sign_in(page, workbench: Workbench, sub: str, button: str = "Sign in") -> None:
    """From the signed-out workbench through the provider's form (a demo user's sub, any
    password) and back."""
    from playwright.async_api import expect

    await page.get_by_role("button", name=button, exact=True).click()
    await page.wait_for_url(f"{workbench.provider.issuer}/**")
    await page.locator("input[name=login]").fill(sub)
    await page.locator("input[name=password]").fill("any")
    await page.get_by_role("button", name="Sign-in").click()
    await page.wait_for_url(f"{workbench.address}**")
    await expect(page.locator("#session-user")).to_contain_text(f"({sub})")


async def sign_out(page, workbench: Workbench, button: str = "Sign out") -> None:
    await page.get_by_role("button", name=button, exact=True).click()
    await page.get_by_role("button", name="Yes, sign me out").click()
    await page.wait_for_url(f"{workbench.address}**")


async def until(check: Callable[[], Any], seconds: float = 15) -> Any:
    async with asyncio.timeout(seconds):
        while not (result := await check()):
            await asyncio.sleep(0.1)
    return result


def sheet_file(name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """An xlsx file of ``headers`` and ``rows`` as a file chooser is given it (set_input_files)."""
    return {"name": name, "mimeType": XLSX, "buffer": xlsx(headers, *rows)}


# The steps several journeys take on the same pages (tests/e2e/test_workbench_journey.py).


async def register_trainers(enrollment: RunningService, trainers: Sequence[dict[str, str]]) -> None:
    """The organisation's admin registers the trainers (``staff_id``, ``name``, ``department``)
    at the HQ: the plan form offers them by name (GET /staff)."""
    admin = enrollment.as_("admin-ma", Role.ADMIN)
    for trainer in trainers:
        body = {**trainer, "roles": ["trainer"], "branch_id": "hq"}
        await ok(enrollment.client.post("/staff", json=body, headers=admin), 201)


async def refreshed_until(page, rows, count: int, refresh: str = "Refresh") -> None:
    """Until ``rows`` are ``count``: a read model may lag a moment, so press ``refresh`` (the
    view's button), as a person would."""

    async def listed() -> bool:
        if await rows.count() == count:
            return True
        await page.get_by_role("button", name=refresh, exact=True).click()
        return False

    await until(listed)


async def draw_up_plan(page, stages: Sequence[dict[str, str]]) -> None:
    """Fills in the plan table (English labels), a row per stage: ``content``, ``trainer`` (by
    name), ``start`` and ``end``, and ``topic``, ``series`` and ``covers`` (``"all"``: tick every
    content item of the trainee's level, R-7a) where given; a row is added where the table has
    none yet."""
    for n, stage in enumerate(stages, start=1):
        content = page.get_by_label(f"Content, stage {n}")
        if not await content.count():
            await page.get_by_role("button", name="Add a stage").click()
        await content.fill(stage["content"])
        if "topic" in stage:
            await page.get_by_label(f"Topic, stage {n}").select_option(label=stage["topic"])
        await page.get_by_label(f"Trainer, stage {n}").select_option(label=stage["trainer"])
        if "series" in stage:
            await page.get_by_label(f"Product series, stage {n}").fill(stage["series"])
        await page.get_by_label(f"Planned start, stage {n}").fill(stage["start"])
        await page.get_by_label(f"Planned end, stage {n}").fill(stage["end"])
        if stage.get("covers") == "all":  # every content item of the trainee's level (R-7a)
            items = page.get_by_role("group", name=f"Content items, stage {n}")
            for box in await items.get_by_role("checkbox").all():
                await box.check()


async def fill_day(page, day: str, hours: str, content: str) -> None:
    """Fills in the trainer's "Log a training day" form (English labels), unsent."""
    form = page.get_by_role("form", name="Log a training day")
    await form.get_by_label("Date of the training").fill(day)
    await form.get_by_label("Hours").fill(hours)
    await form.get_by_label("Content taught").fill(content)
    await form.get_by_label("Method").fill("lecture")
    await form.get_by_label("Trainee's performance").fill("attentive")
    await form.get_by_label("Effect").fill("knows the procedure")


async def practical_scores(assessment, session_id: str, scores: dict[str, dict[str, str]]) -> None:
    """The practical scores other departments' examiners post through the API (R-16):
    ``scores[trainee_id][department]``, each under the examiner ``ex-<department>``."""
    for trainee_id, by_department in scores.items():
        for department, score in by_department.items():
            examiner = assessment.as_(f"ex-{department}", Role.EXAMINER, department=department)
            body = {"trainee_id": trainee_id, "department": department, "score": score}
            path = f"/sessions/{session_id}/practical"
            await ok(assessment.client.post(path, json=body, headers=examiner), 201)
