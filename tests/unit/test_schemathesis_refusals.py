"""tests/hostile/refusals.py admits a refusal of a schema-valid request only where it belongs: on
its operation, with its status, problem type, field and kind; anything else still fails."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.hostile.refusals import headers_as_declared, refused_for_cause

IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
}
CURSOR = {"name": "cursor", "in": "query", "schema": {"type": "string"}}


def operation(method: str, path: str, *parameters: dict[str, Any]) -> Any:
    raw = {"paths": {path: {method.lower(): {"parameters": list(parameters)}}}}
    return SimpleNamespace(method=method.lower(), path=path, schema=SimpleNamespace(raw_schema=raw))


def invalid(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"type": "/problems/validation", "status": 422, "errors": list(errors)}


STALE = {"type": "/problems/precondition-failed", "status": 412}
FOREIGN_CURSOR = invalid({"field": "query.cursor", "type": "cursor"})
NO_BRANCH = invalid({"field": "body.branch_id", "type": "domain", "rule": "R-2"})
BAD_DECIMAL = invalid({"field": "body.experience_years", "type": "decimal_parsing"})


def test_a_stale_if_match_is_admitted_where_the_operation_takes_one():
    close = operation("POST", "/branches/{branch_id}/close", IF_MATCH)
    assert refused_for_cause("enrollment", close, STALE)
    assert not refused_for_cause("enrollment", operation("POST", "/branches"), STALE)
    assert not refused_for_cause("enrollment", close, {**STALE, "type": "/problems/validation"})


def test_a_foreign_cursor_is_admitted_where_the_list_takes_a_cursor():
    assert refused_for_cause("enrollment", operation("GET", "/staff", CURSOR), FOREIGN_CURSOR)
    assert not refused_for_cause("enrollment", operation("GET", "/staff"), FOREIGN_CURSOR)


def test_an_unregistered_branch_is_admitted_on_its_operations_only():
    enrol = operation("POST", "/trainees")
    assert refused_for_cause("enrollment", enrol, NO_BRANCH)
    assert not refused_for_cause("enrollment", operation("POST", "/branches"), NO_BRANCH)
    assert not refused_for_cause("training", enrol, NO_BRANCH)


def test_a_422_a_schema_could_prevent_is_never_admitted():
    enrol = operation("POST", "/trainees")
    assert not refused_for_cause("enrollment", enrol, BAD_DECIMAL)
    mixed = invalid(*NO_BRANCH["errors"], *BAD_DECIMAL["errors"])
    assert not refused_for_cause("enrollment", enrol, mixed)
    assert not refused_for_cause("enrollment", enrol, invalid())  # no errors named


def test_a_future_date_is_admitted_by_its_message_only():
    enrol = operation("POST", "/trainees")
    future = {"field": "body.enrolled_on", "type": "domain", "rule": "R-3"}
    assert refused_for_cause(
        "enrollment", enrol, invalid({**future, "message": "x is in the future"})
    )
    assert not refused_for_cause("enrollment", enrol, invalid({**future, "message": "too early"}))


def test_a_case_sending_a_header_against_its_schema_is_no_positive_case():
    close = operation("POST", "/branches/{branch_id}/close", IF_MATCH)
    assert headers_as_declared(SimpleNamespace(operation=close, headers={"If-Match": '"7"'}))
    assert headers_as_declared(SimpleNamespace(operation=close, headers=None))
    assert not headers_as_declared(SimpleNamespace(operation=close, headers={"If-Match": "0"}))
