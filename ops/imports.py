"""``gradeline import branches|staff|trainees FILE.xlsx``: a spreadsheet of branches, staff or
trainees sent to enrollment's import route with a token for the role that imports it (the
organisation's administrator for branches and staff, docs/organisation.md; the after-sales
manager, who enrols at every branch, for trainees, docs/workbench.md). Enrollment checks every
row and registers or enrols all of them or none; what it found wrong comes back per row and
column.

The upload carries an ``Idempotency-Key`` made of the file's digest: sending the same file again
(a retry after a lost answer) replays the first answer instead of reporting every row as
registered already.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ops.credentials import command_token
from shared.auth import Role
from shared.settings import Settings

# What may be imported, and the role the command's token needs for it.
IMPORTERS = {"branches": Role.ADMIN, "staff": Role.ADMIN, "trainees": Role.AFTER_SALES_MANAGER}
KINDS = tuple(IMPORTERS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportFailed(RuntimeError):
    """Nothing was imported, and not because of the file's rows (unreachable, refused)."""


@dataclass(frozen=True)
class Report:
    """What enrollment answered: the ids registered, or the problems that kept them all out."""

    ids: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    replayed: bool = False


def upload(
    kind: str,
    path: Path,
    settings: Settings,
    host: str = "127.0.0.1",
    transport: httpx.BaseTransport | None = None,
) -> Report:
    """Send ``path`` to ``POST /<kind>/import`` of enrollment at ``host``."""
    data = path.read_bytes()
    token = command_token(settings, [IMPORTERS[kind]], what=f"gradeline import {kind}")
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": XLSX,
        "Idempotency-Key": f"import-{kind}-{hashlib.sha256(data).hexdigest()[:32]}",
    }
    url = f"http://{host}:{settings.port('enrollment')}/imports/{kind}"
    try:
        with httpx.Client(transport=transport, timeout=120) as client:
            answer = client.post(url, content=data, headers=headers)
    except httpx.HTTPError as exc:
        raise ImportFailed(f"enrollment is not reachable at {url}: {exc}") from exc
    body = _json(answer)
    if answer.status_code == 201:
        replayed = answer.headers.get("idempotent-replayed") == "true"
        return Report(ids=list(body.get("ids", [])), replayed=replayed)
    if answer.status_code == 422 and body.get("errors"):
        return Report(problems=list(body["errors"]))
    raise ImportFailed(f"{url} answered {answer.status_code}: {body.get('detail', answer.text)}")


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
