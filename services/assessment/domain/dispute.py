"""The GradeDispute aggregate (R-23), stream ``dispute-<dispute_id>``, and :func:`regrade`.

A dispute records the review only: filed against one grade event, resolved once (upheld, or
corrected with new scores). The corrected grade is a new decision on the trainee's assessment
stream (``CorrectGrade``), made by :func:`regrade`; nothing is edited in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from shared.decider import Conflict, Decider, InvalidCommand, NotFound, RuleViolation, required_text
from shared.events import Event

from ..policy.grading import GRADING, GradingPolicy
from .commands import DisputeCommand, FileDispute, ResolveDispute
from .events import AssessmentFailed, GradeAssigned, GradeDisputed, GradeDisputeResolved
from .scoring import check_practical, check_score, decision
from .vocabulary import Department, DisputeOutcome


def stream_id(dispute_id: str) -> str:
    return f"dispute-{dispute_id}"


@dataclass(frozen=True)
class GradeDispute:
    filed: GradeDisputed | None = None
    resolution: GradeDisputeResolved | None = None


def initial() -> GradeDispute:
    return GradeDispute()


def evolve(state: GradeDispute, event: Event) -> GradeDispute:
    match event:
        case GradeDisputed():
            return replace(state, filed=event)
        case GradeDisputeResolved():
            return replace(state, resolution=event)
    return state


def decide(command: DisputeCommand, state: GradeDispute) -> list[Event]:
    match command:
        case FileDispute():
            return [_file(command, state)]
        case ResolveDispute():
            return [_resolve(command, state)]
    raise TypeError(f"unknown command {command!r}")


GRADE_DISPUTE = Decider(initial, evolve, decide)


def _file(c: FileDispute, state: GradeDispute) -> GradeDisputed:
    if state.filed is not None:
        raise Conflict(f"dispute {c.dispute_id} is already filed")
    if c.grade_event_id is None or c.session_id is None:
        raise RuleViolation("R-23", f"no grade to dispute for trainee {c.trainee_id}")
    return GradeDisputed(
        dispute_id=c.dispute_id,
        trainee_id=c.trainee_id,
        session_id=c.session_id,
        grade_event_id=c.grade_event_id,
        reason=required_text("reason", c.reason, "R-23"),
        filed_by=c.filed_by,
        filed_on=c.today,
    )


def _resolve(c: ResolveDispute, state: GradeDispute) -> GradeDisputeResolved:
    if state.filed is None:
        raise NotFound(f"no dispute {c.dispute_id}")
    if state.resolution is not None:
        raise Conflict(f"dispute {c.dispute_id} is already resolved ({state.resolution.outcome})")
    written, practical = _corrections(c, (c.grading or GRADING).in_force(c.today))
    return GradeDisputeResolved(
        dispute_id=c.dispute_id,
        trainee_id=state.filed.trainee_id,
        session_id=state.filed.session_id,
        outcome=c.outcome,
        written=written,
        practical=practical,
        resolved_by=c.resolved_by,
        resolved_on=c.today,
    )


def _corrections(
    c: ResolveDispute, policy: GradingPolicy
) -> tuple[Decimal | None, dict[Department, Decimal] | None]:
    """Upheld keeps the scores; corrected names at least one replacement score (R-17 checked)."""
    if c.outcome is DisputeOutcome.UPHELD:
        if c.written is not None or c.practical:
            field = "written" if c.written is not None else "practical"
            raise InvalidCommand(field, "an upheld grade keeps its scores", "R-23")
        return None, None
    if c.written is None and not c.practical:
        raise InvalidCommand("written", "a correction needs a written or practical score", "R-23")
    written = None if c.written is None else check_score("written", c.written)
    practical = check_practical("practical", c.practical, policy) if c.practical else None
    return written, practical


def regrade(
    disputed: GradeAssigned,
    *,
    supersedes: uuid.UUID,
    dispute_id: str,
    written: Decimal | None,
    practical: Mapping[Department, Decimal] | None,
    now: datetime,
    policy: GradingPolicy | None = None,
) -> GradeAssigned | AssessmentFailed:
    """R-23: the disputed decision re-run on corrected scores, as a new event that supersedes it.

    The trainee facts and the policy version are the disputed grade's own (a review corrects
    scores, not the rules or the facts they were applied to); scores not corrected are kept. A
    correction below a pass mark gives ``AssessmentFailed`` (then a disposition is due, R-18).
    """
    return decision(
        trainee_id=disputed.trainee_id,
        session_id=disputed.session_id,
        written=disputed.written if written is None else written,
        practical={**disputed.practical, **(practical or {})},
        facts=disputed.facts,
        policy=policy or GRADING.named(disputed.policy_version),
        now=now,
        supersedes=supersedes,
        dispute_id=dispute_id,
    )
