"""``gradeline export``: the spreadsheets the services produce, fetched over HTTP with a token
for the role that may read them (ops/credentials.py; docs/http.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from ops.credentials import command_token
from shared.auth import Role
from shared.settings import Settings


@dataclass(frozen=True)
class Export:
    service: str
    path: str  # with {id} and {fmt}
    role: str
    formats: tuple[str, ...]


EXPORTS = {
    "payroll": Export("compensation", "/payroll/{id}/export.{fmt}", Role.PAYROLL, ("xlsx", "csv")),
    "fees": Export("compensation", "/branch-fees/{id}/export.{fmt}", Role.PAYROLL, ("xlsx", "csv")),
    "fines": Export(
        "compensation", "/trainer-fines/{id}/export.{fmt}", Role.PAYROLL, ("xlsx", "csv")
    ),
    "plan": Export("training", "/plans/{id}/export.{fmt}", Role.AFTER_SALES_MANAGER, ("xlsx",)),
}


class ExportFailed(RuntimeError):
    pass


def fetch(
    kind: str,
    ident: str,
    fmt: str,
    settings: Settings,
    host: str = "127.0.0.1",
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """The export's bytes; ExportFailed with the service's own explanation otherwise."""
    export = EXPORTS[kind]
    if fmt not in export.formats:
        raise ExportFailed(f"{kind} exports as {', '.join(export.formats)}, not {fmt}")
    token = command_token(settings, [export.role], what=f"gradeline export {kind}")
    url = f"http://{host}:{settings.port(export.service)}" + export.path.format(id=ident, fmt=fmt)
    try:
        with httpx.Client(transport=transport, timeout=60) as client:
            answer = client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise ExportFailed(f"{export.service} is not reachable at {url}: {exc}") from exc
    if answer.status_code != 200:
        detail = (
            answer.json().get("detail")
            if answer.headers.get("content-type", "").endswith("json")
            else answer.text[:200]
        )
        raise ExportFailed(f"{url} answered {answer.status_code}: {detail}")
    return answer.content


def default_name(kind: str, ident: str, fmt: str) -> Path:
    return Path(f"{kind}-{ident}.{fmt}")
