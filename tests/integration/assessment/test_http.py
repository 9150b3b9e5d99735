"""The assessment routes over HTTP against real PostgreSQL and RabbitMQ (docs/http.md), the
worked examples A-C end to end, and every refusal the contract names."""

from __future__ import annotations

import pytest

from shared.problems import PROBLEM_JSON

from .helpers import DEPARTMENTS, EXAMPLE_A


async def test_example_a_engineer_intermediate_through_http(svc):
    await svc.enrol("t-a", branch="hq", series=("X1", "X2", "X3"))
    opened = await svc.open_session("s-1", "X1")
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "open" and opened.headers["ETag"] == '"1"'
    first = await svc.written("s-1", "t-a", 95)
    assert first.status_code == 201
    assert (first.json()["written"], first.json()["decision"]) == ("95", None)
    last = None
    for department, score in zip(DEPARTMENTS, EXAMPLE_A, strict=True):
        last = await svc.practical("s-1", "t-a", department, score)
        assert last.status_code == 201, last.text
    decision = last.json()["decision"]
    assert decision["type"] == "GradeAssigned"
    assert (decision["position"], decision["level"], decision["grade_score"]) == (
        "engineer",
        "intermediate",
        "95.5",
    )
    assert last.headers["ETag"] == '"7"'  # six scores and the grade
    grade = await svc.grade("t-a")
    assert grade.status_code == 200 and grade.headers["ETag"] == '"7"'
    body = grade.json()
    assert {
        "trainee_id",
        "position",
        "level",
        "grade_score",
        "policy_version",
        "rule_trace",
        "assigned_at",
    } <= set(body)
    assert (body["position"], body["level"], body["grade_score"]) == (
        "engineer",
        "intermediate",
        "95.5",
    )
    assert body["policy_version"] == "grading-2026.1"
    assert "R-20: 95.5 >= 94 -> engineer intermediate" in body["rule_trace"]
    rows = await svc.pool.fetch(
        "SELECT actor, branch_id, type FROM events"
        " WHERE stream_id NOT LIKE 'policy-%' ORDER BY position"  # not the seeded policies
    )
    scored = [r for r in rows if r["type"] != "ExamSessionOpened"]
    assert {r["branch_id"] for r in scored} == {"hq"}
    assert scored[0]["actor"] == {"sub": "ex-hr", "role": "examiner"}


async def test_example_b_mastery_from_training_events_caps_to_technician_senior(svc):
    # X1 at enrollment; X2 taught to the end; X3's second stage sent back (R-12) -> 2 series.
    await svc.enrol("t-b", series=("X1",))
    await svc.plan("t-b", [(1, "X2", "tr-1"), (2, "X3", "tr-2"), (3, "X3", "tr-2")])
    for no in (1, 2, 3):
        await svc.sign("t-b", no, "tr-1" if no == 1 else "tr-2")
    await svc.send_back("t-b", 3, 2)
    await svc.open_session("s-1", "X2")
    decision = (await svc.sit("s-1", "t-b")).json()["decision"]
    assert (decision["position"], decision["level"]) == ("technician", "senior")
    assert decision["capped_by"] == ["series count"]
    recorded = await svc.pool.fetchval("SELECT data FROM events WHERE type = 'GradeAssigned'")
    assert recorded["facts"]["mastered_series"] == ["X1", "X2"]


async def test_example_c_failed_written_no_grade_and_a_disposition(svc):
    await svc.enrol("t-c")
    await svc.open_session()
    decision = (await svc.sit("s-1", "t-c", written="79", practical=("95",) * 5)).json()
    assert decision["decision"]["type"] == "AssessmentFailed"
    assert decision["decision"]["failed_exams"] == ["written"]
    missing = await svc.grade("t-c")
    assert missing.status_code == 404 and "failed" in missing.json()["detail"]
    url = "/trainees/t-c/disposition"
    body = {"outcome": "continue_training", "reason": "weak on fault analysis"}
    decided = await svc.client.post(url, json=body, headers=svc.manager())
    assert decided.status_code == 200, decided.text
    assert (decided.json()["outcome"], decided.json()["session_id"]) == ("continue_training", "s-1")
    again = await svc.client.post(url, json=body, headers=svc.manager())
    assert again.status_code == 409
    bad = await svc.client.post(url, json={**body, "outcome": "promote"}, headers=svc.manager())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.outcome"


