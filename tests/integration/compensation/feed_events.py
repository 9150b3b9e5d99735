"""Upstream events the branch feed is made of (R-2, R-12b), as the bus delivers them to
compensation, each recorded ``at`` a given moment and carrying its trainee's branch: assessment's
grades, failures and dispositions, training's concerns and their handling."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import delivered


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def event(service, event_type, data, when, branch_id=None):
    stream = f"{service}-{data['trainee_id']}"
    return delivered(service, event_type, stream, data, at=when, branch_id=branch_id)


def failed(trainee_id, when, branch_id="dl-north"):
    data = {
        "trainee_id": trainee_id,
        "session_id": "s-1",
        "failed_exams": ["written"],
        "written": "79",
        "practical": {},
        "practical_mean": "96",
        "assessed_at": when.isoformat(),
        "supersedes": None,
    }
    return event("assessment", "AssessmentFailed", data, when, branch_id)


def disposed(trainee_id, when, branch_id="dl-north"):
    data = {
        "trainee_id": trainee_id,
        "session_id": "s-1",
        "outcome": "continue_training",
        "reason": "the branch insists on more training",
        "decided_on": when.date().isoformat(),
        "decided_by": "mgr",
    }
    return event("assessment", "DispositionDecided", data, when, branch_id)


def graded(trainee_id, when, branch_id=None, level="junior"):
    data = {
        "trainee_id": trainee_id,
        "session_id": "s-1",
        "position": "technician",
        "level": level,
        "grade_score": "86.5",
        "written": "85",
        "practical_mean": "88",
        "capped_by": [],
        "assigned_at": when.isoformat(),
    }
    return event("assessment", "GradeAssigned", data, when, branch_id)


def concern(trainee_id, when, branch_id="dl-north"):
    data = {
        "trainee_id": trainee_id,
        "concern_id": "c-1",
        "stage_no": 5,
        "text": "跟不上产品系列 X 的进度",
        "noted_by": "tr-x",
        "noted_on": when.date().isoformat(),
    }
    return event("training", "TraineeConcernNoted", data, when, branch_id)


def handled(trainee_id, when, branch_id="dl-north"):
    data = {
        "trainee_id": trainee_id,
        "concern_id": "c-1",
        "verified": True,
        "handling": "加训两天",
        "handled_by": "mgr",
        "handled_on": when.date().isoformat(),
    }
    return event("training", "ConcernHandled", data, when, branch_id)
