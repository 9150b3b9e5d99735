"""The browser pieces every page of the services shares (the management dashboard on
assessment, the workbench on enrollment), served by every service at ``/pages/<name>``: plain
ES modules and one style sheet, no build step, nothing from a CDN (docs/workbench.md).

- ``signin.js``: signing in through the identity provider (OIDC Authorization Code + PKCE with
  the vendored oidc-client-ts, ``/docs/assets/oidc-client-ts.min.js``), the session's controls;
- ``api.js``: calling the services with the bearer token: problem+json errors, a fresh
  ``Idempotency-Key`` per submission, ``If-Match``, 404 + ``Retry-After`` waited out;
- ``forms.js``: a form's submission (its key kept across a double click), field errors beside
  the fields, the 412 offer to reload, announced messages;
- ``i18n.js`` and ``labels.js``: English and Chinese labels, switchable, and the common ones;
- ``dom.js``: building elements and tables (values always as text, never as HTML);
- ``names.js``: branches and people by name, with their ids;
- ``base.css``: the look both pages share (focus always visible).

The files are package data served from this fixed list: nothing else in the folder is
reachable. Their pages send :data:`PAGE_HEADERS`; :func:`page_router` serves a page of a service
(its ``index.html`` and its own fixed list of files) the same way.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.problems import not_found

FOLDER = Path(__file__).parent
PAGES_PATH = "/pages/"
SCRIPT = "text/javascript; charset=utf-8"
FILES = {
    "api.js": SCRIPT,
    "dom.js": SCRIPT,
    "forms.js": SCRIPT,
    "i18n.js": SCRIPT,
    "labels.js": SCRIPT,
    "names.js": SCRIPT,
    "signin.js": SCRIPT,
    "base.css": "text/css; charset=utf-8",
}
# A page and its files: scripts and styles from the service only; the page may call any http(s)
# origin (the services' URLs are the viewer's to set) but runs nothing another origin serves.
PAGE_HEADERS = {
    "Cache-Control": "no-cache",  # revalidate: a new release shows at once
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a developer's token may sit in the query on first load
}


def served(folder: Path, name: str, files: dict[str, str], what: str) -> FileResponse:
    """``folder/name`` when ``files`` lists it (with its media type), else 404."""
    media_type = files.get(name)
    if media_type is None:
        raise not_found(f"no {what} file {name}")
    return FileResponse(folder / name, media_type=media_type, headers=PAGE_HEADERS)


def page_router(path: str, folder: Path, files: dict[str, str], what: str) -> APIRouter:
    """A page at ``path`` (``folder/index.html``) and the ``files`` beside it under ``path``
    (``/app/`` serves ``/app/app.js``; ``/dashboard`` serves ``/dashboard/app.js``)."""
    router = APIRouter(tags=[what], include_in_schema=False)

    @router.get(path)
    async def page() -> FileResponse:
        html = "text/html; charset=utf-8"
        return FileResponse(folder / "index.html", media_type=html, headers=PAGE_HEADERS)

    @router.get(path.rstrip("/") + "/{name}")
    async def page_file(name: str) -> FileResponse:
        return served(folder, name, files, what)

    return router


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(PAGES_PATH + "{name}")
    async def page_file(name: str) -> FileResponse:
        return served(FOLDER, name, FILES, "shared page")

    return router
