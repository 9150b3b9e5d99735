"""/docs (Swagger UI) and /redoc (ReDoc) render in headless Chromium with the network off: every
request the pages make outside the service's own origin is aborted and recorded, and none may be
made (an intranet without internet must get the same pages). Swagger UI must list every operation
of the service's OpenAPI document; ReDoc must show the API and its operations.

The apps run without their lifespan: the pages and the OpenAPI document need no database.
"""

from __future__ import annotations

import pytest

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from shared.settings import Settings
from tests.e2e.test_dashboard import HttpServer, bound_socket, chromium_page

APPS = {
    "enrollment": enrollment_app,
    "training": training_app,
    "assessment": assessment_app,
    "compensation": compensation_app,
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operation_count(app) -> int:
    paths = app.openapi()["paths"]
    return sum(1 for item in paths.values() for method in item if method in METHODS)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("service", sorted(APPS))
async def test_docs_and_redoc_render_without_any_request_leaving_the_service(service):
    from playwright.async_api import expect

    app = APPS[service](Settings(workers=[]))
    sock = bound_socket()
    origin = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = HttpServer(app, sock)
    await server.start()
    left_the_origin: list[str] = []

    try:
        async with chromium_page({origin}, left_the_origin, timeout_ms=30_000) as (page, errors):
            await page.goto(f"{origin}/docs")
            operations = page.locator(".swagger-ui .opblock")
            await expect(operations).to_have_count(operation_count(app), timeout=30_000)
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text(
                app.title, timeout=30_000
            )

            await page.goto(f"{origin}/redoc")
            await expect(page.locator("redoc h1").first).to_contain_text(app.title, timeout=30_000)
            first_path = next(iter(app.openapi()["paths"]))
            await expect(page.locator("redoc").get_by_text(first_path).first).to_be_attached(
                timeout=30_000
            )

            assert errors == [], errors
    finally:
        await server.stop()
    assert left_the_origin == [], f"requests outside {origin}: {left_the_origin}"
