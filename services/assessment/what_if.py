"""What if: grades and trainer fines re-derived under a draft policy beside the policy in force.
Pure (docs/what-if.md, docs/adr/0017-what-if.md).

Every grade is re-derived by :func:`~.policy.grading.grade` and every fine by
:func:`~.policy.grading.trainer_fine`, the functions the deciders run: the draft is only another
policy value, never a copy of the rules. Nothing here appends anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from .policy.grading import FinesPolicy, GradingInputs, GradingPolicy, grade, trainer_fine

CENT = Decimal("0.01")  # fines are yuan, answered with two decimals as all money


@dataclass(frozen=True)
class Decided:
    """A trainee's latest grade decision of the period, with every input it was made from."""

    trainee_id: str
    branch_id: str
    session_id: str
    event_id: UUID  # the GradeAssigned or AssessmentFailed the draft would have replaced
    decided_on: date
    inputs: GradingInputs
    policy_version: str | None = None  # the version the decision was made under
    recorded: Outcome | None = None  # what it decided


@dataclass(frozen=True)
class Outcome:
    """What a grading policy makes of one decision's inputs."""

    passed: bool
    position: str | None  # None: failed, or passed without any position's eligibility
    level: str | None
    grade_score: Decimal | None

    def json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "position": self.position,
            "level": self.level,
            "grade_score": None if self.grade_score is None else str(self.grade_score),
        }


@dataclass(frozen=True)
class Regraded:
    decided: Decided
    before: Outcome  # under the policy in force
    after: Outcome  # under the draft

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Penalty:
    """R-24: a trainer's penalty as assessed (TrainerPenaltyAssessed), with who was assessed."""

    event_id: UUID
    trainer_id: str
    session_id: str
    assessed_on: date
    trainees: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True)
class Refined:
    """One penalty's fine under the policy in force and under the draft."""

    penalty: Penalty
    failed_before: int
    failed_after: int
    fine_before: Decimal
    fine_after: Decimal

    @property
    def month(self) -> str:
        return f"{self.penalty.assessed_on:%Y-%m}"

    @property
    def changed(self) -> bool:
        return (self.failed_before, self.fine_before) != (self.failed_after, self.fine_after)

    def json(self) -> dict[str, Any]:
        return {
            "trainer_id": self.penalty.trainer_id,
            "session_id": self.penalty.session_id,
            "month": self.month,
            "failed_before": self.failed_before,
            "failed_after": self.failed_after,
            "before": str(self.fine_before.quantize(CENT)),
            "after": str(self.fine_after.quantize(CENT)),
        }


def outcome(inputs: GradingInputs, policy: GradingPolicy) -> Outcome:
    result = grade(inputs, policy)
    position = None if result.position is None else str(result.position)
    level = None if result.level is None else str(result.level)
    return Outcome(result.passed, position, level, result.grade_score)


def regrade(
    decided: Iterable[Decided], in_force: GradingPolicy, draft: GradingPolicy
) -> list[Regraded]:
    """Each decision under both policies (the same inputs, the same function). A decision made
    under the version in force is what that version decides (R-22: replay re-derives it), so
    its recorded outcome stands for it."""
    return [Regraded(d, _in_force(d, in_force), outcome(d.inputs, draft)) for d in decided]


def _in_force(decided: Decided, policy: GradingPolicy) -> Outcome:
    if decided.recorded is not None and decided.policy_version == policy.version:
        return decided.recorded
    return outcome(decided.inputs, policy)


def refine(
    penalties: Iterable[Penalty],
    regraded: Sequence[Regraded],
    in_force: FinesPolicy,
    draft: FinesPolicy,
) -> list[Refined]:
    """R-24 again for each penalty: a trainee re-derived here counts as failed when its outcome
    under that policy is no pass; any other keeps its recorded outcome."""
    before = {r.decided.trainee_id: not r.before.passed for r in regraded}
    after = {r.decided.trainee_id: not r.after.passed for r in regraded}
    found = []
    for p in penalties:
        recorded = set(p.failed)
        n_before = _failed(p.trainees, recorded, before)
        n_after = _failed(p.trainees, recorded, after)
        fine_before = trainer_fine(len(p.trainees), n_before, in_force).fine
        fine_after = trainer_fine(len(p.trainees), n_after, draft).fine
        found.append(Refined(p, n_before, n_after, fine_before, fine_after))
    return found


def _failed(trainees: Sequence[str], recorded: set[str], outcomes: Mapping[str, bool]) -> int:
    return sum(1 for t in trainees if outcomes.get(t, t in recorded))


BoardKey = tuple[str, str | None, str | None]  # branch, position, level


def board(rows: Iterable[tuple[str, Outcome]]) -> list[dict[str, Any]]:
    """Counts by branch x position x level; failed and ungraded trainees count with no position."""
    counts: Counter[BoardKey] = Counter((b, o.position, o.level) for b, o in rows)
    return [
        {"branch_id": b, "position": p, "level": lv, "count": n}
        for (b, p, lv), n in sorted(counts.items(), key=lambda kv: tuple(x or "" for x in kv[0]))
    ]


def boards(regraded: Sequence[Regraded]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    before = board((r.decided.branch_id, r.before) for r in regraded)
    after = board((r.decided.branch_id, r.after) for r in regraded)
    return before, after


def fines_by_month(refined: Iterable[Refined]) -> dict[str, tuple[Decimal, Decimal]]:
    """Month -> (fines under the policy in force, under the draft) (R-33: the assessed month)."""
    months: dict[str, tuple[Decimal, Decimal]] = {}
    for r in refined:
        before, after = months.get(r.month, (Decimal(0), Decimal(0)))
        months[r.month] = (before + r.fine_before, after + r.fine_after)
    return months
