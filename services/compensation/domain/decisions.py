"""R-20, R-23, R-30, R-32: what an upstream decision means for pay. Pure.

Each decision is read from its own event alone (nothing looked up from what arrived before), so
the rate it sets is the same whatever order decisions arrive in; which one is in force on a day
is then decided over the set of them (domain/in_force.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from .commands import ApplyGrade
from .vocabulary import Category, DispositionOutcome, Level, Position

# a failed trainee kept in reserve or sent to the workshop gets worker's treatment.
WORKER_OUTCOMES = frozenset({DispositionOutcome.RESERVE, DispositionOutcome.WORKSHOP})


@dataclass(frozen=True)
class GradeDecision:
    """The position a decision puts an employee in, from its own day, and what it corrects."""

    event_id: UUID
    employee_id: str
    position: Position
    level: Level | None
    decided_on: date
    decided_at: datetime
    supersedes: UUID | None = None

    def command(self, category: Category) -> ApplyGrade:
        return ApplyGrade(
            self.employee_id,
            category,
            self.position,
            self.level,
            self.decided_on,
            self.event_id,
            self.supersedes,
            self.decided_at,
        )


def grade_decision(
    event_type: str, data: dict[str, Any], event_id: UUID, occurred_at: datetime
) -> GradeDecision | None:
    """The decision an upstream event makes for pay, None when it makes none:

    - ``GradeAssigned`` (R-20): its position; none at all (R-21) is the reserve position;
    - ``AssessmentFailed`` correcting a grade (R-23): the grade taken away, reserve; a first
      failure had no grade to take, its disposition decides what follows;
    - ``DispositionDecided`` reserve or workshop (R-18/R-30): worker's treatment.
    """

    def decision(position: Position, level: Level | None, day: str) -> GradeDecision:
        return GradeDecision(
            event_id,
            str(data["trainee_id"]),
            position,
            level,
            day_of(day),
            occurred_at,
            UUID(str(data["supersedes"])) if data.get("supersedes") else None,
        )

    if event_type == "GradeAssigned":
        if not data.get("position"):
            return decision(Position.RESERVE, None, data["assigned_at"])
        position = Position(data["position"])
        level = (
            Level(data["level"]) if data.get("level") and position is not Position.RESERVE else None
        )
        return decision(position, level, data["assigned_at"])
    if event_type == "AssessmentFailed" and data.get("supersedes"):
        return decision(Position.RESERVE, None, data["assessed_at"])
    if event_type == "DispositionDecided" and data["outcome"] in WORKER_OUTCOMES:
        return decision(Position.RESERVE, None, data["decided_on"])
    return None


def day_of(value: str) -> date:
    """A date, or the date of a timestamp (``assigned_at``): the day a decision was made."""
    return datetime.fromisoformat(value).date()