async def test_a_graded_or_unassessed_trainee_gets_no_disposition_r18(svc):
    await svc.enrol("t-a")
    url = "/trainees/t-a/disposition"
    body = {"outcome": "reserve", "reason": "x"}
    not_yet = await svc.client.post(url, json=body, headers=svc.manager())
    assert not_yet.status_code == 409 and not_yet.json()["type"].endswith("/rules/R-18")
    await svc.open_session()
    await svc.sit("s-1", "t-a")
    graded = await svc.client.post(url, json=body, headers=svc.manager())
    assert graded.status_code == 409 and graded.json()["type"].endswith("/rules/R-18")


async def test_a_passed_trainee_without_eligibility_has_no_grade_to_show(svc):
    await svc.enrol("t-r", education="junior_high", series=("X1",))  # no certificate, 1 series
    await svc.open_session()
    decision = (await svc.sit("s-1", "t-r")).json()["decision"]
    assert decision["type"] == "GradeAssigned" and decision["position"] is None
    shown = await svc.grade("t-r")
    assert shown.status_code == 404 and "reserve" in shown.json()["detail"]


async def test_missing_token_is_401_and_wrong_role_or_department_is_403(svc):
    await svc.enrol("t-a")
    assert (await svc.client.post("/sessions", json={})).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await svc.open_session(headers=bad)).status_code == 401
    assert (await svc.open_session(headers=svc.clerk())).status_code == 403
    await svc.open_session()
    technical = svc.examiner("technical")
    assert (await svc.written("s-1", "t-a", 90, headers=technical)).status_code == 403
    assert (await svc.written("s-1", "t-a", 90, headers=svc.manager())).status_code == 403
    wrong = await svc.practical("s-1", "t-a", "quality", 90, headers=technical)
    assert wrong.status_code == 403 and wrong.headers["content-type"] == PROBLEM_JSON
    assert (
        await svc.written("s-1", "t-a", 90, headers=svc.examiner("after_sales"))
    ).status_code == 201
    for who in (svc.trainee("t-other"), svc.clerk("dl-south"), svc.examiner()):
        assert (await svc.grade("t-a", headers=who)).status_code in (403, 404)
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id NOT LIKE 'policy-%'")
        == 2
    )


@pytest.mark.parametrize(
    ("score", "field"),
    [
        ("85.25", "body.score"),
        (85.25, "body.score"),
        (100.1, "body.score"),
        (-1, "body.score"),
        ("abc", "body.score"),
        (True, "body.score"),
        (None, "body.score"),
        ("NaN", "body.score"),
    ],
)
async def test_bad_scores_are_422_naming_the_field_r17(svc, score, field):
    await svc.enrol("t-a")
    await svc.open_session()
    answer = await svc.written("s-1", "t-a", score)
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id NOT LIKE 'policy-%'")
        == 1
    )


async def test_scores_as_strings_or_numbers_with_one_decimal_are_exact(svc):
    await svc.enrol("t-a")
    await svc.open_session()
    assert (await svc.written("s-1", "t-a", "80.50")).json()["written"] == "80.5"
    answer = await svc.practical("s-1", "t-a", "technical", 99.9)
    assert answer.json()["practical"] == {"technical": "99.9"}
    kitchen = await svc.practical("s-1", "t-a", "kitchen", 90, headers=svc.examiner("kitchen"))
    assert kitchen.status_code == 422 and kitchen.json()["errors"][0]["field"] == "body.department"
    system = await svc.practical("s-1", "t-a", "system", 90)  # not a practical department
    assert system.status_code == 422


