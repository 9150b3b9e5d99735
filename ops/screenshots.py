"""``make screenshots``: each role's main view, in English and Chinese, as PNGs under
``docs/screenshots/`` (shown in the README), so people see the product before installing it.

It runs what ``make run`` runs, in a namespace and on ports of its own (nothing of a running
``make run`` is touched): the development identity provider, the four services, the demo data;
then a headless Chromium signs in as each role's demo user through the provider's form, as a
person does, and photographs the page that person lands on. The namespace is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.load.cluster import Cluster, cluster_settings, started
from ops.demo import load_demo
from ops.identity_provider import RunningProvider, start_provider
from shared.auth import Role, mint_token_for
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 860}
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Shot:
    """One person's first view: ``stem``-en.png and ``stem``-zh.png."""

    stem: str
    sub: str  # a demo user (ops.identity_provider.demo_users)
    page: str = "workbench"  # or "dashboard" (assessment's /dashboard)
    title: str = ""  # what the README says under it
    fragment: str = ""  # the view to open (else where the person lands): {month} the demo's
    # payroll month, {session} its first exam session


SHOTS = (
    Shot("branch-clerk", "clerk-bo-east", title="Branch clerk: enrol a trainee"),
    Shot(
        "after-sales-manager",
        "mgr-xu",
        title="After-sales manager: exam sessions",
        fragment="exam-sessions",
    ),
    Shot("executive-vp", "vp-song", title="Executive vice-president: plans to approve"),
    Shot("trainer", "tr-chen-gang", title="Trainer: my trainees and stages"),
    Shot("trainee", "d7n200-bo-east-001", title="Trainee: my plan"),
    Shot(
        "examiner", "ex-technical", title="Examiner: the scoring grid", fragment="scoring/{session}"
    ),
    Shot("payroll", "pay-qian", title="Payroll: the month's inputs", fragment="pay-inputs/{month}"),
    Shot("management", "gm-lin", page="dashboard", title="Management: the dashboard"),
    Shot(
        "auditor",
        "aud-he",
        page="dashboard",
        title="Auditor: a trainee's audit",
        fragment="audit/d7n200-bo-east-001",
    ),
    Shot(
        "branch-feedback",
        "clerk-bo-east",
        title="Branch clerk: what the branch is told",
        fragment="feedback",
    ),
    Shot("policies", "vp-song", title="Executive vice-president: policies", fragment="policies"),
    Shot("privacy", "admin-ma", title="Administrator: personal data", fragment="privacy"),
)


@dataclass(frozen=True)
class Demo:
    """What the fragments name: the demo's payroll month and first exam session."""

    month: str
    session: str


def address(cluster: Cluster, shot: Shot, lang: str, demo: Demo | None = None) -> str:
    """The shot's page; its view once the demo is known (signing in starts from the page)."""
    fragment = ""
    if shot.fragment and demo is not None:
        fragment = "#" + shot.fragment.format(month=demo.month, session=demo.session)
    if shot.page == "dashboard":
        return f"{cluster.url('assessment')}/dashboard?lang={lang}{fragment}"
    return f"{cluster.url('enrollment')}/app/?lang={lang}{fragment}"


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def photograph(
    browser: Any, cluster: Cluster, provider: RunningProvider, shot: Shot, demo: Demo
) -> None:
    # A browser context of its own per person: nobody's session leaks into the next photo.
    context = await browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    try:
        page = await context.new_page()
        page.set_default_timeout(30_000)
        await page.goto(address(cluster, shot, "en"))
        await page.locator("body[data-ready=true]").wait_for()
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await page.wait_for_url(f"{provider.issuer}/**")
        await page.locator("input[name=login]").fill(shot.sub)
        await page.locator("input[name=password]").fill("demo")
        await page.get_by_role("button", name="Sign-in").click()
        await page.wait_for_url(f"{address(cluster, shot, 'en').split('?')[0]}**")
        await page.locator("#session-user", has_text=f"({shot.sub})").wait_for()
        for lang in LANGUAGES:
            await page.goto(address(cluster, shot, lang, demo))
            await page.locator("body[data-ready=true]").wait_for()
            await page.wait_for_load_state("networkidle")
            target = FOLDER / f"{shot.stem}-{lang}.png"
            await page.screenshot(path=str(target))
            print(f"[screenshots] {target.relative_to(ROOT)}", flush=True)
    finally:
        await context.close()


async def first_session(cluster: Cluster) -> str:
    token = mint_token_for(cluster.settings, "screenshots", [Role.EXAMINER])
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.get(f"{cluster.url('assessment')}/sessions")
    answer.raise_for_status()
    return str(answer.json()["items"][0]["session_id"])


async def take(cluster: Cluster, provider: RunningProvider, shots: tuple[Shot, ...]) -> None:
    urls = cluster.urls
    print("[screenshots] loading the demo data", flush=True)
    summary = await load_demo(urls, secret=cluster.settings.jwt_secret, show_progress=False)
    demo = Demo(summary.month, await first_session(cluster))
    FOLDER.mkdir(parents=True, exist_ok=True)
    async with chromium() as browser:
        for shot in shots:
            await photograph(browser, cluster, provider, shot, demo)


def chinese_font_missing() -> bool:
    """Without a CJK font Chromium draws Chinese as empty boxes (Debian: fonts-noto-cjk)."""
    if shutil.which("fc-list") is None:
        return False  # cannot tell
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return not found.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stems", nargs="*", help="only these shots (default: all)")
    args = parser.parse_args()
    shots = tuple(s for s in SHOTS if not args.stems or s.stem in args.stems)
    if chinese_font_missing():
        print("[screenshots] no Chinese font: install one (Debian: apt install fonts-noto-cjk)")
        return 1
    base = Settings()
    settings = cluster_settings(base.pg_dsn, base.amqp_url)
    # Both trust every service's own origin (at the namespace's port offset) by default.
    provider = start_provider(settings)
    env = {"GRADELINE_OIDC_ISSUER": provider.issuer}
    cluster = Cluster(settings, Path(tempfile.mkdtemp(prefix="gradeline-shots-")))
    try:
        with started(settings, cluster.log_dir, env=env) as running:
            asyncio.run(take(running, provider, shots))
    finally:
        provider.stop()
        asyncio.run(cluster.drop())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
