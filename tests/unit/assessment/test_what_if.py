"""What if, the pure comparison (R-15, R-16, R-20, R-24): Given recorded decisions and a draft,
Then the re-derived grades, the changes, the counts and the fines, at the new boundaries."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from services.assessment.policy.grading import FINES, Band, FineTier, GradingPolicy
from services.assessment.what_if import (
    Decided,
    Outcome,
    Penalty,
    board,
    boards,
    fines_by_month,
    refine,
    regrade,
)
from tests.unit.assessment.builders import POLICY, TODAY, inputs

FINES_IN_FORCE = FINES.in_force(TODAY)  # R-24's tiers, a policy of their own

DAY = date(2026, 3, 2)


def draft(**changes) -> GradingPolicy:
    return POLICY.model_copy(update={"version": "draft", **changes})


def senior_at(score: str) -> GradingPolicy:
    bands = [Band(min_score=Decimal(score), position="engineer", level="senior"), *POLICY.bands[1:]]
    return draft(bands=tuple(bands))


def decided(trainee_id: str, written: str, branch: str = "hq", **kw) -> Decided:
    """A decision on example A's practical scores (mean 96): grade score (written + 96) / 2."""
    return Decided(trainee_id, branch, "s-1", uuid.uuid4(), DAY, inputs(written, **kw))


def test_given_the_senior_band_raised_to_98_then_exactly_the_scores_in_97_to_98_change():
    given = [
        decided("t-98", "100"),  # 98: exactly the new band, stays senior
        decided("t-9795", "99.9"),  # 97.95
        decided("t-97", "98"),  # 97: exactly the old band
        decided("t-9695", "97.9"),  # 96.95: intermediate under both
    ]
    regraded = regrade(given, POLICY, senior_at("98"))
    changed = {r.decided.trainee_id: (r.before.level, r.after.level) for r in regraded if r.changed}
    assert changed == {"t-9795": ("senior", "intermediate"), "t-97": ("senior", "intermediate")}


def test_given_the_same_policy_as_draft_then_nothing_changes():
    given = [decided("t-1", "100"), decided("t-2", "70"), decided("t-3", "85")]
    assert not any(r.changed for r in regrade(given, POLICY, draft()))


def test_given_a_lower_written_pass_mark_then_a_failure_at_the_new_mark_passes():
    given = [decided("t-79", "79"), decided("t-78", "78.9")]  # 80 in force
    regraded = {
        r.decided.trainee_id: r
        for r in regrade(given, POLICY, draft(written_pass_mark=Decimal(79)))
    }
    assert regraded["t-79"].before.passed is False
    assert regraded["t-79"].after == Outcome(True, "technician", "senior", Decimal("87.5"))
    assert not regraded["t-78"].changed


def test_counts_by_branch_position_and_level_before_and_after():
    given = [
        decided("t-a", "98", "hq"),
        decided("t-b", "98", "bo-east"),
        decided("t-c", "70", "hq"),
    ]
    before, after = boards(regrade(given, POLICY, senior_at("98")))
    assert before == [
        {"branch_id": "bo-east", "position": "engineer", "level": "senior", "count": 1},
        {"branch_id": "hq", "position": None, "level": None, "count": 1},
        {"branch_id": "hq", "position": "engineer", "level": "senior", "count": 1},
    ]
    assert [r["level"] for r in after] == ["intermediate", None, "intermediate"]


def test_board_of_nothing_is_empty():
    assert board([]) == []


def penalty(trainees: list[str], failed: list[str]) -> Penalty:
    return Penalty(uuid.uuid4(), "tr-1", "s-1", date(2026, 3, 5), tuple(trainees), tuple(failed))


def test_given_a_draft_fine_tier_then_the_fine_is_re_derived_r24():
    trainees = [f"t-{i}" for i in range(10)]
    tiers = (FineTier(min_rate=Decimal("0.4"), fine=Decimal(300)),)
    drafted = FINES_IN_FORCE.model_copy(update={"version": "draft", "fine_tiers": tiers})
    refined = refine([penalty(trainees, trainees[:4])], [], FINES_IN_FORCE, drafted)
    assert (refined[0].fine_before, refined[0].fine_after) == (Decimal(150), Decimal(300))
    assert fines_by_month(refined) == {"2026-03": (Decimal(150), Decimal(300))}


def test_given_a_pass_mark_that_fails_more_trainees_then_the_trainer_is_fined_more():
    """4 of 10 failed (150); a stricter written mark fails one more re-derived trainee: 5/10 (200)."""
    trainees = [f"t-{i}" for i in range(10)]
    strict = draft(written_pass_mark=Decimal(82))
    regraded = regrade([decided("t-5", "81")], POLICY, strict)
    refined = refine([penalty(trainees, trainees[:4])], regraded, FINES_IN_FORCE, FINES_IN_FORCE)
    assert (refined[0].failed_before, refined[0].failed_after) == (4, 5)
    assert (refined[0].fine_before, refined[0].fine_after) == (Decimal(150), Decimal(200))