async def test_unknown_session_or_trainee_is_404_with_the_reason(svc):
    await svc.enrol("t-a")
    assert (await svc.written("s-none", "t-a", 90)).status_code == 404
    await svc.open_session()
    unknown = await svc.written("s-1", "t-nobody", 90)
    assert unknown.status_code == 404
    assert "t-nobody is not known to assessment" in unknown.json()["detail"]
    assert (await svc.grade("t-nobody")).status_code == 404
    assert (await svc.client.get("/sessions/s-none", headers=svc.manager())).status_code == 404


async def test_a_second_score_from_one_department_or_a_closed_session_is_409(svc):
    await svc.enrol("t-a")
    assert (await svc.open_session()).status_code == 201
    assert (await svc.open_session()).status_code == 409
    assert (await svc.written("s-1", "t-a", 90)).status_code == 201
    again = await svc.written("s-1", "t-a", 91, headers=svc.examiner("after_sales"))
    assert again.status_code == 409
    assert (await svc.practical("s-1", "t-a", "quality", 90)).status_code == 201
    assert (await svc.practical("s-1", "t-a", "quality", 92)).status_code == 409
    closed = await svc.client.post("/sessions/s-1/close", json={}, headers=svc.manager())
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (await svc.practical("s-1", "t-a", "technical", 90)).status_code == 409
    assert (await svc.client.post("/sessions/s-1/close", headers=svc.manager())).status_code == 409


async def test_a_stale_if_match_is_412_and_a_current_one_passes(svc):
    await svc.enrol("t-a")
    await svc.open_session()
    stale = {**svc.examiner(), "If-Match": '"3"'}
    assert (await svc.written("s-1", "t-a", 90, headers=stale)).status_code == 412
    fresh = {**svc.examiner(), "If-Match": '"0"'}
    assert (await svc.written("s-1", "t-a", 90, headers=fresh)).status_code == 201
    close = "/sessions/s-1/close"
    old = await svc.client.post(close, json={}, headers={**svc.manager(), "If-Match": '"2"'})
    assert old.status_code == 412
    session = await svc.client.get("/sessions/s-1", headers=svc.manager())
    current = {**svc.manager(), "If-Match": session.headers["ETag"]}
    assert (await svc.client.post(close, json={}, headers=current)).status_code == 200


async def test_an_idempotent_repeat_replays_and_a_changed_body_is_422(svc):
    await svc.enrol("t-a")
    await svc.open_session()
    headers = {**svc.examiner(), "Idempotency-Key": "written-t-a"}
    first = await svc.written("s-1", "t-a", 90, headers=headers)
    again = await svc.written("s-1", "t-a", 90, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    changed = await svc.written("s-1", "t-a", 91, headers=headers)
    assert changed.status_code == 422
    assert await svc.pool.fetchval("SELECT count(*) FROM events WHERE type = 'ExamScored'") == 1


async def test_a_withdrawn_trainee_is_not_examined(svc):
    await svc.enrol("t-w")
    await svc.upstream(
        "enrollment", "trainee-t-w", "TraineeWithdrawn", {"trainee_id": "t-w", "reason": "left"}
    )
    await svc.open_session()
    assert (await svc.written("s-1", "t-w", 90)).status_code == 409


async def test_a_score_for_a_trainee_not_arrived_yet_is_retried_with_the_same_key(svc):
    """404 with Retry-After while the enrolment is on the bus; the same Idempotency-Key then
    decides afresh instead of replaying the 404."""
    await svc.open_session("s-1", "X1")
    headers = {**svc.examiner("hr"), "Idempotency-Key": "score-t-late"}
    early = await svc.written("s-1", "t-late", 90, headers=headers)
    assert early.status_code == 404 and early.headers["Retry-After"] == "1"
    assert early.json()["type"].endswith("/not-arrived")
    await svc.enrol("t-late", branch="hq", series=("X1", "X2", "X3"))
    retried = await svc.written("s-1", "t-late", 90, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
