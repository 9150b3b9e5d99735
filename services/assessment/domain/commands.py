"""Commands of the assessment service: imperative, carrying ``now``/``today`` and ids.

Facts owned by other services (the trainee's education, experience, certificates and mastered
series; who trained whom; who passed) come IN the command: the HTTP layer reads them from its
inbox, so the deciders stay pure.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from shared.policy import PolicyBook

from ..policy.grading import FinesPolicy, GradingPolicy
from .events import TraineeFacts
from .vocabulary import Disposition, DisputeOutcome


@dataclass(frozen=True)
class OpenExamSession:
    """For a product series or for a training ``content``: exactly one of the two (R-24)."""

    session_id: str
    product_series: str | None
    held_on: date
    opened_by: str
    today: date
    content: str | None = None


@dataclass(frozen=True)
class CloseExamSession:
    """``outcomes``: trainee id -> passed both exams, for every trainee assessed in the session.
    ``trainers``: trainee id -> the trainers who trained them on the session's product series, or
    who led a stage covering its content."""

    session_id: str
    today: date
    outcomes: Mapping[str, bool] = field(default_factory=dict)
    trainers: Mapping[str, Collection[str]] = field(default_factory=dict)
    fines: FinesPolicy | None = None  # R-24, in force on the day held; None: the shipped one


@dataclass(frozen=True)
class ScoreWritten:
    session_id: str
    trainee_id: str
    score: Decimal
    rater: str
    facts: TraineeFacts  # used when this score completes the assessment
    now: datetime
    grading: PolicyBook[GradingPolicy] | None = None  # the app's book; None: the shipped one


@dataclass(frozen=True)
class ScorePractical:
    session_id: str
    trainee_id: str
    department: str  # one of the policy's five practical departments
    score: Decimal
    rater: str
    facts: TraineeFacts
    now: datetime
    grading: PolicyBook[GradingPolicy] | None = None  # the app's book; None: the shipped one


@dataclass(frozen=True)
class DecideDisposition:
    session_id: str
    trainee_id: str
    outcome: Disposition
    reason: str
    decided_by: str
    today: date


@dataclass(frozen=True)
class CorrectGrade:
    """R-23: apply a dispute's corrected scores to the grade event ``supersedes``."""

    session_id: str
    trainee_id: str
    dispute_id: str
    supersedes: uuid.UUID
    written: Decimal | None
    practical: Mapping[str, Decimal] | None
    now: datetime
    grading: PolicyBook[GradingPolicy] | None = None  # the app's book; None: the shipped one


@dataclass(frozen=True)
class FileDispute:
    """``grade_event_id``/``session_id``: the trainee's current grade, None when there is none."""

    dispute_id: str
    trainee_id: str
    session_id: str | None
    grade_event_id: uuid.UUID | None
    reason: str
    filed_by: str
    today: date


@dataclass(frozen=True)
class ResolveDispute:
    dispute_id: str
    outcome: DisputeOutcome
    written: Decimal | None
    practical: Mapping[str, Decimal] | None
    resolved_by: str
    today: date
    grading: PolicyBook[GradingPolicy] | None = None  # the app's book; None: the shipped one


SessionCommand = OpenExamSession | CloseExamSession
AssessmentCommand = ScoreWritten | ScorePractical | DecideDisposition | CorrectGrade
DisputeCommand = FileDispute | ResolveDispute
