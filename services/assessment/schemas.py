"""Request bodies of the assessment routes, the models of what they answer (the OpenAPI
document's response schemas) and the JSON shapes those models are filled from.

Scores are JSON numbers or strings with at most one decimal, 0-100 (R-17); a bad one is a 422
naming ``body.score`` (or ``body.practical.<department>``). Decimals go out as exact strings.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from shared.events import Envelope, JsonDict
from shared.requests import NotBlank, RequestBody
from shared.requests import Score as AnyScore

from .domain.assessment import TraineeAssessment
from .domain.dispute import GradeDispute
from .domain.events import AssessmentFailed, GradeAssigned, TrainerPenaltyAssessed
from .domain.session import ExamSession
from .domain.vocabulary import Disposition, DisputeOutcome, ExamKind, Level, Position
from .policy.grading import GRADING

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"  # no "/": ids become stream ids and URL path segments


def exact(score: Decimal) -> Decimal:
    """The score as people write it: "95.50" -> 95.5, 1E+2 -> 100 (the value is unchanged)."""
    value = score.normalize()
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


Id = Annotated[str, Field(pattern=ID_PATTERN)]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
Score = Annotated[AnyScore, AfterValidator(exact)]
Reason = Annotated[str, Field(min_length=1, max_length=2000), NotBlank]
# The departments that score the practical exam in some version of the policy: what the
# OpenAPI offers. The decider checks the version in force, and its 422 cites R-16.
_PRACTICAL = WithJsonSchema(
    {
        "type": "string",
        "enum": list(dict.fromkeys(d for v in GRADING.versions for d in v.practical_departments)),
    }
)
PracticalDepartment = Annotated[str, _PRACTICAL]
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_8601(value: object) -> object:
    """Only ISO 8601 text: pydantic alone would also read ``0.5`` as seconds since 1970."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise PydanticCustomError("datetime_from_iso", "Input should be an ISO 8601 date-time")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601)]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


Subject = Annotated[str, Field(min_length=1, max_length=100), NotBlank]


class OpenSessionBody(Body):
    """R-24: a session for one product series or for one training content (exactly one)."""

    session_id: Id
    product_series: Subject | None = None
    content: Subject | None = Field(
        None, description="an R-7a content code or an R-8a mandatory topic, instead of a series"
    )
    held_on: date


class WrittenBody(Body):
    trainee_id: Id
    score: Score


class PracticalBody(Body):
    trainee_id: Id
    department: Annotated[str, Field(min_length=1, max_length=64), _PRACTICAL]
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
    practical: dict[PracticalDepartment, Score] | None = Field(default=None, max_length=10)


# --- answers: every field a route answers today, typed (decimals as exact strings) -----------


class Decision(BaseModel):
    """A grade decision as the score and dispute routes report it."""

    type: str
    session_id: str
    written: str
    practical: dict[str, str]
    practical_mean: str
    policy_version: str
    rule_trace: list[str]
    review_flags: list[str]
    supersedes: str | None
    dispute_id: str | None


class Graded(Decision):
    type: Literal["GradeAssigned"]
    position: Position | None  # None: passed, eligible for no position
    level: Level | None
    grade_score: str
    capped_by: list[str]
    assigned_at: datetime


class Failed(Decision):
    type: Literal["AssessmentFailed"]
    failed_exams: list[ExamKind]
    assessed_at: datetime


AnyDecision = Annotated[Graded | Failed, Field(discriminator="type")]


class SessionAnswer(BaseModel):
    session_id: str
    product_series: str | None
    content: str | None = None  # a content session's (R-7a code or R-8a topic)
    held_on: date | None
    status: Literal["open", "closed"]
    closed_on: date | None
    version: int


class PenaltyFigures(BaseModel):
    """R-24 for one trainer: ``trainees``/``failed`` count the ids beside them."""

    trainer_id: str
    session_id: str
    product_series: str | None
    content: str | None = None  # a content session's; product_series is None then
    trainees: int
    failed: int
    failure_rate: str
    fine: str
    trainee_ids: list[str]
    failed_ids: list[str]


class Penalty(PenaltyFigures):
    rule_trace: list[str]


class ClosedSessionAnswer(SessionAnswer):
    penalties: list[Penalty]


class SittingAnswer(BaseModel):
    """One trainee's sitting after a score: the scores so far and the decision once made."""

    session_id: str
    trainee_id: str
    written: str | None
    practical: dict[str, str]
    decision: AnyDecision | None
    version: int


class DispositionAnswer(BaseModel):
    trainee_id: str
    session_id: str
    outcome: Disposition
    reason: str
    decided_on: date
    version: int


class DisputeAnswer(BaseModel):
    dispute_id: str
    trainee_id: str | None
    session_id: str | None
    grade_event_id: str | None
    reason: str | None
    status: Literal["filed", "resolved"]
    outcome: DisputeOutcome | None
    version: int


class ResolvedDisputeAnswer(DisputeAnswer):
    grade: AnyDecision | None


class GradeAnswer(BaseModel):
    """``GET /trainees/{id}/grade``: the contract's fields, then what else the event recorded."""

    trainee_id: str
    position: Position
    level: Level | None
    grade_score: str
    policy_version: str
    rule_trace: list[str]
    assigned_at: datetime
    session_id: str
    written: str
    practical: dict[str, str]
    practical_mean: str
    capped_by: list[str]
    event_id: str
    supersedes: str | None
    dispute_id: str | None


