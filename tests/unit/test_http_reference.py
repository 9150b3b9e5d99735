"""docs/http.md's reference part is what the code gives: regenerated from the four apps, it must
equal the committed file (after changing a route: python -m ops.http_reference)."""

from __future__ import annotations

from ops import http_reference


def test_the_committed_http_reference_matches_the_code():
    current = http_reference.HTTP_MD.read_text()
    assert http_reference.BEGIN in current and http_reference.END in current
    wanted = http_reference.updated(current, http_reference.render())
    assert current == wanted, "docs/http.md is stale: run python -m ops.http_reference"


def test_every_route_and_problem_type_is_in_the_reference():
    text = http_reference.render()
    for needle in (
        "### `POST /trainees`",
        "### `GET /board/grades`",
        "### `POST /payroll/{month}/run`",
        "### `PUT /plans/{trainee_id}`",
        "`/problems/not-arrived`",
        "`/problems/rules/<id>`",
    ):
        assert needle in text, needle


def test_the_roles_of_a_route_come_from_its_bearer_dependency():
    text = http_reference.render()
    approve = text.split("### `POST /plans/{trainee_id}/approve`")[1].split("###")[0]
    assert "- who: `exec_vp`" in approve
    health = text.split("### `GET /health`")[1].split("###")[0]
    assert "- who: anyone (no token)" in health
