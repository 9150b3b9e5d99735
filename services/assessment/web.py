"""``GET /dashboard``: the management dashboard, a static page (HTML, JS modules, CSS in
``dashboard/``, no build step) that calls the four services' APIs from the browser with the
viewer's bearer token. The other services answer it cross-origin (``Settings.cors_origins``).

The files are package data (pyproject.toml), served by explicit routes from a fixed list: nothing
else under the directory is reachable. The page may fetch any http(s) origin (the service URLs
are the viewer's to set) but runs no script, style or image that the service did not serve.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.problems import not_found

DASHBOARD = Path(__file__).parent / "dashboard"
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "labels.js": "text/javascript; charset=utf-8",
    "signin.js": "text/javascript; charset=utf-8",
    "names.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "Cache-Control": "no-cache",  # revalidate: a new release shows at once
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token may sit in the query string on first load
}

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/dashboard")
async def dashboard() -> FileResponse:
    """The page (the token, the service URLs and the language are set on it)."""
    return FileResponse(
        DASHBOARD / "index.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )


@router.get("/dashboard/{name}")
async def dashboard_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise not_found(f"no dashboard file {name}")
    return FileResponse(DASHBOARD / name, media_type=media_type, headers=SECURITY_HEADERS)
