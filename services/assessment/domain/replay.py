"""R-22 audit: re-derive every grade decision of a sitting from its recorded history. Pure.

A sitting's events are folded in order. At each decision the deciders run again on what the
replay knows at that point, under the policy version the decision recorded:

- a first decision: the scores the ``ExamScored`` events gave, the facts the decision recorded
  (a failure records none and does not depend on them: the facts the inbox replay gives stand in);
- a correction (R-23): the decision it replaced, regraded with the scores of its dispute's
  resolution, superseding the event that was current.

The re-derived event is compared field by field with the recorded one; any field that differs
is named. A decision that cannot be re-derived at all (scores missing, unknown policy version,
no corrected resolution) says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.decider import InvalidCommand
from shared.events import Event
from shared.policy import PolicyBook, UnknownPolicyVersion

from ..policy.grading import GRADING, GradingPolicy
from .assessment import TRAINEE_ASSESSMENT, TraineeAssessment
from .dispute import regrade
from .events import AssessmentFailed, GradeAssigned, GradeDisputeResolved, TraineeFacts
from .scoring import decision
from .vocabulary import DisputeOutcome, Education

Decision = GradeAssigned | AssessmentFailed
# Stands in for the facts of a failure when the inbox replay has none: a failure ignores them.
NO_FACTS = TraineeFacts(
    education=Education.JUNIOR_HIGH,
    experience_years=Decimal(0),
    certificate_count=0,
    mastered_series=[],
)


class NotDerivable(Exception):
    """The replay cannot re-run this decision; the message says why."""


@dataclass(frozen=True)
class Derivation:
    event_id: uuid.UUID
    recorded: Decision
    rederived: Decision | None
    differences: list[str] = field(
        default_factory=list
    )  # field names; "type" when the kind differs
    problem: str | None = None

    @property
    def consistent(self) -> bool:
        return not self.differences and self.problem is None


def rederive(
    events: Sequence[tuple[uuid.UUID, Event]],
    resolutions: Mapping[str, GradeDisputeResolved],
    replayed_facts: Mapping[uuid.UUID, TraineeFacts | None] | None = None,
    grading: PolicyBook[GradingPolicy] = GRADING,
) -> list[Derivation]:
    """Every decision of one sitting (its events in stream order), re-derived and compared,
    each under the version it recorded, looked up in ``grading`` (the app's book)."""
    state = TRAINEE_ASSESSMENT.initial()
    current: uuid.UUID | None = None  # the event id of the decision in force
    found: list[Derivation] = []
    for event_id, event in events:
        if isinstance(event, GradeAssigned | AssessmentFailed):
            facts = (replayed_facts or {}).get(event_id)
            found.append(_derivation(state, current, event_id, event, resolutions, facts, grading))
            current = event_id
        state = TRAINEE_ASSESSMENT.evolve(state, event)
    return found


def _derivation(
    state: TraineeAssessment,
    current: uuid.UUID | None,
    event_id: uuid.UUID,
    recorded: Decision,
    resolutions: Mapping[str, GradeDisputeResolved],
    facts: TraineeFacts | None,
    grading: PolicyBook[GradingPolicy],
) -> Derivation:
    try:
        if recorded.dispute_id is None:
            again = _first(state, recorded, facts, grading)
        else:
            again = _correction(state, current, recorded, resolutions, grading)
    except (NotDerivable, UnknownPolicyVersion, InvalidCommand, ValueError, ArithmeticError) as exc:
        return Derivation(event_id, recorded, None, problem=str(exc))
    return Derivation(event_id, recorded, again, compare(recorded, again))


def _first(
    state: TraineeAssessment,
    recorded: Decision,
    facts: TraineeFacts | None,
    grading: PolicyBook[GradingPolicy],
) -> Decision:
    if state.written is None or state.trainee_id is None or state.session_id is None:
        raise NotDerivable("no written score was recorded before this decision")
    policy = grading.named(recorded.policy_version)
    missing = set(policy.practical_departments) - set(state.practical)
    if missing:
        raise NotDerivable(f"practical scores missing before this decision: {sorted(missing)}")
    return decision(
        trainee_id=state.trainee_id,
        session_id=state.session_id,
        written=state.written,
        practical=state.practical,
        facts=recorded.facts if isinstance(recorded, GradeAssigned) else facts or NO_FACTS,
        policy=policy,
        now=_decided_at(recorded),
    )


def _correction(
    state: TraineeAssessment,
    current: uuid.UUID | None,
    recorded: Decision,
    resolutions: Mapping[str, GradeDisputeResolved],
    grading: PolicyBook[GradingPolicy],
) -> Decision:
    disputed = state.grade
    if disputed is None or current is None:
        raise NotDerivable("a correction without a grade before it")
    assert recorded.dispute_id is not None
    resolution = resolutions.get(recorded.dispute_id)
    if resolution is None or resolution.outcome is not DisputeOutcome.CORRECTED:
        raise NotDerivable(f"dispute {recorded.dispute_id} has no corrected resolution")
    return regrade(
        disputed,
        supersedes=current,
        dispute_id=recorded.dispute_id,
        written=resolution.written,
        practical=resolution.practical,
        now=_decided_at(recorded),
        policy=grading.named(disputed.policy_version),
    )


def _decided_at(recorded: Decision) -> Any:
    return recorded.assigned_at if isinstance(recorded, GradeAssigned) else recorded.assessed_at


def compare(recorded: Decision, rederived: Decision) -> list[str]:
    """The fields whose recorded and re-derived values differ (as JSON, so "96" equals 96.0)."""
    left, right = _comparable(recorded), _comparable(rederived)
    names = [
        k for k in (*left, *(k for k in right if k not in left)) if left.get(k) != right.get(k)
    ]
    return (["type"] if type(recorded) is not type(rederived) else []) + names


def _comparable(event: Decision) -> dict[str, Any]:
    dumped = event.model_dump(mode="json")
    return {k: _decimal(v) for k, v in dumped.items()}


def _decimal(value: Any) -> Any:
    """Decimals compare by value: a recorded "96.0" and a re-derived "96" are the same score."""
    if isinstance(value, str):
        try:
            return Decimal(value) if value.replace(".", "", 1).isdigit() else value
        except ArithmeticError:
            return value
    if isinstance(value, dict):
        return {k: _decimal(v) for k, v in value.items()}
    return value
