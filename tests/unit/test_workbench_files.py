"""The workbench's files as enrollment serves them (/app/): the page and its modules with the
pages' security headers, nothing else of the folder; the label tables in English and Chinese
with the same keys, and every label the modules use found in them. The page at work in a
browser is tests/e2e/test_workbench_clerk.py's."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from services.enrollment.app import create_app
from services.enrollment.web import ASSETS, WORKBENCH
from shared.pages import FOLDER as SHARED
from shared.settings import Settings


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(Settings(workers=[])))  # no lifespan
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        return await http.get(path)


async def test_the_page_and_its_modules_are_served_with_the_page_headers():
    page = await get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # A classic script before the module: the global `oidc` exists when signin.js runs.
    assert page.text.index("/docs/assets/oidc-client-ts.min.js") < page.text.index("/app/app.js")
    for name, media_type in ASSETS.items():
        answer = await get(f"/app/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == media_type
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/app/index.html", "/app/web.py", "/app/../app.py"])
async def test_nothing_else_is_served(path):
    assert (await get(path)).status_code == 404


async def test_the_address_without_its_slash_leads_to_the_page():
    answer = await get("/app")
    assert answer.status_code in (307, 308)
    assert answer.headers["location"].endswith("/app/")


def test_every_file_of_the_folder_is_listed():
    present = {p.name for p in WORKBENCH.iterdir() if p.suffix in (".js", ".css")}
    assert present == set(ASSETS)


# One label a line: key: ["English", "Chinese"],
LABEL = re.compile(r'^  (\w+): \[("(?:[^"\\]|\\.)*")(?:, ("(?:[^"\\]|\\.)*"))?\],$', re.MULTILINE)


def label_keys(path: Path) -> set[str]:
    """The keys of a label table (``key: ["English", "Chinese"]``)."""
    return {match[0] for match in LABEL.findall(path.read_text())}


def workbench_tables() -> list[Path]:
    """labels.js and each role's labels-<role>.js."""
    return sorted(WORKBENCH.glob("labels*.js"))


def test_every_label_has_both_languages():
    for table in (*workbench_tables(), SHARED / "labels.js"):
        text = table.read_text()
        entries = LABEL.findall(text)
        assert len(entries) == text.count(": ["), table.name  # every entry a line the pattern reads
        untranslated = [key for key, english, chinese in entries if len(chinese) < 3]
        assert not untranslated, (table.name, untranslated)


# Where the modules name a label: i18n: "key", t("key"), alert("key"), status("key"), offer("key"),
# label(ctx, "key"), field(id, "key", ...), hint: "key", and a view's label: "key".
USES = re.compile(
    r"""(?:i18n|hint|label):\s*"(\w+)"|(?:\bt|alert|status|offer)\("(\w+)"|"""
    r"""label\(ctx,\s*"(\w+)"|field\("[\w-]+",\s*"(\w+)\""""
)


def test_every_label_the_workbench_uses_is_in_its_tables():
    known = label_keys(SHARED / "labels.js").union(*map(label_keys, workbench_tables()))
    used: set[str] = set()
    for module in WORKBENCH.glob("*.js"):
        for match in USES.finditer(module.read_text()):
            used.update(key for key in match.groups() if key)
    used |= set(re.findall(r'data-i18n="(\w+)"', (WORKBENCH / "index.html").read_text()))
    assert used, "no label found: the pattern no longer matches the modules"
    assert used <= known, sorted(used - known)


def test_every_word_of_the_api_the_workbench_shows_has_a_label():
    """Categories (R-1), education levels (R-4), statuses and positions are shown by label
    (cat_<value>, edu_<value>, ...), one per value the API answers."""
    from services.enrollment.domain.vocabulary import Category, Education, Position, Status

    known = label_keys(WORKBENCH / "labels.js")
    for prefix, words in (
        ("cat", Category),
        ("edu", Education),
        ("status", Status),
        ("position", Position),
    ):
        missing = {f"{prefix}_{w.value}" for w in words} - known
        assert not missing, missing
