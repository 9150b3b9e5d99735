"""The gradeline CLI's offline commands."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from ops.cli import app
from shared.auth import decode_token
from shared.settings import Settings

runner = CliRunner()


def test_catalog_lists_every_event_of_every_built_service(tmp_path):
    out = tmp_path / "catalog.json"
    result = runner.invoke(app, ["catalog", str(out)])
    assert result.exit_code == 0, result.output
    catalog = orjson.loads(out.read_bytes())
    enrollment = catalog["services"]["enrollment"]["events"]
    assert {"TraineeEnrolled", "PlacementExamScored", "TraineeWithdrawn"} <= set(enrollment)
    assert enrollment["TraineeEnrolled"]["x-routing-key"] == "enrollment.TraineeEnrolled"


def test_token_mints_a_token_the_services_accept():
    result = runner.invoke(
        app, ["token", "--sub", "clerk-1", "--role", "branch_clerk", "--branch", "hq"]
    )
    assert result.exit_code == 0, result.output
    principal = decode_token(result.output.strip(), Settings().jwt_secret)
    assert (principal.sub, principal.branch_id, set(principal.roles)) == (
        "clerk-1",
        "hq",
        {"branch_clerk"},
    )


def test_token_refuses_an_unknown_role():
    result = runner.invoke(app, ["token", "--sub", "x", "--role", "emperor"])
    assert result.exit_code != 0


def test_the_committed_event_catalog_matches_the_code(tmp_path):
    """docs/event-catalog.json is what `make catalog` writes: regenerate it when events change."""
    from pathlib import Path

    out = tmp_path / "catalog.json"
    assert runner.invoke(app, ["catalog", str(out)]).exit_code == 0
    committed = Path(__file__).resolve().parents[3] / "docs" / "event-catalog.json"
    assert orjson.loads(committed.read_bytes()) == orjson.loads(out.read_bytes())


def test_rebuild_of_an_unknown_service_names_the_services_without_a_traceback():
    result = runner.invoke(app, ["rebuild", "nosuch", "x"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "nosuch" in result.output
    for name in ("enrollment", "training", "assessment", "compensation"):
        assert name in result.output


def test_rebuild_of_an_unknown_projection_names_the_services_projections():
    result = runner.invoke(app, ["rebuild", "assessment", "nosuch"])
    assert result.exit_code == 2, result.output
    assert "grade_board" in result.output


def test_verify_of_an_unknown_service_is_a_usage_error():
    result = runner.invoke(app, ["verify", "nosuch"])
    assert result.exit_code == 2, result.output
    assert "assessment" in result.output


def test_dlq_list_of_an_unknown_service_names_the_consuming_services():
    """An empty table used to look like "no dead letters" for a misspelt name."""
    result = runner.invoke(app, ["dlq", "list", "asessment"])
    assert result.exit_code == 2, result.output
    assert "asessment" in result.output
    assert all(name in result.output for name in ("training", "assessment", "compensation"))


def test_dlq_peek_of_a_service_that_consumes_nothing_is_a_usage_error():
    result = runner.invoke(app, ["dlq", "peek", "enrollment"])
    assert result.exit_code == 2, result.output
    assert all(name in result.output for name in ("training", "assessment", "compensation"))
