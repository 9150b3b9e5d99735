"""The pieces every page shares (shared/pages: sign-in, the API client, forms, labels, tables),
served by every service at /pages/<name> with the pages' security headers, and nothing else of
the folder; the dashboard and the workbench import them rather than keeping copies."""

from __future__ import annotations

import importlib
import re

import httpx
import pytest

from shared.pages import FILES, FOLDER
from shared.settings import Settings

SERVICES = ("enrollment", "training", "assessment", "compensation")


async def get(service: str, path: str) -> httpx.Response:
    app = importlib.import_module(f"services.{service}.app").create_app(Settings(workers=[]))
    transport = httpx.ASGITransport(app=app)  # no lifespan: files only
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        return await http.get(path)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_serves_the_shared_pieces_with_the_page_headers(service):
    for name, media_type in FILES.items():
        answer = await get(service, f"/pages/{name}")
        assert answer.status_code == 200, (name, answer.text)
        assert answer.headers["content-type"] == media_type
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert (await get(service, "/pages/__init__.py")).status_code == 404


def test_every_file_of_the_folder_is_listed_and_nothing_else():
    present = {p.name for p in FOLDER.iterdir() if p.suffix in (".js", ".css")}
    assert present == set(FILES)


def test_the_pages_import_the_shared_modules_instead_of_copies():
    dashboard = importlib.import_module("services.assessment.web").DASHBOARD
    script = (dashboard / "app.js").read_text()
    for module in ("signin", "api", "i18n", "dom", "names"):
        assert f'from "../pages/{module}.js";' in script, module
    assert not (dashboard / "signin.js").exists() and not (dashboard / "names.js").exists()
    # No second API client or label machinery inside the dashboard.
    assert "class ApiError" not in script and "function t(" not in script
    # Every relative import of every shared module names a file that is served.
    for name in FILES:
        text = (FOLDER / name).read_text()
        for imported in re.findall(r'from "\./([\w-]+\.js)";', text):
            assert imported in FILES, (name, imported)
