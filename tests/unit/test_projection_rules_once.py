"""Each projection's rules are written once: ``apply`` (one event) is ``apply_batch([event])``.

Both are run on one event against a connection that records the statements it is sent and finds
no rows; they must send the same statements with the same arguments. A projection keeping a
per-event ``apply`` of its own beside its set-wise ``apply_batch`` (two copies of every rule, which
can drift) sends other statements. Whether the set-wise rules leave the tables as they should is
tests/integration/test_projection_batches.py's job, against PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.assessment.projections import GRADE_BOARD
from services.compensation.projections import PAYSLIPS
from services.enrollment.projections import DIRECTORY
from services.training.projections import PROGRESS
from shared.events import Actor, Envelope
from shared.projections import Projection

NOW = datetime(2026, 3, 16, tzinfo=UTC)


class RecordingConnection:
    """A connection on empty tables: records what it is sent, finds nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    async def execute(self, sql: str, *args: Any) -> str:
        self.sent.append((sql, args))
        return ""

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sent.append((sql, args))
        return []

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.sent.append((sql, args))
        return None

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self.sent.append((sql, args))
        return None


def event(type_: str, data: dict[str, Any], branch: str | None = "dl-north") -> Envelope:
    return Envelope(
        uuid.UUID(int=1), "s-1", 1, 1, type_, 1, NOW, NOW, data, Actor("a", "r"), branch_id=branch
    )


STAGE = {"no": 1, "trainer_id": "tr-1", "planned_end": "2026-03-06", "content": "c"}
DAY = {"trainee_id": "t1", "stage_no": 1, "date": "2026-03-02"}
ENROLMENT = {
    "trainee_id": "t1",
    "name": "n",
    "category": "hq_full_time",
    "branch_id": "dl-north",
    "education": "high_school",
    "experience_years": "2.5",
    "certificates": ["ase"],
    "product_series": ["X1"],
    "enrolled_on": "2026-03-02",
}
EVENTS: dict[str, list[Envelope]] = {
    "directory": [
        event("TraineeEnrolled", ENROLMENT),
        event(
            "PlacementExamScored",
            {"trainee_id": "t1", "position": "engineer", "plan_level": "junior"},
        ),
        event("TraineeWithdrawn", {"trainee_id": "t1", "reason": "r"}),
    ],
    "progress": [
        event("TraineeEnrolled", ENROLMENT, None),
        event("TraineeWithdrawn", {"trainee_id": "t1"}, None),
        event("PlanDrafted", {"trainee_id": "t1", "stages": [STAGE]}),
        event("PlanApproved", {"trainee_id": "t1"}),
        event("TrainingCompleted", {"trainee_id": "t1"}),
        event("TrainingDayLogged", {**DAY, "trainer_id": "tr-1"}),
        event("TrainingDayConfirmed", {**DAY, "agree": False}, None),
        event(
            "StageSignedOff",
            {"trainee_id": "t1", "stage_no": 1, "trainer_id": "tr-1", "disputed": True},
        ),
        event("StageReturned", {"trainee_id": "t1", "to_stage": 1, "reason": "r"}),
        event("ReturnClosed", {"trainee_id": "t1", "stage_no": 1, "returned_from": 2}),
        event("TrainerDemeritRecorded", {"trainer_id": "tr-1"}),
    ],
    "payslips": [
        event(
            "PayslipIssued",
            {
                "payslip_id": str(uuid.UUID(int=2)),
                "month": "2026-03",
                "employee_id": "t1",
                "lines": [],
                "total": "2700.00",
            },
        ),
    ],
    "grade_board": [
        event(
            "GradeAssigned",
            {
                "trainee_id": "t1",
                "session_id": "s-1",
                "position": "engineer",
                "level": "junior",
                "grade_score": "95.5",
            },
        ),
    ],
}


@pytest.mark.parametrize(
    "projection", [DIRECTORY, PROGRESS, PAYSLIPS, GRADE_BOARD], ids=lambda p: p.name
)
async def test_apply_is_apply_batch_of_one_event(projection: Projection) -> None:
    assert projection.apply_batch is not None
    for envelope in EVENTS[projection.name]:
        one, batch = RecordingConnection(), RecordingConnection()
        await projection.apply(one, envelope)  # type: ignore[arg-type]
        await projection.apply_batch(batch, [envelope])  # type: ignore[arg-type]
        assert one.sent == batch.sent, envelope.type
