"""``GET /app/``: the workbench, where each person does their daily work in the browser (the
branch clerk first; docs/workbench.md). A static page (HTML, JS modules, CSS in ``workbench/``,
no build step) that signs in through the identity provider and calls the services' APIs with
the person's bearer token; it shows only the views the token's roles allow. Signing in, the API
client, forms, labels and tables are the pieces every page shares (shared.pages, ``/pages/``).

The files are package data (pyproject.toml), served by explicit routes from a fixed list: nothing
else under the directory is reachable. ``/app`` redirects to ``/app/`` (the router's trailing
slash redirect): the provider sends people back to ``/app/`` exactly. The view is in the
address's fragment (``/app/#trainees``).
"""

from __future__ import annotations

from pathlib import Path

from shared.pages import page_router

WORKBENCH = Path(__file__).parent / "workbench"
SCRIPT = "text/javascript; charset=utf-8"
ASSETS = {
    "app.js": SCRIPT,
    "views.js": SCRIPT,
    "clerk.js": SCRIPT,
    "trainees.js": SCRIPT,
    "plans.js": SCRIPT,
    "labels-plans.js": SCRIPT,
    "plan-content.js": SCRIPT,
    "labels-plan-content.js": SCRIPT,
    "labels.js": SCRIPT,
    "trainer.js": SCRIPT,
    "trainee-plan.js": SCRIPT,
    "labels-daily.js": SCRIPT,
    "sessions.js": SCRIPT,
    "scoring.js": SCRIPT,
    "grade.js": SCRIPT,
    "labels-assess.js": SCRIPT,
    "payroll.js": SCRIPT,
    "payslips.js": SCRIPT,
    "labels-pay.js": SCRIPT,
    "returns.js": SCRIPT,
    "concerns.js": SCRIPT,
    "labels-returns.js": SCRIPT,
    "labels-retrain.js": SCRIPT,
    "retrain.js": SCRIPT,
    "session-subject.js": SCRIPT,
    "feedback.js": SCRIPT,
    "labels-feed.js": SCRIPT,
    "policies.js": SCRIPT,
    "labels-policy.js": SCRIPT,
    "privacy.js": SCRIPT,
    "labels-privacy.js": SCRIPT,
    "pay.css": "text/css; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

router = page_router("/app/", WORKBENCH, ASSETS, "workbench")
