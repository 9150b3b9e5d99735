"""Grade disputes (R-23), the grade board (scoped, and as of a past moment) and the trainer board
after closing a session (R-24, example E)."""

from __future__ import annotations

import pytest

from .helpers import EXAMPLE_A


async def graded(svc, trainee_id, branch="dl-north", session="s-1", **scores):
    await svc.enrol(trainee_id, branch=branch)
    return (await svc.sit(session, trainee_id, **scores)).json()["decision"]


async def file(svc, trainee_id, headers, reason="the practical was mis-added", **extra):
    return await svc.client.post(
        f"/trainees/{trainee_id}/disputes", json={"reason": reason}, headers={**headers, **extra}
    )


async def resolve(svc, dispute_id, body, **extra):
    return await svc.client.post(
        f"/disputes/{dispute_id}/resolve", json=body, headers={**svc.manager(), **extra}
    )


async def test_dispute_upheld_then_corrected_keeps_the_first_grade_r23(svc):
    await svc.open_session()
    first = await graded(svc, "t-a")
    assert first["level"] == "intermediate"
    filed = await file(svc, "t-a", svc.trainee("t-a"))
    assert filed.status_code == 201, filed.text
    dispute_id = filed.json()["dispute_id"]
    upheld = await resolve(svc, dispute_id, {"outcome": "upheld"})
    assert upheld.status_code == 200 and upheld.json()["outcome"] == "upheld"
    assert upheld.json()["grade"]["level"] == "intermediate"
    assert (await resolve(svc, dispute_id, {"outcome": "upheld"})).status_code == 409

    second = (await file(svc, "t-a", svc.clerk("dl-north"))).json()["dispute_id"]
    corrected = await resolve(svc, second, {"outcome": "corrected", "written": 99})
    assert corrected.status_code == 200, corrected.text
    grade = corrected.json()["grade"]
    assert (grade["position"], grade["level"], grade["grade_score"]) == (
        "engineer",
        "senior",
        "97.5",
    )
    rows = await svc.pool.fetch(
        "SELECT event_id, data FROM events WHERE type = 'GradeAssigned' ORDER BY position"
    )
    assert [r["data"]["level"] for r in rows] == ["intermediate", "senior"]  # the first is kept
    assert rows[1]["data"]["supersedes"] == str(rows[0]["event_id"])
    shown = (await svc.grade("t-a", headers=svc.trainee("t-a"))).json()
    assert (shown["level"], shown["event_id"]) == ("senior", str(rows[1]["event_id"]))
    board = await svc.eventually(
        "/board/grades", svc.management(), lambda b: b["rows"] and b["rows"][0]["level"] == "senior"
    )
    assert board["rows"] == [
        {
            "branch_id": "dl-north",
            "branch_name_zh": "dl-north",  # its names unknown here: the id
            "branch_name_en": "dl-north",
            "position": "engineer",
            "level": "senior",
            "count": 1,
            "trainee_ids": ["t-a"],
            "trainees": "/board/grades/dl-north/engineer/senior",
        }
    ]


