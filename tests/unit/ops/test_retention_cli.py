"""``gradeline people retention [--approve]`` (ops/retention.py; issue 19: "a job that proposes
the people due for erasure and erases them when approved"): the proposals read from enrollment
with an administrator's token, and the approval as one erasure request per person."""

from __future__ import annotations

from datetime import date

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from ops import cli, retention
from shared.auth import decode_token
from shared.settings import Settings

SETTINGS = Settings(jwt_secret="x" * 40, port_offset=100)
ANSWER = {
    "as_of": "2029-03-02",
    "policy_version": "retention-2026.1",
    "approve_with": "POST /people/{id}/erasure",
    "proposals": [
        {
            "person_id": "tr-old",
            "category": "former_staff",
            "since": "2020-06-30",
            "due_on": "2025-06-30",
        },
        {
            "person_id": "t-1",
            "category": "withdrawn_trainee",
            "since": "2026-03-02",
            "due_on": "2029-03-02",
        },
    ],
}


def enrollment(seen: list[httpx.Request], erasure_status: int = 202) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=ANSWER)
        if erasure_status != 202:
            return httpx.Response(
                erasure_status,
                json={"detail": "no such person"},
                headers={"content-type": "application/problem+json"},
            )
        return httpx.Response(202, json={"person_id": request.url.path.split("/")[2]})

    return httpx.MockTransport(answer)


def test_proposals_are_read_from_enrollment_as_the_administrator():
    seen: list[httpx.Request] = []

    answer = retention.proposals(SETTINGS, date(2029, 3, 2), transport=enrollment(seen))

    assert answer == ANSWER
    (request,) = seen
    assert str(request.url) == "http://127.0.0.1:8101/people/erasure-proposals?as_of=2029-03-02"
    principal = decode_token(request.headers["authorization"].split()[1], SETTINGS.jwt_secret)
    assert principal.roles == {"admin"}


def test_approval_erases_each_proposed_person_with_the_rule_as_reason():
    seen: list[httpx.Request] = []

    erased = retention.approve(SETTINGS, ANSWER, transport=enrollment(seen))

    assert [e.person_id for e in erased] == ["tr-old", "t-1"]
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/people/tr-old/erasure"),
        ("POST", "/people/t-1/erasure"),
    ]
    assert orjson.loads(seen[1].content) == {
        "reason": "retention retention-2026.1: withdrawn_trainee since 2026-03-02, due 2029-03-02"
    }
    assert seen[1].headers["idempotency-key"] == "retention-erasure-t-1"


def test_a_refused_erasure_stops_the_run_naming_the_answer():
    seen: list[httpx.Request] = []
    with pytest.raises(retention.RetentionFailed, match="404: no such person"):
        retention.approve(SETTINGS, ANSWER, transport=enrollment(seen, erasure_status=404))
    assert len(seen) == 1


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """The command's client talks to the mock enrollment."""
    seen: list[httpx.Request] = []
    real = retention._client
    monkeypatch.setattr(
        retention, "_client", lambda settings, host, _: real(settings, host, enrollment(seen))
    )
    return seen


def run(*args: str):
    env = {"GRADELINE_JWT_SECRET": "x" * 40, "COLUMNS": "160"}
    return CliRunner().invoke(cli.app, ["people", "retention", *args], env=env)


def test_the_command_lists_and_erases_nothing_without_approve(mocked):
    result = run("--as-of", "2029-03-02")

    assert result.exit_code == 0, result.output
    assert "tr-old" in result.output and "withdrawn_trainee" in result.output
    assert "2 people due for erasure on 2029-03-02 (retention-2026.1)" in result.output
    assert "--approve" in result.output
    assert [r.method for r in mocked] == ["GET"]


def test_the_command_with_approve_erases_each(mocked):
    result = run("--approve")

    assert result.exit_code == 0, result.output
    assert "erased 2 people: tr-old, t-1" in result.output
    assert [r.method for r in mocked] == ["GET", "POST", "POST"]
    assert "as_of" not in str(mocked[0].url)  # the service's today
