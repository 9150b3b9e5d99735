"""Events of the assessment service (published as ``assessment.<EventType>``).

Grade decisions (``GradeAssigned``, ``AssessmentFailed``) record every input, the policy version
and the rule trace (R-22): replaying ``grade`` on the recorded inputs with the named policy version
re-derives them exactly. A correction is a new decision that names the one it ``supersedes``
(R-23); nothing is edited in place.

Personal data (docs/privacy.md): the free texts people write about a trainee (a disposition's
reason, a dispute's reason) are sealed with the trainee's key. Grades, scores, facts and ids stay
in clear: grading and the audit never need a key. A grade records how many certificates the
trainee holds, not their names (``GradeAssigned`` v2).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from shared.events import Event, EventRegistry, JsonDict
from shared.personal import PERSONAL
from shared.policy_events import PolicyPublished

from .vocabulary import (
    Department,
    Disposition,
    DisputeOutcome,
    Education,
    ExamKind,
    Level,
    Position,
)

registry = EventRegistry()
# A version of a policy this service applies, stream ``policy-<name>`` (shared.policy_store).
registry.register(PolicyPublished)


class TraineeFacts(BaseModel):
    """R-21 inputs about the trainee, as the assessment service knew them when it graded (R-22)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    education: Education
    experience_years: Decimal
    certificate_count: int  # distinct certificates held; their names are not kept here
    mastered_series: list[str]


def certificate_count(data: Any) -> int:
    """How many distinct certificates an enrolment (``TraineeEnrolled``, or v1 recorded facts)
    names: ``certificate_count`` when the producer wrote it (v2), else the clear list of v1.

    Never the sealed list: once its subject is erased it reads as one marker."""
    count = data.get("certificate_count")
    if count is not None:
        return int(count)
    certificates = data.get("certificates") or []
    return len(set(map(str, certificates))) if isinstance(certificates, list) else 0


@registry.register
class ExamSessionOpened(Event):
    """A session for one product series or for one training content (R-7a code or R-8a topic):
    exactly one of the two is set (R-24)."""

    event_type = "ExamSessionOpened"
    session_id: str
    product_series: str | None = None
    held_on: date
    opened_by: str
    content: str | None = None


@registry.register
class ExamScored(Event):
    """R-15 (written, no department) or R-16 (practical, one of the five departments)."""

    event_type = "ExamScored"
    session_id: str
    trainee_id: str
    kind: ExamKind
    department: Department | None
    score: Decimal
    rater: str
    scored_at: datetime


@registry.register
class GradeAssigned(Event):
    """R-20/R-21: the grade of a trainee who passed both exams.

    ``position`` and ``level`` are None when the trainee passed but meets no position's
    eligibility (R-21: no grade, stays reserve); ``capped_by`` names the failed conditions.
    ``supersedes`` is the event id of the grade a dispute correction replaces (R-23).
    """

    event_type = "GradeAssigned"
    schema_version = 2  # 2: the facts hold the certificates' count, not their names
    trainee_id: str
    session_id: str
    position: Position | None
    level: Level | None
    grade_score: Decimal
    written: Decimal
    practical: dict[Department, Decimal]
    practical_mean: Decimal
    facts: TraineeFacts
    capped_by: list[str]
    policy_version: str
    rule_trace: list[str]
    review_flags: list[str]
    assigned_at: datetime
    supersedes: uuid.UUID | None = None
    dispute_id: str | None = None


@registry.upcaster("GradeAssigned", 1)
def _certificates_counted(data: JsonDict) -> JsonDict:
    """v1 recorded the certificates' names: the count is what R-21 decided on (distinct ones)."""
    facts = dict(data["facts"])
    facts["certificate_count"] = certificate_count(facts)
    facts.pop("certificates", None)
    return {**data, "facts": facts}


@registry.register
class AssessmentFailed(Event):
    """R-18: an exam failed; no grade, and after-sales must decide a disposition."""

    event_type = "AssessmentFailed"
    trainee_id: str
    session_id: str
    failed_exams: list[ExamKind]
    written: Decimal
    practical: dict[Department, Decimal]
    practical_mean: Decimal
    policy_version: str
    rule_trace: list[str]
    review_flags: list[str]
    assessed_at: datetime
    supersedes: uuid.UUID | None = None  # a dispute correction that turned a grade into a failure
    dispute_id: str | None = None


@registry.register
class DispositionDecided(Event):
    """R-18 (and R-19 from ``decided_on`` for a commissioned trainee kept in training)."""

    event_type = "DispositionDecided"
    data_subject = "trainee_id"
    trainee_id: str
    session_id: str
    outcome: Disposition
    reason: Annotated[str, PERSONAL]
    decided_on: date
    decided_by: str


@registry.register
class ExamSessionClosed(Event):
    event_type = "ExamSessionClosed"
    session_id: str
    closed_on: date


@registry.register
class TrainerPenaltyAssessed(Event):
    """R-24: one trainer, one session, its product series or its ``content`` (the other None);
    ``fine`` is 0 below the lowest tier. A fined trainer keeps training the ``failed`` until they
    pass (the retraining read model, ``retraining.py``)."""

    event_type = "TrainerPenaltyAssessed"
    session_id: str
    trainer_id: str
    product_series: str | None
    trainees: list[str]
    failed: list[str]
    failure_rate: Decimal
    fine: Decimal  # yuan
    policy_version: str
    rule_trace: list[str]
    assessed_on: date  # the month the fine appears in
    content: str | None = None


@registry.register
class GradeDisputed(Event):
    """R-23: a dispute against one grade decision (``grade_event_id``)."""

    event_type = "GradeDisputed"
    data_subject = "trainee_id"
    dispute_id: str
    trainee_id: str
    session_id: str
    grade_event_id: uuid.UUID
    reason: Annotated[str, PERSONAL]
    filed_by: str
    filed_on: date


@registry.register
class GradeDisputeResolved(Event):
    """R-23: upheld, or corrected with the scores that replace the disputed ones."""

    event_type = "GradeDisputeResolved"
    dispute_id: str
    trainee_id: str
    session_id: str
    outcome: DisputeOutcome
    written: Decimal | None
    practical: dict[Department, Decimal] | None
    resolved_by: str
    resolved_on: date
