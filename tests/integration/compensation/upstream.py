"""Upstream events as the bus delivers them to compensation (through the consumer handler and the
inbox, exactly as shared.consumer does), and the principals of the compensation tests."""

from __future__ import annotations

from datetime import UTC, datetime

from services.compensation.consumers import handle
from shared.auth import Role
from shared.consumer import handle_once
from tests.support import delivered

NOW = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
MONTH = "2026-04"


def envelope(service, event_type, data, stream_id=None, version=1):
    stream = stream_id or f"trainee-{data['trainee_id']}"
    return delivered(service, event_type, stream, data, version, at=NOW)


def enrolled(trainee_id, category="hq_full_time", branch_id="hq", **extra):
    data = {
        "trainee_id": trainee_id,
        "name": "王强",
        "category": category,
        "branch_id": branch_id,
        "education": "high_school",
        "experience_years": "4",
        "certificates": [],
        "product_series": ["X1", "X2", "X3"],
        "enrolled_on": "2026-01-05",
        **extra,
    }
    return envelope("enrollment", "TraineeEnrolled", data)


def graded(trainee_id, position, level, assigned_at="2026-03-05T10:00:00+00:00", **extra):
    data = {
        "trainee_id": trainee_id,
        "session_id": "s-1",
        "position": position,
        "level": level,
        "grade_score": "95.5",
        "written": "95",
        "practical": {},
        "practical_mean": "96",
        "capped_by": [],
        "policy_version": "grading-2026.1",
        "rule_trace": ["R-20"],
        "review_flags": [],
        "assigned_at": assigned_at,
        "supersedes": None,
        "dispute_id": None,
        **extra,
    }
    return envelope("assessment", "GradeAssigned", data, f"assessment-s-1/{trainee_id}")


def disposed(trainee_id, outcome, decided_on):
    data = {
        "trainee_id": trainee_id,
        "session_id": "s-1",
        "outcome": outcome,
        "reason": "r",
        "decided_on": decided_on,
        "decided_by": "mgr",
    }
    return envelope("assessment", "DispositionDecided", data, f"assessment-s-1/{trainee_id}")


def day_logged(trainee_id, on, stage_no=1):
    data = {
        "trainee_id": trainee_id,
        "stage_no": stage_no,
        "date": on,
        "content": "c",
        "method": "m",
        "hours": "8",
        "performance": "p",
        "effect": "e",
        "trainer_id": "tr-1",
    }
    return envelope("training", "TrainingDayLogged", data, f"plan-{trainee_id}")


def penalty(trainer_id, fine, assessed_on, failure_rate="0.4", series="X1"):
    data = {
        "session_id": "s-1",
        "trainer_id": trainer_id,
        "product_series": series,
        "trainees": [],
        "failed": [],
        "failure_rate": failure_rate,
        "fine": fine,
        "policy_version": "grading-2026.1",
        "rule_trace": ["R-24"],
        "assessed_on": assessed_on,
    }
    return envelope("assessment", "TrainerPenaltyAssessed", data, "session-s-1")


async def deliver(svc, *envelopes) -> list[bool]:
    """What the consumer does with each message: handler and inbox row in one transaction."""
    return [await handle_once(svc.pool, handle, e) for e in envelopes]


def payroll(svc):
    return svc.as_("pay-1", Role.PAYROLL)


def management(svc):
    return svc.as_("boss", Role.MANAGEMENT)


def clerk(svc, branch="dl-north"):
    return svc.as_("clerk-" + branch, Role.BRANCH_CLERK, branch_id=branch)


async def count_events(svc, event_type=None):
    return await svc.pool.fetchval(
        "SELECT count(*) FROM events"
        " WHERE ($1::text IS NULL OR type = $1) AND stream_id NOT LIKE 'policy-%'",
        event_type,  # not the seeded policies
    )


async def run(svc, month=MONTH, headers=None):
    return await svc.client.post(f"/payroll/{month}/run", json={}, headers=headers or payroll(svc))


async def payslips(svc, month=MONTH):
    answer = await svc.client.get(f"/payroll/{month}", headers=payroll(svc))
    assert answer.status_code == 200, answer.text
    return answer.json()


def amounts(payslip):
    return {line["name"]: line["amount"] for line in payslip["lines"]}