async def test_dispute_refusals(svc):
    await svc.open_session()
    await svc.enrol("t-c")
    await svc.sit("s-1", "t-c", written="79")
    no_grade = await file(svc, "t-c", svc.manager())
    assert no_grade.status_code == 409 and no_grade.json()["type"].endswith("/rules/R-23")
    await graded(svc, "t-a")
    assert (await file(svc, "t-a", svc.trainee("t-other"))).status_code == 404
    assert (await file(svc, "t-a", svc.clerk("dl-south"))).status_code == 404
    assert (await file(svc, "t-a", svc.examiner())).status_code == 403
    assert (await file(svc, "t-a", svc.manager(), reason="")).status_code == 422
    stale = await file(svc, "t-a", svc.manager(), **{"If-Match": '"3"'})
    assert stale.status_code == 412
    key = {"Idempotency-Key": "dispute-1"}
    once = await file(svc, "t-a", svc.trainee("t-a"), **key)
    twice = await file(svc, "t-a", svc.trainee("t-a"), **key)
    assert once.json()["dispute_id"] == twice.json()["dispute_id"]
    assert twice.headers["Idempotent-Replayed"] == "true"
    dispute_id = once.json()["dispute_id"]
    assert (await resolve(svc, "d-nope", {"outcome": "upheld"})).status_code == 404
    mixed = await resolve(svc, dispute_id, {"outcome": "upheld", "written": 90})
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "body.written"
    empty = await resolve(svc, dispute_id, {"outcome": "corrected"})
    assert empty.status_code == 422
    bad = await resolve(svc, dispute_id, {"outcome": "corrected", "practical": {"quality": 80.55}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.practical.quality"
    clerk = await svc.client.post(
        f"/disputes/{dispute_id}/resolve", json={"outcome": "upheld"}, headers=svc.clerk()
    )
    assert clerk.status_code == 403
    assert (
        await svc.pool.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1", f"dispute-{dispute_id}"
        )
        == 1
    )


async def test_a_correction_below_the_pass_mark_becomes_a_failure(svc):
    await svc.open_session()
    await graded(svc, "t-a")
    dispute_id = (await file(svc, "t-a", svc.manager())).json()["dispute_id"]
    practical = {"technical": 40, "quality": 40}  # mean 73.4 < 80
    corrected = await resolve(svc, dispute_id, {"outcome": "corrected", "practical": practical})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["grade"]["type"] == "AssessmentFailed"
    assert (await svc.grade("t-a")).status_code == 404


async def test_grade_board_scoped_to_a_clerks_branch_and_answering_as_of_the_past(svc):
    await svc.open_session()
    await graded(svc, "t-n1", branch="dl-north")
    await graded(svc, "t-n2", branch="dl-north", written="85", practical=("85",) * 5)
    moment = await svc.pool.fetchval("SELECT max(recorded_at) FROM events")
    await graded(svc, "t-s1", branch="dl-south")
    full = await svc.eventually(
        "/board/grades", svc.management(), lambda b: sum(r["count"] for r in b["rows"]) == 3
    )
    assert [
        (r["branch_id"], r["position"], r["level"], r["trainee_ids"]) for r in full["rows"]
    ] == [
        ("dl-north", "engineer", "intermediate", ["t-n1"]),
        ("dl-north", "technician", "intermediate", ["t-n2"]),
        ("dl-south", "engineer", "intermediate", ["t-s1"]),
    ]
    own = (await svc.client.get("/board/grades", headers=svc.clerk("dl-south"))).json()
    assert [r["trainee_ids"] for r in own["rows"]] == [["t-s1"]]
    other = await svc.client.get("/board/grades?branch_id=dl-north", headers=svc.clerk("dl-south"))
    assert other.status_code == 403
    assert (await svc.client.get("/board/grades", headers=svc.trainee("t-n1"))).status_code == 403
    past = await svc.client.get(
        "/board/grades", params={"as_of": moment.isoformat()}, headers=svc.auditor()
    )
    assert past.status_code == 200, past.text
    assert {t for r in past.json()["rows"] for t in r["trainee_ids"]} == {"t-n1", "t-n2"}
    assert past.json()["as_of"].startswith(moment.isoformat()[:19])
    empty = await svc.client.get(
        "/board/grades", params={"as_of": "2020-01-01T00:00:00"}, headers=svc.management()
    )
    assert empty.json()["rows"] == []


async def test_r24_r9_a_trainer_named_only_in_an_unapproved_redraft_answers_for_no_one(svc):
    """R-24 with R-9: the trainers held responsible are those of the approved plan. tr-1 trained
    the four on X1; a re-draft handing X1 to tr-9 awaits approval when the session closes."""
    await svc.open_session("s-r9", "X1")
    for n in range(4):
        trainee = f"t-r9-{n}"
        await svc.enrol(trainee)
        await svc.plan(trainee, [(1, "X1", "tr-1")])
        await svc.plan(trainee, [(1, "X1", "tr-9")], revision=2, approve=False)
        await svc.sit("s-r9", trainee, written="79" if n < 2 else "90", practical=EXAMPLE_A)
    closed = await svc.client.post("/sessions/s-r9/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text
    (penalty,) = closed.json()["penalties"]
    assert (penalty["trainer_id"], penalty["trainees"], penalty["failed"]) == ("tr-1", 4, 2)
    assert (penalty["failure_rate"], penalty["fine"]) == ("0.5", "200.00")


async def test_trainer_board_after_closing_a_session_example_e(svc):
    """Example E: trainer tr-1 trained 10 trainees on X1; 4 fail -> 40 % -> fine 150 (R-24)."""
    await svc.open_session("s-e", "X1")
    for n in range(10):
        trainee = f"t-{n}"
        await svc.enrol(trainee)
        await svc.plan(trainee, [(1, "X1", "tr-1"), (2, "X2", "tr-2")])
        written = "79" if n < 4 else "90"
        await svc.sit("s-e", trainee, written=written, practical=EXAMPLE_A)
    await svc.upstream(
        "training",
        "trainer-tr-1",
        "TrainerDemeritRecorded",
        {
            "trainer_id": "tr-1",
            "reason": "perfunctory",
            "trainee_id": "t-0",
            "recorded_by": "mgr",
            "recorded_on": "2026-03-10",
        },
    )
    closed = await svc.client.post("/sessions/s-e/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text
    (penalty,) = closed.json()["penalties"]  # tr-2 trained them on X2, not the session's series
    assert (penalty["trainer_id"], penalty["trainees"], penalty["failed"]) == ("tr-1", 10, 4)
    assert (penalty["failure_rate"], penalty["fine"]) == ("0.4", "150.00")
    board = await svc.eventually(
        "/board/trainers?session_id=s-e",
        svc.management(),
        lambda b: len(b["rows"]) == 1 and b["rows"][0]["demerits"] == 1,
    )
    row = board["rows"][0]
    assert {
        k: row[k]
        for k in (
            "trainer_id",
            "session_id",
            "product_series",
            "trainees",
            "failed",
            "failure_rate",
            "fine",
        )
    } == {
        "trainer_id": "tr-1",
        "session_id": "s-e",
        "product_series": "X1",
        "trainees": 10,
        "failed": 4,
        "failure_rate": "0.4",
        "fine": "150.00",
    }
    assert row["failed_ids"] == ["t-0", "t-1", "t-2", "t-3"]
    assert (await svc.client.get("/board/trainers", headers=svc.auditor())).status_code == 403
    other = await svc.client.get("/board/trainers?session_id=s-x", headers=svc.manager())
    assert other.json() == {"rows": [], "next_cursor": None}


@pytest.mark.parametrize("as_of", ["0.5", "1700000000", "yesterday"])
async def test_grade_board_as_of_is_an_iso_8601_date_time_not_a_number(svc, as_of):
    answer = await svc.client.get(
        "/board/grades", params={"as_of": as_of}, headers=svc.management()
    )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["query.as_of"]
