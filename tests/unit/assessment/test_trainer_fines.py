"""R-24 trainer accountability: fine tiers at their boundaries and worked example E."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.assessment.domain.events import ExamSessionOpened
from services.assessment.domain.session import assess_trainers
from services.assessment.policy.grading import FINES, trainer_fine

POLICY = FINES.in_force(date(2026, 1, 1))  # R-24, a policy of its own (docs/policy.md)

SESSION = ExamSessionOpened(
    session_id="s-1", product_series="X", held_on=date(2026, 3, 2), opened_by="manager"
)


@pytest.mark.parametrize(
    ("trainees", "failed", "rate", "fine"),
    [
        (10, 5, "0.5", 200),
        (10, 10, "1", 200),
        (10, 4, "0.4", 150),  # example E
        (10, 3, "0.3", 50),
        (10, 2, "0.2", 0),
        (10, 0, "0", 0),
        (1000, 299, "0.299", 0),  # 29.9 %
        (1000, 300, "0.3", 50),
        (1000, 399, "0.399", 50),
        (1000, 400, "0.4", 150),
        (1000, 499, "0.499", 150),
        (1000, 500, "0.5", 200),
        (1, 1, "1", 200),
    ],
)
def test_r24_fine_tiers_are_inclusive_lower_bounds(trainees, failed, rate, fine):
    result = trainer_fine(trainees, failed, POLICY)
    assert result.failure_rate == Decimal(rate)
    assert result.fine == Decimal(fine)
    assert isinstance(result.fine, Decimal)


@pytest.mark.parametrize(("trainees", "failed", "fine"), [(3, 1, 50), (7, 2, 0), (7, 3, 150)])
def test_r24_rates_that_do_not_terminate_are_tiered_exactly(trainees, failed, fine):
    assert trainer_fine(trainees, failed, POLICY).fine == fine


def test_r24_the_trace_states_the_rate_and_the_tier():
    rate, fine, trace = trainer_fine(10, 4, POLICY)
    assert (rate, fine) == (Decimal("0.4"), Decimal(150))
    assert trace == ["R-24: 4/10 trainees failed = 40% >= 40% -> fine 150 yuan"]
    assert trainer_fine(10, 2, POLICY).rule_trace == [
        "R-24: 2/10 trainees failed = 20% < 30% -> no fine"
    ]


@pytest.mark.parametrize(("trainees", "failed"), [(0, 0), (5, 6), (5, -1)])
def test_r24_needs_at_least_one_trainee_and_a_possible_failure_count(trainees, failed):
    with pytest.raises(ValueError):
        trainer_fine(trainees, failed, POLICY)


def test_example_e_ten_trainees_on_series_x_four_fail_fines_the_trainer_150():
    trainees = [f"t-{n:02}" for n in range(10)]
    outcomes = {t: n >= 4 for n, t in enumerate(trainees)}  # the first four fail
    (row,) = assess_trainers(SESSION, outcomes, {t: ["trainer-1"] for t in trainees})
    assert (row.trainer_id, row.product_series, row.session_id) == ("trainer-1", "X", "s-1")
    assert row.trainees == trainees and row.failed == trainees[:4]
    assert (row.failure_rate, row.fine) == (Decimal("0.4"), Decimal(150))
    assert row.policy_version == "fines-2026.1"  # grading-2026.1 before the split (an alias)
    assert row.rule_trace[-1] == "R-24: 4/10 trainees failed = 40% >= 40% -> fine 150 yuan"
    assert row.assessed_on == SESSION.held_on


def test_every_trainer_with_a_trainee_gets_a_row_even_without_a_fine():
    outcomes = {"t-1": True, "t-2": False, "t-3": True, "t-untrained": False}
    trainer_of = {"t-1": ["a"], "t-2": ["a", "b"], "t-3": ["b", "b"], "t-absent": ["c"]}
    rows = assess_trainers(SESSION, outcomes, trainer_of, assessed_on=date(2026, 3, 9))
    assert [(r.trainer_id, r.trainees, r.failed, r.fine) for r in rows] == [
        ("a", ["t-1", "t-2"], ["t-2"], Decimal(200)),
        ("b", ["t-2", "t-3"], ["t-2"], Decimal(200)),
    ]
    assert {r.assessed_on for r in rows} == {date(2026, 3, 9)}


def test_a_trainer_whose_trainees_all_pass_is_recorded_with_no_fine():
    (row,) = assess_trainers(SESSION, {"t-1": True}, {"t-1": ["a"]})
    assert (row.failure_rate, row.fine, row.failed) == (Decimal(0), Decimal(0), [])
