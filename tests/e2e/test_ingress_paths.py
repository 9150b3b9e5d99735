"""The pages behind the Ingress (deploy/k8s/ingress.yaml; deploy/README.md, "Ingress"): one
origin serves the workbench, the dashboard and every API under ``/api/<service>/``, and the
pages find the APIs there because ``GET /auth/config`` tells them (``GRADELINE_PAGES_API_URL``),
with no service address on the page's URL.

The four apps run in-process behind a small ASGI router that routes exactly as the manifests do
(``tests.deploy.test_kubernetes_operations.through_ingress`` reads ingress.yaml: pages' paths
unchanged, ``/api/<service>`` cut off, ``/metrics`` not routed), served by uvicorn on one port.
Headless Chromium may reach that origin only; the dashboard must show the seeded numbers of
assessment, training and compensation and the branch names of enrollment through it.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest

from shared.auth import Role
from tests.deploy.test_kubernetes_operations import through_ingress
from tests.e2e.helpers import FACTORIES
from tests.e2e.test_dashboard import (
    MONTH,
    PAYROLL_TOTAL,
    Clock,
    HttpServer,
    bound_socket,
    chromium_page,
    expected_counts,
    seed,
    served_on,
)
from tests.support import long_secret

PAGES_API_URL = "/api/{service}"


class IngressRouter:
    """ASGI: a request goes to the app ingress.yaml sends it to, at the path it rewrites it to;
    a path the Ingress does not route is a 404."""

    def __init__(self, apps) -> None:
        self.apps = apps

    async def __call__(self, scope, receive, send) -> None:
        routed = through_ingress(scope["path"])
        if routed is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"not routed"})
            return
        service, path = routed
        cut = len(scope["path"]) - len(path)  # the /api/<service> prefix, if rewritten
        raw = scope.get("raw_path") or scope["path"].encode()
        inner = {**scope, "path": path, "raw_path": raw[cut:]}
        await self.apps[service](inner, receive, send)


@pytest.fixture
async def behind_one_origin(settings):
    """The four apps (each also on a port of its own, which the browser may not reach) and the
    Ingress's origin in front of them; CORS admits that origin, as the ConfigMap does."""
    sockets = {name: bound_socket() for name in FACTORIES}
    ingress_socket = bound_socket()
    origin = f"http://127.0.0.1:{ingress_socket.getsockname()[1]}"
    settings = long_secret(settings).model_copy(
        update={
            "pool_size": 3,
            "consumer_partitions": 1,
            "cors_origins": [origin],
            "pages_api_url": PAGES_API_URL,
        }
    )
    clock = Clock()
    async with AsyncExitStack() as stack:
        apps = await served_on(stack, settings, sockets, clock)
        server = HttpServer(IngressRouter({n: s.app for n, s in apps.items()}), ingress_socket)
        await server.start()
        stack.push_async_callback(server.stop)
        yield apps, origin, clock


async def test_the_served_configuration_names_the_ingress_paths_and_cors_the_host(
    behind_one_origin,
):
    _, origin, _ = behind_one_origin
    async with httpx.AsyncClient(base_url=origin) as http:
        answer = await http.get("/auth/config")  # through the router, as a page asks
        # A preflight through the Ingress: the host's own origin is admitted, no other.
        preflight = {"Access-Control-Request-Method": "POST"}
        own = await http.options("/api/training/plans", headers={**preflight, "Origin": origin})
        other = await http.options(
            "/api/training/plans", headers={**preflight, "Origin": "https://elsewhere.example"}
        )
        metrics = await http.get("/api/training/metrics")
    assert own.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in other.headers
    assert metrics.status_code == 404  # the Ingress does not publish /metrics
    assert answer.json()["api_urls"] == {
        service: f"/api/{service}"
        for service in ("enrollment", "training", "assessment", "compensation")
    }


@pytest.mark.timeout(180)
async def test_the_dashboard_and_the_workbench_work_under_one_origin(behind_one_origin):
    from playwright.async_api import expect

    apps, origin, clock = behind_one_origin
    await seed(apps, clock)
    boss = apps["assessment"].token("boss", Role.MANAGEMENT, Role.AUDITOR)
    refused: list[str] = []
    requested: list[str] = []

    async with chromium_page([origin], refused) as (page, errors):
        page.on("request", lambda request: requested.append(request.url))
        await page.goto(f"{origin}/dashboard?token={boss}&month={MONTH}&lang=en")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(page.get_by_role("link", name="Workbench")).to_have_attribute(
            "href", f"{origin}/app/?lang=en"
        )
        # assessment's board, with enrollment's branch names in its filter.
        for cell, count in expected_counts().items():
            await expect(page.locator(f'#grade-table td[data-cell="{cell}"]')).to_have_text(
                str(count)
            )
        await expect(page.locator("#grades-branch")).to_contain_text("East branch office")
        # training's progress board and compensation's payroll.
        await page.locator('[role=tab][data-view="progress"]').click()
        hq_progress = page.locator("#progress-branches tbody tr", has_text="hq")
        await expect(hq_progress.locator("td").nth(1)).to_have_text("3")
        await page.locator('[role=tab][data-view="pay"]').click()
        await expect(page.locator("#payroll-total")).to_have_text(PAYROLL_TOTAL)

        # The workbench, from the same origin, reads enrollment under its prefix (the manager's
        # views list the trainees) and links back to the dashboard there.
        manager = apps["enrollment"].token("mgr", Role.AFTER_SALES_MANAGER)
        enrollment_api = f"{origin}/api/enrollment/"
        async with page.expect_response(
            lambda answer: answer.url.startswith(enrollment_api) and answer.status == 200
        ):
            await page.goto(f"{origin}/app/?token={manager}&lang=en")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(page.locator("#dashboard-link")).to_have_attribute(
            "href", f"{origin}/dashboard?lang=en"
        )
        assert errors == []

    assert refused == [], "every request stays on the Ingress's origin"
    api_calls = [url for url in requested if url.startswith(f"{origin}/api/")]
    called = {url.removeprefix(f"{origin}/api/").split("/")[0] for url in api_calls}
    assert called == set(FACTORIES), called
