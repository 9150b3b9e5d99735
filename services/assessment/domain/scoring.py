"""Checks on scores (R-16, R-17) and the grade decision as an event (R-18, R-20 to R-22). Pure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.decider import InvalidCommand

from ..policy.grading import GradingInputs, GradingPolicy, grade
from .events import AssessmentFailed, GradeAssigned, TraineeFacts
from .vocabulary import Department

MAX_SCORE = Decimal(100)
ONE_DECIMAL = Decimal("0.1")


def check_score(field: str, score: Decimal) -> Decimal:
    """R-17: a score is 0-100 with at most one decimal place."""
    if not score.is_finite() or not Decimal(0) <= score <= MAX_SCORE:
        raise InvalidCommand(field, f"{score} is outside 0-100", "R-17")
    if score != score.quantize(ONE_DECIMAL):
        raise InvalidCommand(field, f"{score} has more than one decimal place", "R-17")
    return score


def check_department(field: str, value: str, policy: GradingPolicy) -> Department:
    """R-16: only the policy's practical departments score the practical exam."""
    allowed = policy.practical_departments
    if value not in {d.value for d in allowed}:
        names = ", ".join(allowed)
        raise InvalidCommand(
            field, f"{value!r} is not one of the practical departments {names}", "R-16"
        )
    return Department(value)


def check_practical(
    field: str, scores: Mapping[str, Decimal], policy: GradingPolicy
) -> dict[Department, Decimal]:
    return {
        check_department(field, name, policy): check_score(field, score)
        for name, score in scores.items()
    }


def grading_inputs(
    written: Decimal, practical: Mapping[Department, Decimal], facts: TraineeFacts
) -> GradingInputs:
    """What a grade is decided on (R-22): the scores and the facts the decision records."""
    return GradingInputs(
        written=written,
        practical=dict(practical),
        education=facts.education,
        experience_years=facts.experience_years,
        certificate_count=facts.certificate_count,
        mastered_series=tuple(facts.mastered_series),
    )


def decision(
    *,
    trainee_id: str,
    session_id: str,
    written: Decimal,
    practical: Mapping[Department, Decimal],
    facts: TraineeFacts,
    policy: GradingPolicy,
    now: datetime,
    supersedes: uuid.UUID | None = None,
    dispute_id: str | None = None,
) -> GradeAssigned | AssessmentFailed:
    """The decision on complete scores: ``GradeAssigned`` if both exams pass, else failed."""
    result = grade(grading_inputs(written, practical, facts), policy)
    # What a pass and a fail both record; each adds its own outcome and time.
    recorded: dict[str, Any] = {
        "trainee_id": trainee_id,
        "session_id": session_id,
        "written": written,
        "practical": {d: practical[d] for d in policy.practical_departments},
        "practical_mean": result.practical_mean,
        "policy_version": result.policy_version,
        "rule_trace": result.rule_trace,
        "review_flags": result.review_flags,
        "supersedes": supersedes,
        "dispute_id": dispute_id,
    }
    if not result.passed:
        return AssessmentFailed(**recorded, failed_exams=result.failed_exams, assessed_at=now)
    assert result.grade_score is not None  # passed implies a grade score
    return GradeAssigned(
        **recorded,
        position=result.position,
        level=result.level,
        grade_score=result.grade_score,
        facts=facts,
        capped_by=result.capped_by,
        assigned_at=now,
    )
