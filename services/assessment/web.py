"""``GET /dashboard``: the management dashboard, a static page (HTML, JS modules, CSS in
``dashboard/``, no build step) that calls the four services' APIs from the browser with the
viewer's bearer token. The other services answer it cross-origin (``Settings.cors_origins``).
Signing in, the API client, the labels' machinery and the tables are the pieces every page
shares (shared.pages, ``/pages/<name>``).

The files are package data (pyproject.toml), served by explicit routes from a fixed list: nothing
else under the directory is reachable. The page may fetch any http(s) origin (the service URLs
are the viewer's to set) but runs no script, style or image that the service did not serve. The
token, the service URLs and the language are set on the page.
"""

from __future__ import annotations

from pathlib import Path

from shared.pages import page_router

DASHBOARD = Path(__file__).parent / "dashboard"
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "labels.js": "text/javascript; charset=utf-8",
    "labels-whatif.js": "text/javascript; charset=utf-8",
    "whatif.js": "text/javascript; charset=utf-8",
    "labels-trends.js": "text/javascript; charset=utf-8",
    "trends.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

router = page_router("/dashboard", DASHBOARD, ASSETS, "dashboard")
