"""Signing in to the dashboard in headless Chromium against the development identity provider
(ops/identity_provider.py: a real OpenID provider, started here with the page's origin among its
redirect URIs), the four apps trusting its tokens over real TCP ports.

Signed out, the page offers to sign in; "Sign in" goes to the provider's sign-in form (a demo
user's sub), the provider sends the browser back with a code, the page exchanges it (PKCE) and the
board loads with the access token as Bearer. The page says who is signed in; the access token is
renewed with the refresh token before it expires; a 401 offers to sign in again; "Sign out" ends
the session at the provider and returns to the signed-out page. A branch clerk sees its own
branch only. In English, then in Chinese.

Seeded as tests/e2e/test_dashboard.py seeds (trainees of hq and bo-east, graded).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ops.identity_provider import RunningProvider, demo_users, issuer_url, start_provider
from shared.settings import Settings
from tests.e2e.test_dashboard import (
    MONTH,
    chromium_page,
    expected_counts,
    seed,
    served,  # noqa: F401 (a fixture: it takes this module's settings below)
)
from tests.support import free_port

# Short-lived access tokens: the page renews them (refresh token) a minute before they expire,
# so within seconds of signing in.
ACCESS_TOKEN_SECONDS = 70
BOSS = "boss"  # management and auditor: every branch
CLERK = "clerk-bo-east"  # branch_clerk of bo-east: its own branch only


@pytest.fixture
def provider_port() -> int:
    return free_port()


@pytest.fixture
async def settings(settings: Settings, provider_port: int) -> Settings:
    """The apps trust the provider that starts on ``provider_port`` once the page's origin is
    known (the services fetch its keys at the first token)."""
    return settings.model_copy(
        update={"oidc_issuer": issuer_url(provider_port), "oidc_jwks_refetch_seconds": 0.0}
    )


@pytest.fixture
async def signing_in(
    served,  # noqa: F811 (test_dashboard's fixture)
    provider_port,
) -> AsyncIterator[tuple[dict[str, str], RunningProvider]]:
    apps, urls, clock = served
    page_settings = Settings(cors_origins=[urls["assessment"]])
    provider = await asyncio.to_thread(
        start_provider,
        page_settings,
        port=provider_port,
        users=demo_users(),
        access_token_ttl=ACCESS_TOKEN_SECONDS,
    )
    try:
        await seed(apps, clock)
        yield urls, provider
    finally:
        await asyncio.to_thread(provider.stop)


async def sign_in_at_the_provider(page, sub: str) -> None:
    """The provider's sign-in form: a demo user's sub (any password)."""
    await page.locator("input[name=login]").fill(sub)
    await page.locator("input[name=password]").fill("any")
    await page.get_by_role("button", name="Sign-in").click()


@pytest.mark.timeout(240)
async def test_people_sign_in_through_the_provider_and_see_what_their_roles_allow(signing_in):
    from playwright.async_api import expect

    urls, provider = signing_in
    origins = {urls["assessment"], provider.issuer, *urls.values()}
    query = "&".join(f"{name}={url}" for name, url in urls.items())
    address = f"{urls['assessment']}/dashboard?{query}&month={MONTH}&lang=en"

    async with chromium_page(origins) as (page, errors):
        context = page.context
        renewals: list[str] = []  # refresh-token grants the page sent to the provider
        context.on(
            "request",
            lambda r: (
                renewals.append(r.url)
                if r.url.startswith(provider.issuer)
                and "grant_type=refresh_token" in (r.post_data or "")
                else None
            ),
        )
        await page.goto(address)

        # Signed out: the page offers to sign in, and calls nothing.
        sign_in = page.get_by_role("button", name="Sign in", exact=True)
        await expect(sign_in).to_be_visible()
        await expect(page.locator("#session-user")).to_have_text("Not signed in")
        await expect(page.locator("#global-message")).to_have_text("Sign in to see the boards.")
        await expect(page.locator("#developer-token")).not_to_have_attribute("open", "")

        # Sign in at the provider; back on the board, every call carries the access token.
        await sign_in.click()
        await page.wait_for_url(f"{provider.issuer}/**")
        async with page.expect_request(lambda r: "/board/grades" in r.url) as board_call:
            await sign_in_at_the_provider(page, BOSS)
        bearer = (await board_call.value).headers["authorization"]
        assert bearer.startswith("Bearer ey"), bearer  # the provider's JWT, not a paste
        assert page.url.startswith(f"{urls['assessment']}/dashboard?")
        assert "code=" not in page.url and "state=" not in page.url
        assert f"month={MONTH}" in page.url  # the address before signing in, restored
        await expect(page.locator("#session-user")).to_contain_text("Signed in as")
        await expect(page.locator("#session-user")).to_contain_text(f"({BOSS})")
        await expect(page.locator("#session-roles")).to_have_text("Roles: management, auditor")
        await expect(page.locator("#grade-table tfoot td.total")).to_have_text("6")
        rows = page.locator("#grade-table tbody tr")
        assert sorted(await rows.evaluate_all("rs => rs.map(r => r.dataset.branch)")) == [
            "bo-east",
            "hq",
        ]
        stored = await page.evaluate("Object.keys(sessionStorage)")
        assert any(k.startswith("gradeline.oidc.user:") for k in stored), stored
        assert not await page.evaluate("Object.keys(localStorage).filter(k => k.includes('oidc'))")

        # Renewed before it expires, with the refresh token; the next call uses the new one.
        async with asyncio.timeout(ACCESS_TOKEN_SECONDS):
            while not renewals:
                await asyncio.sleep(0.2)
        async with page.expect_request(lambda r: "/board/trainers" in r.url) as renewed_call:
            await page.get_by_role("tab", name="Trainer board").click()
        renewed = (await renewed_call.value).headers["authorization"]
        assert renewed.startswith("Bearer ey") and renewed != bearer
        await expect(page.locator("#trainers-table tbody tr")).to_have_count(1)

        # A 401 (the provider withdrew the session, say): the page offers to sign in again.
        await page.get_by_role("tab", name="Grade board").click()
        await page.route(
            "**/board/grades*",
            lambda route: route.fulfill(
                status=401,
                content_type="application/problem+json",
                body='{"title": "Unauthorized", "status": 401, "detail": "token expired"}',
            ),
        )
        await page.locator("#view-grades").get_by_role("button", name="Refresh").click()
        await expect(page.locator("#reauth")).to_be_visible()
        await expect(page.locator("#reauth-text")).to_contain_text("Sign in again")
        await page.unroute("**/board/grades*")
        again = page.get_by_role("button", name="Sign in again")
        await again.click()  # the provider still knows the session: straight back
        await expect(page.locator("#grade-table tfoot td.total")).to_have_text("6")
        await expect(page.locator("#reauth")).to_be_hidden()

        # Sign out: at the provider too, then back to the signed-out page.
        await page.get_by_role("button", name="Sign out").click()
        await page.get_by_role("button", name="Yes, sign me out").click()
        await page.wait_for_url(f"{urls['assessment']}/dashboard**")
        await expect(sign_in).to_be_visible()
        await expect(page.locator("#session-user")).to_have_text("Not signed in")
        assert "state=" not in page.url
        stored = await page.evaluate("Object.keys(sessionStorage)")
        assert not any(k.startswith("gradeline.oidc.user:") for k in stored), stored

        # 中文: a branch clerk signs in and sees its own branch only.
        await page.locator("#lang-toggle").click()
        sign_in_zh = page.get_by_role("button", name="登录", exact=True)
        await expect(sign_in_zh).to_be_visible()
        await expect(page.locator("#session-user")).to_have_text("未登录")
        await expect(page.locator("#global-message")).to_have_text("请先登录以查看看板。")
        await sign_in_zh.click()
        await sign_in_at_the_provider(page, CLERK)
        await expect(page.locator("#session-user")).to_contain_text("已登录：")
        await expect(page.locator("#session-user")).to_contain_text(f"({CLERK})")
        await expect(page.locator("#session-roles")).to_have_text("角色: branch_clerk")
        await expect(page.locator("#session-branch")).to_have_text("分支机构: bo-east")
        await expect(page.locator("#grade-table tbody tr")).to_have_count(1)
        await expect(page.locator("#grade-table tbody tr")).to_have_attribute(
            "data-branch", "bo-east"
        )
        bo_east = sum(n for cell, n in expected_counts().items() if cell.startswith("bo-east"))
        await expect(page.locator("#grade-table tfoot td.total")).to_have_text(str(bo_east))
        await expect(page.locator('[role=tab][data-view="grades"]')).to_have_text("等级看板")

        await page.get_by_role("button", name="退出登录").click()
        await page.get_by_role("button", name="Yes, sign me out").click()
        await page.wait_for_url(f"{urls['assessment']}/dashboard**")
        await expect(sign_in_zh).to_be_visible()
        await expect(page.locator("#session-user")).to_have_text("未登录")
        assert errors == [], errors
