"""The TraineeAssessment aggregate: one trainee's final assessment in one exam session. Pure.

Stream ``assessment-<session_id>/<trainee_id>``: one stream per sitting, not per trainee, because
every invariant here belongs to one sitting (one written score, one practical score per
department, one decision when the sixth score arrives, one disposition per failure, corrections
of that sitting's grade). A retake in a later session starts a fresh stream with nothing to carry
over, and the trainee's current grade across sittings is a read model (the latest grade not
superseded). The ``/`` cannot occur in an id that travels as a URL path segment, so no two
(session, trainee) pairs share a stream, as ``s-1`` + ``t`` and ``s`` + ``1-t`` would with ``-``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from shared.decider import Conflict, Decider, InvalidCommand, NotFound, RuleViolation, required_text
from shared.events import Event

from ..policy.grading import GRADING, GradingPolicy
from .commands import (
    AssessmentCommand,
    CorrectGrade,
    DecideDisposition,
    ScorePractical,
    ScoreWritten,
)
from .dispute import regrade
from .events import (
    AssessmentFailed,
    DispositionDecided,
    ExamScored,
    GradeAssigned,
    TraineeFacts,
)
from .scoring import check_department, check_practical, check_score, decision
from .vocabulary import Department, ExamKind


def stream_id(session_id: str, trainee_id: str) -> str:
    return f"assessment-{session_id}/{trainee_id}"


@dataclass(frozen=True)
class TraineeAssessment:
    session_id: str | None = None
    trainee_id: str | None = None
    written: Decimal | None = None
    practical: Mapping[Department, Decimal] = field(default_factory=dict)
    decision: GradeAssigned | AssessmentFailed | None = None  # the latest (a correction replaces)
    disposition: DispositionDecided | None = None
    corrected_by: frozenset[str] = frozenset()  # disputes already applied

    @property
    def started(self) -> bool:
        return self.trainee_id is not None

    @property
    def grade(self) -> GradeAssigned | None:
        return self.decision if isinstance(self.decision, GradeAssigned) else None

    @property
    def failed(self) -> bool:
        return isinstance(self.decision, AssessmentFailed)


def initial() -> TraineeAssessment:
    return TraineeAssessment()


def evolve(state: TraineeAssessment, event: Event) -> TraineeAssessment:
    match event:
        case ExamScored(kind=ExamKind.WRITTEN):
            return replace(_started(state, event), written=event.score)
        case ExamScored(department=Department() as department):
            practical = {**state.practical, department: event.score}
            return replace(_started(state, event), practical=practical)
        case GradeAssigned() | AssessmentFailed():
            applied = state.corrected_by | ({event.dispute_id} if event.dispute_id else set())
            return replace(
                state,
                written=event.written,
                practical=dict(event.practical),
                decision=event,
                corrected_by=applied,
            )
        case DispositionDecided():
            return replace(state, disposition=event)
    return state


def _started(state: TraineeAssessment, event: ExamScored) -> TraineeAssessment:
    return replace(state, session_id=event.session_id, trainee_id=event.trainee_id)


def decide(command: AssessmentCommand, state: TraineeAssessment) -> list[Event]:
    match command:
        case ScoreWritten():
            return _score_written(command, state)
        case ScorePractical():
            return _score_practical(command, state)
        case DecideDisposition():
            return [_dispose(command, state)]
        case CorrectGrade():
            return [_correct(command, state)]
    raise TypeError(f"unknown command {command!r}")


TRAINEE_ASSESSMENT = Decider(initial, evolve, decide)


def _score_written(c: ScoreWritten, state: TraineeAssessment) -> list[Event]:
    score = check_score("score", c.score)
    if state.written is not None:
        raise Conflict(f"trainee {c.trainee_id} already has a written score in {c.session_id}")
    return _scored(c, state, ExamKind.WRITTEN, None, score)


def _score_practical(c: ScorePractical, state: TraineeAssessment) -> list[Event]:
    policy = (c.grading or GRADING).in_force(c.now.date())
    score = check_score("score", c.score)
    department = check_department("department", c.department, policy)
    if department in state.practical:
        raise Conflict(
            f"trainee {c.trainee_id} already has a {department} practical score in {c.session_id}"
        )
    return _scored(c, state, ExamKind.PRACTICAL, department, score)


def _scored(
    c: ScoreWritten | ScorePractical,
    state: TraineeAssessment,
    kind: ExamKind,
    department: Department | None,
    score: Decimal,
) -> list[Event]:
    """The score, and the decision when it is the last one missing."""
    scored = ExamScored(
        session_id=c.session_id,
        trainee_id=c.trainee_id,
        kind=kind,
        department=department,
        score=score,
        rater=c.rater,
        scored_at=c.now,
    )
    policy = (c.grading or GRADING).in_force(c.now.date())
    return [scored, *_decide_if_complete(evolve(state, scored), c.facts, c.now, policy)]


def _decide_if_complete(
    state: TraineeAssessment, facts: TraineeFacts, now: datetime, policy: GradingPolicy
) -> list[GradeAssigned | AssessmentFailed]:
    """When the written score and every practical department's are in: grade (R-18, R-20, R-21)
    with the policy in force on the day of the completing score."""
    missing = set(policy.practical_departments) - set(state.practical)
    if state.written is None or missing or state.decision is not None:
        return []
    assert state.session_id is not None and state.trainee_id is not None
    return [
        decision(
            trainee_id=state.trainee_id,
            session_id=state.session_id,
            written=state.written,
            practical=state.practical,
            facts=facts,
            policy=policy,
            now=now,
        )
    ]


def _dispose(c: DecideDisposition, state: TraineeAssessment) -> DispositionDecided:
    if not state.started:
        raise NotFound(f"trainee {c.trainee_id} has no assessment in session {c.session_id}")
    if not state.failed:
        status = "was graded" if state.grade is not None else "has not been assessed yet"
        raise RuleViolation("R-18", f"only a failed trainee gets a disposition; this one {status}")
    if state.disposition is not None:
        raise Conflict(f"a disposition was already decided: {state.disposition.outcome}")
    return DispositionDecided(
        trainee_id=c.trainee_id,
        session_id=c.session_id,
        outcome=c.outcome,
        reason=required_text(
            "reason", c.reason, "R-18", "must not be empty: after-sales analyses the cause"
        ),
        decided_on=c.today,
        decided_by=c.decided_by,
    )


def _correct(c: CorrectGrade, state: TraineeAssessment) -> GradeAssigned | AssessmentFailed:
    if not state.started:
        raise NotFound(f"trainee {c.trainee_id} has no assessment in session {c.session_id}")
    disputed = state.grade
    if disputed is None:
        raise RuleViolation("R-23", "no grade to correct")
    if c.dispute_id in state.corrected_by:
        raise Conflict(f"dispute {c.dispute_id} was already applied")
    policy = (c.grading or GRADING).named(disputed.policy_version)
    written = None if c.written is None else check_score("written", c.written)
    practical = check_practical("practical", c.practical or {}, policy)
    if written is None and not practical:
        raise InvalidCommand("written", "a correction needs a written or practical score", "R-23")
    return regrade(
        disputed,
        supersedes=c.supersedes,
        dispute_id=c.dispute_id,
        written=written,
        practical=practical,
        now=c.now,
        policy=policy,
    )
