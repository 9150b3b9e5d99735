"""gradeline import: which route, which role's token, the file as the body under a key of its
digest, and how a refusal per row and a usage error are reported."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from ops import imports
from ops.cli import app
from shared.auth import decode_token
from shared.settings import Settings

SETTINGS = Settings(jwt_secret="x" * 40, port_offset=100)
runner = CliRunner()


def enrollment(status: int, body: dict, seen: list | None = None, replayed: bool = False):
    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        headers = {"idempotent-replayed": "true"} if replayed else {}
        return httpx.Response(status, json=body, headers=headers)

    return httpx.MockTransport(answer)


def test_the_file_goes_to_enrollment_as_the_admin_under_a_key_of_its_digest(tmp_path):
    sheet = tmp_path / "branches.xlsx"
    sheet.write_bytes(b"PK fake workbook")
    seen: list[httpx.Request] = []
    answer = {"imported": 2, "ids": ["hq", "bo-east"]}
    report = imports.upload("branches", sheet, SETTINGS, transport=enrollment(201, answer, seen))
    assert report == imports.Report(ids=["hq", "bo-east"])
    (request,) = seen
    assert str(request.url) == "http://127.0.0.1:8101/imports/branches"
    assert request.content == b"PK fake workbook"
    principal = decode_token(request.headers["authorization"].split()[1], SETTINGS.jwt_secret)
    assert principal.roles == {"admin"}
    again = imports.upload("branches", sheet, SETTINGS, transport=enrollment(201, answer, seen))
    assert seen[1].headers["idempotency-key"] == request.headers["idempotency-key"]
    assert again.ids == report.ids


def test_trainees_go_to_their_import_as_the_after_sales_manager(tmp_path):
    sheet = tmp_path / "trainees.xlsx"
    sheet.write_bytes(b"PK trainees")
    seen: list[httpx.Request] = []
    answer = {"imported": 1, "ids": ["t-1"], "rows": [{"row": 2, "trainee_id": "t-1"}]}
    report = imports.upload("trainees", sheet, SETTINGS, transport=enrollment(201, answer, seen))
    assert report.ids == ["t-1"]
    (request,) = seen
    assert str(request.url) == "http://127.0.0.1:8101/imports/trainees"
    principal = decode_token(request.headers["authorization"].split()[1], SETTINGS.jwt_secret)
    assert principal.roles == {"after_sales_manager"}


def test_the_rows_problems_come_back_and_other_refusals_fail(tmp_path):
    sheet = tmp_path / "staff.xlsx"
    sheet.write_bytes(b"PK")
    errors = [{"row": 3, "field": "branch_id", "message": "no branch 'x'", "rule": "R-2"}]
    report = imports.upload("staff", sheet, SETTINGS, transport=enrollment(422, {"errors": errors}))
    assert report.problems == errors and report.ids == []
    with pytest.raises(imports.ImportFailed, match="403"):
        imports.upload("staff", sheet, SETTINGS, transport=enrollment(403, {"detail": "no"}))


def test_the_cli_prints_each_problem_and_exits_1(tmp_path, monkeypatch):
    sheet = tmp_path / "staff.xlsx"
    sheet.write_bytes(b"PK")
    problems = [{"row": 4, "field": "department", "message": "not a department"}]
    monkeypatch.setattr(imports, "upload", lambda *a, **k: imports.Report(problems=problems))
    result = runner.invoke(app, ["import", "staff", str(sheet)])
    assert result.exit_code == 1, result.output
    assert "nothing imported" in result.output and "not a department" in result.output


def test_an_unknown_kind_or_a_missing_file_is_a_usage_error(tmp_path):
    sheet = tmp_path / "x.xlsx"
    sheet.write_bytes(b"PK")
    unknown = runner.invoke(app, ["import", "employees", str(sheet)], env={"COLUMNS": "200"})
    assert unknown.exit_code == 2 and "branches, staff, trainees" in unknown.output
    missing = runner.invoke(app, ["import", "branches", str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 2
