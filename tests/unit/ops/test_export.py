"""gradeline export: which URL, which role's token, which formats, what a refusal says."""

from __future__ import annotations

import httpx
import pytest

from ops.export import ExportFailed, fetch
from shared.auth import decode_token
from shared.settings import Settings

SETTINGS = Settings(jwt_secret="x" * 40, port_offset=100)


def service(status: int = 200, body: bytes = b"PK..", seen: list | None = None):
    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if status != 200:
            return httpx.Response(
                status,
                json={"detail": "no such month"},
                headers={"content-type": "application/problem+json"},
            )
        return httpx.Response(200, content=body)

    return httpx.MockTransport(answer)


def test_payroll_export_asks_compensation_with_a_payroll_token():
    seen: list[httpx.Request] = []
    data = fetch("payroll", "2026-03", "csv", SETTINGS, transport=service(body=b"a,b", seen=seen))
    assert data == b"a,b"
    (request,) = seen
    assert str(request.url) == "http://127.0.0.1:8104/payroll/2026-03/export.csv"
    principal = decode_token(request.headers["authorization"].split()[1], SETTINGS.jwt_secret)
    assert principal.roles == {"payroll"}


def test_a_plan_exports_only_as_xlsx_from_training():
    seen: list[httpx.Request] = []
    fetch("plan", "t-1", "xlsx", SETTINGS, transport=service(seen=seen))
    assert seen[0].url.path == "/plans/t-1/export.xlsx" and seen[0].url.port == 8102
    with pytest.raises(ExportFailed, match="xlsx"):
        fetch("plan", "t-1", "csv", SETTINGS, transport=service())


def test_a_refusal_is_reported_with_the_services_detail():
    with pytest.raises(ExportFailed, match="422: no such month"):
        fetch("fees", "2026-13", "xlsx", SETTINGS, transport=service(status=422))


def test_trainer_fines_export_from_compensation_with_a_payroll_token():
    seen: list[httpx.Request] = []
    fetch("fines", "2026-03", "xlsx", SETTINGS, transport=service(seen=seen))
    assert str(seen[0].url) == "http://127.0.0.1:8104/trainer-fines/2026-03/export.xlsx"