class SessionPage(BaseModel):
    """``GET /sessions``: exam sessions by id."""

    items: list[SessionAnswer]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class DisputedGrade(BaseModel):
    """The decision a dispute is about, as recorded (the scores a correction starts from)."""

    type: str
    written: str
    practical: dict[str, str]
    position: Position | None = None
    level: Level | None = None
    grade_score: str | None = None
    rule_trace: list[str]


class DisputeRow(DisputeAnswer):
    """A dispute of ``GET /disputes``: its aggregate's fields, who filed it when, the trainee's
    branch and name, and the grade disputed."""

    branch_id: str | None
    trainee_name: str = Field(description="the trainee's name; its id until its enrolment")
    filed_on: date
    disputed: DisputedGrade | None


class DisputePage(BaseModel):
    items: list[DisputeRow]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class SittingRow(BaseModel):
    """One trainee of an exam session: the scores so far and the decision once made."""

    trainee_id: str
    trainee_name: str = Field(description="the trainee's name; its id until its enrolment")
    branch_id: str | None
    written: str | None
    practical: dict[str, str]
    decision: AnyDecision | None
    version: int


class SessionSittings(BaseModel):
    """``GET /sessions/{id}/sittings``: the scoring grid, one row per trainee the session
    examines (its approved plan covers the session's series, or it was scored there)."""

    session: SessionAnswer
    practical_departments: list[str] = Field(description="R-16: the policy in force's order")
    rows: list[SittingRow]


class GradeCell(BaseModel):
    branch_id: str | None
    branch_name_zh: str | None = Field(description="the branch's Chinese name; its id until known")
    branch_name_en: str | None = Field(description="the branch's English name; its id until known")
    position: Position
    level: Level | None
    count: int
    trainee_ids: list[str] | None = Field(
        description="every trainee of the cell, in id order, when the board lists them "
        "(``trainee_ids_inline``); null otherwise: page through ``trainees``. Never cut short."
    )
    trainees: str | None = Field(
        description="the cell's drill-down, GET /board/grades/{branch_id}/{position}/{level} "
        "(with the board's as_of); null for a cell without a branch or level"
    )


class GradeBoard(BaseModel):
    as_of: datetime
    trainee_ids_inline: bool = Field(
        description="true: each row lists all its trainee ids (asked with ?trainee_ids=true, or "
        "the board holds at most GRADELINE_BOARD_INLINE_TRAINEES trainees); false: counts only"
    )
    rows: list[GradeCell]


class CellTrainee(BaseModel):
    trainee_id: str


class GradeCellPage(BaseModel):
    """One page of the trainees behind a cell of the grade board, in id order."""

    as_of: datetime
    branch_id: str
    position: Position
    level: Level
    items: list[CellTrainee]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class TrainerRow(PenaltyFigures):
    trainer_name: str = Field(description="the trainer's name; its id until its registration")
    demerits: int  # R-13, the trainer's in every session
    retraining: list[str] = Field(
        description="R-24: of failed_ids, those the fined trainer keeps training until they pass"
    )
    policy_version: str
    assessed_on: date


class TrainerBoard(BaseModel):
    rows: list[TrainerRow]
    next_cursor: str | None = Field(
        default=None, description="with ?limit=: the cursor of the next page (null: the last)"
    )


class Actor(BaseModel):
    sub: str
    role: str


class AuditEvent(BaseModel):
    """An event of the audit's timeline; ``received_at`` for an upstream one."""

    service: str
    type: str
    occurred_at: datetime
    actor: Actor
    data: dict[str, Any]
    event_id: str
    stream_id: str
    version: int
    branch_id: str | None
    recorded_at: datetime
    received_at: datetime | None


class AuditDerivation(BaseModel):
    """A recorded decision beside the one its inputs derive again (R-22)."""

    event_id: str
    type: str
    policy_version: str
    recorded: dict[str, Any] | None
    rederived: dict[str, Any] | None
    rule_trace: list[str]
    consistent: bool
    differences: list[str]
    problem: str | None


class AuditDifference(BaseModel):
    """One finding; each kind carries its own keys (the answer omits the others)."""

    kind: Literal["tampering", "undecodable", "derivation"]
    event_id: str | None = None
    service: str | None = None
    stream_id: str | None = None
    version: int | None = None
    field: str | None = None
    detail: str | None = None
    recorded: Any = None
    rederived: Any = None


class AuditReport(BaseModel):
    trainee_id: str
    consistent: bool
    events: list[AuditEvent]
    derivations: list[AuditDerivation]
    differences: list[AuditDifference]


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
        "trainee_id": d["trainee_id"],
        "position": d["position"],
        "level": d["level"],
        "grade_score": d["grade_score"],
        "policy_version": d["policy_version"],
        "rule_trace": d["rule_trace"],
        "assigned_at": d["assigned_at"],
        "session_id": d["session_id"],
        "written": d["written"],
        "practical": d["practical"],
        "practical_mean": d["practical_mean"],
        "capped_by": d.get("capped_by", []),
        "event_id": str(envelope.event_id),
        "supersedes": d.get("supersedes"),
        "dispute_id": d.get("dispute_id"),
    }


def session_json(session_id: str, state: ExamSession, version: int) -> JsonDict:
    opened, closed = state.opened, state.closed
    return {
        "session_id": session_id,
        "product_series": opened.product_series if opened else None,
        "content": opened.content if opened else None,
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
        "trainer_id": p.trainer_id,
        "session_id": p.session_id,
        "product_series": p.product_series,
        "content": p.content,
        "trainees": len(p.trainees),
        "failed": len(p.failed),
        "failure_rate": str(p.failure_rate),
        "fine": money(p.fine),
        "trainee_ids": p.trainees,
        "failed_ids": p.failed,
        "rule_trace": p.rule_trace,
    }
