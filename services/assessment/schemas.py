"""Request bodies of the assessment routes and the JSON shapes of what they answer.

Scores are JSON numbers or strings with at most one decimal, 0-100 (R-17); a bad one is a 422
naming ``body.score`` (or ``body.practical.<department>``). Decimals go out as exact strings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, Field

from shared.events import Envelope
from shared.requests import RequestBody

from .domain.assessment import TraineeAssessment
from .domain.dispute import GradeDispute
from .domain.events import AssessmentFailed, GradeAssigned, TrainerPenaltyAssessed
from .domain.session import ExamSession
from .domain.vocabulary import Disposition, DisputeOutcome

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"  # no "/": ids become stream ids and URL path segments
JsonDict = dict[str, Any]


def exact(score: Decimal) -> Decimal:
    """The score as people write it: "95.50" -> 95.5, 1E+2 -> 100 (the value is unchanged)."""
    value = score.normalize()
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


Id = Annotated[str, Field(pattern=ID_PATTERN)]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
Score = Annotated[Decimal, Field(ge=0, le=100, decimal_places=1), AfterValidator(exact)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


class OpenSessionBody(Body):
    session_id: Id
    product_series: str = Field(min_length=1, max_length=100)
    held_on: date


class WrittenBody(Body):
    trainee_id: Id
    score: Score


class PracticalBody(Body):
    trainee_id: Id
    department: str = Field(min_length=1, max_length=64)
    score: Score


class DispositionBody(Body):
    outcome: Disposition
    reason: Reason
    session_id: Id | None = None  # default: the sitting of the trainee's latest decision


class EmptyBody(Body):
    pass


class DisputeBody(Body):
    reason: Reason


class ResolveBody(Body):
    outcome: DisputeOutcome
    written: Score | None = None
    practical: dict[str, Score] | None = Field(default=None, max_length=10)


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def decision_json(decision: GradeAssigned | AssessmentFailed | None) -> JsonDict | None:
    """A grade decision as the score and dispute routes report it."""
    if decision is None:
        return None
    common = {
        "type": decision.event_type,
        "session_id": decision.session_id,
        "written": str(decision.written),
        "practical": {d.value: str(s) for d, s in decision.practical.items()},
        "practical_mean": str(decision.practical_mean),
        "policy_version": decision.policy_version,
        "rule_trace": decision.rule_trace,
        "review_flags": decision.review_flags,
        "supersedes": None if decision.supersedes is None else str(decision.supersedes),
        "dispute_id": decision.dispute_id,
    }
    if isinstance(decision, AssessmentFailed):
        return {
            **common,
            "failed_exams": decision.failed_exams,
            "assessed_at": decision.assessed_at,
        }
    return {
        **common,
        "position": decision.position,
        "level": decision.level,
        "grade_score": str(decision.grade_score),
        "capped_by": decision.capped_by,
        "assigned_at": decision.assigned_at,
    }


def grade_json(envelope: Envelope) -> JsonDict:
    """``GET /trainees/{id}/grade``: the contract's fields, then what else the event recorded."""
    d = envelope.data
    return {
        "trainee_id": d["trainee_id"], "position": d["position"], "level": d["level"],
        "grade_score": d["grade_score"], "policy_version": d["policy_version"],
        "rule_trace": d["rule_trace"], "assigned_at": d["assigned_at"],
        "session_id": d["session_id"], "written": d["written"], "practical": d["practical"],
        "practical_mean": d["practical_mean"], "capped_by": d.get("capped_by", []),
        "event_id": str(envelope.event_id), "supersedes": d.get("supersedes"),
        "dispute_id": d.get("dispute_id"),
    }  # fmt: skip


def session_json(session_id: str, state: ExamSession, version: int) -> JsonDict:
    opened, closed = state.opened, state.closed
    return {
        "session_id": session_id,
        "product_series": opened.product_series if opened else None,
        "held_on": opened.held_on if opened else None,
        "status": "closed" if closed else "open",
        "closed_on": closed.closed_on if closed else None,
        "version": version,
    }


def sitting_json(
    session_id: str, trainee_id: str, state: TraineeAssessment, version: int
) -> JsonDict:
    """One trainee's sitting after a score: the scores so far and the decision once made."""
    return {
        "session_id": session_id,
        "trainee_id": trainee_id,
        "written": None if state.written is None else str(state.written),
        "practical": {d.value: str(s) for d, s in state.practical.items()},
        "decision": decision_json(state.decision),
        "version": version,
    }


def dispute_json(dispute_id: str, state: GradeDispute, version: int) -> JsonDict:
    filed, resolution = state.filed, state.resolution
    return {
        "dispute_id": dispute_id,
        "trainee_id": filed.trainee_id if filed else None,
        "session_id": filed.session_id if filed else None,
        "grade_event_id": str(filed.grade_event_id) if filed else None,
        "reason": filed.reason if filed else None,
        "status": "resolved" if resolution else "filed",
        "outcome": resolution.outcome if resolution else None,
        "version": version,
    }


def penalty_json(p: TrainerPenaltyAssessed) -> JsonDict:
    return {
        "trainer_id": p.trainer_id, "session_id": p.session_id,
        "product_series": p.product_series, "trainees": len(p.trainees), "failed": len(p.failed),
        "failure_rate": str(p.failure_rate), "fine": money(p.fine), "trainee_ids": p.trainees,
        "failed_ids": p.failed, "rule_trace": p.rule_trace,
    }  # fmt: skip
