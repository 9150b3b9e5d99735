"""The audit (R-22): a trainee's history replayed from the service's own storage, every grade
re-derived under the policy version it recorded, and tampering with stored events reported."""

from __future__ import annotations

import uuid

from services.assessment.audit import audit_all
from services.assessment.consumers import handle
from shared.consumer import handle_once
from shared.events import Actor, NewEvent
from shared.eventstore import NO_STREAM


async def disputed_and_corrected(svc, trainee_id="t-a"):
    await svc.enrol(trainee_id)
    await svc.plan(trainee_id, [(1, "X4", "tr-1")])
    await svc.sign(trainee_id, 1, "tr-1")
    await svc.open_session()
    await svc.sit("s-1", trainee_id)
    filed = await svc.client.post(
        f"/trainees/{trainee_id}/disputes", json={"reason": "x"}, headers=svc.trainee(trainee_id)
    )
    dispute_id = filed.json()["dispute_id"]
    body = {"outcome": "corrected", "practical": {"technical": 100}}
    answer = await svc.client.post(
        f"/disputes/{dispute_id}/resolve", json=body, headers=svc.manager()
    )
    assert answer.status_code == 200, answer.text


async def audit(svc, trainee_id="t-a", headers=None):
    return await svc.client.get(f"/trainees/{trainee_id}/audit", headers=headers or svc.auditor())


async def test_an_untouched_history_is_consistent_and_re_derived_step_by_step(svc):
    await disputed_and_corrected(svc)
    answer = await audit(svc)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["consistent"] is True and report["differences"] == []
    types = [(e["service"], e["type"]) for e in report["events"]]
    assert types[:4] == [
        ("enrollment", "TraineeEnrolled"),
        ("training", "PlanDrafted"),
        ("training", "PlanApproved"),
        ("training", "StageSignedOff"),
    ]
    assert types.count(("assessment", "GradeAssigned")) == 2
    assert ("assessment", "GradeDisputeResolved") in types
    first, second = report["derivations"]
    assert first["recorded"] == first["rederived"] and second["recorded"] == second["rederived"]
    assert first["recorded"]["facts"]["mastered_series"] == ["X1", "X2", "X3", "X4"]
    assert second["rederived"]["supersedes"] == first["event_id"]
    assert any(line.startswith("R-20") for line in second["rule_trace"])
    assert {"event_id", "recorded", "rederived", "rule_trace"} <= set(first)
    event = report["events"][0]
    assert {"service", "type", "occurred_at", "actor", "data"} <= set(event)


async def test_an_edited_event_row_is_reported_with_what_differs(svc):
    await disputed_and_corrected(svc)
    await svc.pool.execute(
        "UPDATE events SET data = jsonb_set(data, '{level}', '\"senior\"')"
        " WHERE position = (SELECT min(position) FROM events WHERE type = 'GradeAssigned')"
    )
    report = (await audit(svc, headers=svc.manager())).json()
    assert report["consistent"] is False
    fields = {(d["kind"], d["field"]) for d in report["differences"]}
    assert ("derivation", "level") in fields and ("tampering", "hash") in fields
    level = next(d for d in report["differences"] if d["field"] == "level")
    assert (level["recorded"], level["rederived"]) == ("senior", "intermediate")


async def test_an_edited_score_shows_in_the_decision_it_fed(svc):
    await disputed_and_corrected(svc)
    await svc.pool.execute(
        "UPDATE events SET data = jsonb_set(data, '{score}', '\"85\"')"
        " WHERE type = 'ExamScored' AND data ->> 'kind' = 'written'"
    )
    report = (await audit(svc)).json()
    assert report["consistent"] is False
    assert {"written", "grade_score"} <= {d["field"] for d in report["differences"]}


async def test_audit_access_and_unknown_trainee(svc):
    await svc.enrol("t-a")
    assert (await audit(svc, headers=svc.examiner())).status_code == 403
    assert (await audit(svc, headers=svc.management())).status_code == 403
    assert (await audit(svc, "t-nobody")).status_code == 404
    known = (await audit(svc)).json()  # enrolled, never examined: nothing to re-derive
    assert known["consistent"] is True and known["derivations"] == []


async def test_audit_all_sweeps_every_trainee(svc):
    await disputed_and_corrected(svc, "t-a")
    await svc.enrol("t-b")
    reports = await audit_all(svc.pool, svc.service.app.state.store)
    assert [(r["trainee_id"], r["consistent"]) for r in reports] == [("t-a", True), ("t-b", True)]


async def test_an_upstream_event_hashed_by_its_producer_checks_in_the_inbox_until_edited(
    svc, pg_store
):
    """An upstream store hashes with the digest that covers recorded_at, position and the ids
    (migration 0011); the inbox copy verifies under it, and an edit of those fields shows."""
    data = {
        "trainee_id": "t-h",
        "name": "name of t-h",
        "category": "branch_commissioned",
        "branch_id": "dl-north",
        "education": "high_school",
        "experience_years": "4",
        "certificates": [],
        "product_series": ["X1"],
        "enrolled_on": "2026-03-01",
    }
    enrolled = NewEvent(
        "TraineeEnrolled",
        data,
        branch_id="dl-north",
        correlation_id=uuid.uuid4(),
        actor=Actor("clerk", "branch_clerk"),
    )
    await pg_store.append("trainee-t-h", [enrolled], NO_STREAM)
    (envelope,) = await pg_store.read_stream("trainee-t-h")
    assert await handle_once(svc.pool, handle, envelope._replace(service="enrollment"))

    report = (await audit(svc, "t-h")).json()
    assert report["consistent"] is True, report["differences"]

    await svc.pool.execute(
        "UPDATE inbox SET envelope = jsonb_set(envelope, '{recorded_at}',"
        " '\"2020-01-01T00:00:00+00:00\"') WHERE event_id = $1",
        envelope.event_id,
    )
    report = (await audit(svc, "t-h")).json()
    assert [(d["kind"], d["stream_id"]) for d in report["differences"]] == [
        ("tampering", "trainee-t-h")
    ]


async def test_r12a_a_send_back_closed_by_an_accepted_explanation_replays_as_signed(svc):
    await svc.enrol("t-r")
    await svc.plan("t-r", [(1, "X4", "tr-1"), (2, "X5", "tr-2")])
    await svc.sign("t-r", 1, "tr-1")
    await svc.sign("t-r", 2, "tr-2")
    await svc.send_back("t-r", 2, 1)
    closed = {"trainee_id": "t-r", "stage_no": 1, "returned_from": 2, "accepted_by": "tr-2"}
    await svc.upstream("training", "plan-t-r", "ReturnClosed", closed)
    await svc.open_session()
    await svc.sit("s-1", "t-r")
    report = (await audit(svc, "t-r")).json()
    assert report["consistent"] is True and report["differences"] == []
    (derivation,) = report["derivations"]
    assert derivation["recorded"] == derivation["rederived"]
    assert derivation["recorded"]["facts"]["mastered_series"] == ["X1", "X2", "X3", "X4", "X5"]
