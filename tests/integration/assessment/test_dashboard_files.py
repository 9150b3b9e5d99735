"""The dashboard's files as assessment serves them: the page, its script, the label tables (their
own module, imported by the script) and the style sheet, each with the page's security headers.
The page at work in a browser is tests/e2e/test_dashboard.py's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from services.assessment.app import create_app
from shared.settings import Settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: files only
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_label_tables_are_a_module_of_their_own_served_beside_the_script(client):
    labels = await client.get("/dashboard/labels.js")
    script = await client.get("/dashboard/app.js")

    assert labels.status_code == 200, labels.text
    assert labels.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "script-src 'self'" in labels.headers["content-security-policy"]
    assert labels.headers["x-content-type-options"] == "nosniff"
    assert re.search(r"^export const LABELS = \{$", labels.text, re.MULTILINE)
    assert "Gradeline 管理看板" in labels.text and "Gradeline management dashboard" in labels.text
    assert 'import { LABELS } from "./labels.js";' in script.text
    assert "管理看板" not in script.text  # no label left behind in the script


async def test_only_the_dashboard_files_are_served(client):
    assert (await client.get("/dashboard")).status_code == 200
    assert (await client.get("/dashboard/style.css")).status_code == 200
    assert (await client.get("/dashboard/index.html")).status_code == 404  # only as /dashboard
    assert (await client.get("/dashboard/web.py")).status_code == 404
