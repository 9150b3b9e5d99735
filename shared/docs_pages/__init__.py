"""The pages every service serves beside its API, none of them in its OpenAPI document.

- ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), built by FastAPI's own page functions but loading
  their scripts, styles and icon from ``/docs/assets/`` (files vendored in ``vendor/``, pinned in
  its ``manifest.json``), never from a CDN: the pages render on an intranet without internet.
- One page per problem type, ``/problems/<slug>`` and ``/problems/rules/<id>``: the ``type`` of
  every problem+json answer names one (shared.problems), and RFC 9457 wants it to resolve to
  documentation a person can read.
"""

from __future__ import annotations

import html
import json
import re
from http import HTTPStatus
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from shared.docs_pages.rules import RULE_TITLES
from shared.problems import (
    PROBLEMS_PATH,
    RULE_VIOLATION_REMEDY,
    RULE_VIOLATION_STATUS,
    RULE_VIOLATION_SUMMARY,
    ProblemType,
    not_found,
    rule_uri,
)

VENDOR = Path(__file__).parent / "vendor"
MANIFEST = json.loads((VENDOR / "manifest.json").read_text())
ASSET_TYPES: dict[str, str] = {
    name: entry["media_type"] for name, entry in MANIFEST["files"].items()
}
ASSETS_PATH = "/docs/assets/"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
# The docs pages take everything from the service (their bootstrap script and the styles their
# scripts set are inline): the browser asks nothing of another origin, not even the logo from
# cdn.redoc.ly that ReDoc's menu shows (it hides the image when it cannot load).
DOCS_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
# The problem pages hold only what this module writes: no script, no outside style or image.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
    "code{background:#f3f3f3;padding:0 .2em}li{margin:.2em 0}"
)


def docs_router(title: str) -> APIRouter:
    """``/docs``, ``/docs/oauth2-redirect``, ``/redoc``, their assets and the problem pages."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        assets = root + ASSETS_PATH
        return _docs_page(
            get_swagger_ui_html(
                openapi_url=root + OPENAPI_URL,
                title=f"{title} - Swagger UI",
                swagger_js_url=assets + "swagger-ui-bundle.js",
                swagger_css_url=assets + "swagger-ui.css",
                swagger_favicon_url=assets + "favicon-32x32.png",
                oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
            )
        )

    @router.get(OAUTH2_REDIRECT_URL)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return _docs_page(
            get_redoc_html(
                openapi_url=root + OPENAPI_URL,
                title=f"{title} - ReDoc",
                redoc_js_url=root + ASSETS_PATH + "redoc.standalone.js",
                redoc_favicon_url=root + ASSETS_PATH + "favicon-32x32.png",
                with_google_fonts=False,
            )
        )

    router.add_api_route(ASSETS_PATH + "{name}", docs_asset)
    router.add_api_route(rule_uri("{rule_id}"), rule_page)
    router.add_api_route(PROBLEMS_PATH + "{slug}", problem_page)
    return router


def _docs_page(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(DOCS_HEADERS)
    return page


def _root_path(request: Request) -> str:
    """The prefix a proxy mounts the service under, as FastAPI's own docs pages use it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


async def docs_asset(name: str) -> FileResponse:
    """One of the vendored files the manifest lists; nothing else in the folder is reachable."""
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise not_found(f"no docs asset {name}")
    return FileResponse(VENDOR / name, media_type=media_type, headers={"Cache-Control": "no-cache"})


async def problem_page(slug: str) -> HTMLResponse:
    kind = next((k for k in ProblemType if k.slug == slug), None)
    if kind is None:
        raise not_found(f"no problem type {slug}")
    return _page(kind.slug, kind.status, kind.summary, kind.remedy)


async def rule_page(rule_id: str) -> HTMLResponse:
    title = RULE_TITLES.get(rule_id)
    if title is None:
        raise not_found(f"no rule {rule_id}")
    summary = f"{rule_id}: {title}. {RULE_VIOLATION_SUMMARY}"
    return _page(f"rules/{rule_id}", RULE_VIOLATION_STATUS, summary, RULE_VIOLATION_REMEDY)


def _page(name: str, status: int, summary: str, remedy: str) -> HTMLResponse:
    """A problem type's page: its URI, status, meaning and remedy, then every other type."""
    others = "".join(
        f'<li><a href="{kind.uri}">{kind.slug}</a> ({kind.status})</li>' for kind in ProblemType
    )
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(name)}: Gradeline problem type</title><style>{STYLE}</style>"
        f"</head><body><h1>Problem type <code>{html.escape(name)}</code></h1>"
        f"<p>Answered with HTTP status <strong>{status} {HTTPStatus(status).phrase}</strong>, "
        f"as <code>application/problem+json</code> (RFC 9457) with <code>type</code> "
        f"<code>{PROBLEMS_PATH}{html.escape(name)}</code>.</p>"
        f"<h2>What it means</h2><p>{_inline(summary)}</p>"
        f"<h2>What to do</h2><p>{_inline(remedy)}</p>"
        f"<h2>Every problem type</h2><ul>{others}<li>rules/&lt;id&gt; (409): a rule of the "
        f'regulation, e.g. <a href="{rule_uri("R-9")}">rules/R-9</a></li></ul></body></html>'
    )
    return HTMLResponse(body, headers=PAGE_HEADERS)


def _inline(text: str) -> str:
    """Escaped text with ``code`` spans written as in Markdown, between backticks."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
