"""R-19 branch fees and R-24 trainer fines, in the month they are assessed (R-33)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from services.compensation.domain.fees import (
    TraineeDisposition,
    TrainerPenalty,
    TrainingDay,
    branch_fees,
    trainer_fines,
)
from services.compensation.domain.vocabulary import DispositionOutcome
from services.compensation.policy.pay import FEES

from .support import BRANCH, HQ, PRODUCTION

POLICY = FEES.in_force(date(2026, 1, 1))  # R-19, a policy of its own (docs/policy.md)

CONTINUE = DispositionOutcome.CONTINUE_TRAINING


def disposition(on, outcome=CONTINUE, trainee="t-1", category=BRANCH, branch="dl-north"):
    return TraineeDisposition(trainee, branch, category, outcome, on)


def days(trainee, *dates):
    return [TrainingDay(trainee, d) for d in dates]


LOGGED = days(
    "t-1",
    date(2026, 4, 8),  # before the disposition: not charged
    date(2026, 4, 10),  # the disposition's date: charged
    date(2026, 4, 12),
    date(2026, 4, 12),  # two stages logged the same date: one day
    date(2026, 5, 2),  # another month
)


def test_r19_each_distinct_training_day_from_the_disposition_costs_200():
    (fee,) = branch_fees("2026-04", [disposition(date(2026, 4, 10))], LOGGED, POLICY)
    assert (fee.month, fee.branch_id, fee.trainee_id) == ("2026-04", "dl-north", "t-1")
    assert fee.days == [date(2026, 4, 10), date(2026, 4, 12)]
    assert (fee.amount, fee.fee_per_day, fee.policy_version) == (
        Decimal("400.00"),
        Decimal(200),
        "fees-2026.1",
    )


def test_r33_a_training_day_costs_in_the_month_of_its_date():
    (fee,) = branch_fees("2026-05", [disposition(date(2026, 4, 10))], LOGGED, POLICY)
    assert (fee.days, fee.amount) == ([date(2026, 5, 2)], Decimal("200.00"))
    assert branch_fees("2026-03", [disposition(date(2026, 4, 10))], LOGGED, POLICY) == []


def test_r19_only_branch_commissioned_trainees_cost_their_branch():
    for category in (HQ, PRODUCTION):
        assert (
            branch_fees(
                "2026-04", [disposition(date(2026, 4, 1), category=category)], LOGGED, POLICY
            )
            == []
        )


def test_r19_no_continue_training_disposition_no_fee():
    assert branch_fees("2026-04", [], LOGGED, POLICY) == []
    reserve = disposition(date(2026, 4, 1), DispositionOutcome.RESERVE)
    assert branch_fees("2026-04", [reserve], LOGGED, POLICY) == []


def test_a_later_disposition_ends_the_charged_training():
    history = [
        disposition(date(2026, 4, 1)),
        disposition(date(2026, 4, 11), DispositionOutcome.WORKSHOP),
    ]
    (fee,) = branch_fees("2026-04", history, LOGGED, POLICY)
    assert fee.days == [date(2026, 4, 8), date(2026, 4, 10)]


def test_fees_are_per_trainee_in_trainee_order():
    history = [
        disposition(date(2026, 4, 1), trainee="t-2", branch="bo-east"),
        disposition(date(2026, 4, 1)),
    ]
    fees = branch_fees("2026-04", history, LOGGED + days("t-2", date(2026, 4, 3)), POLICY)
    assert [(f.trainee_id, f.branch_id, f.amount) for f in fees] == [
        ("t-1", "dl-north", Decimal("600.00")),
        ("t-2", "bo-east", Decimal("200.00")),
    ]


def penalty(fine, assessed_on=date(2026, 4, 30)):
    return TrainerPenalty(
        uuid.uuid4(), "tr-1", "s-1", "X1", Decimal("0.4"), Decimal(fine), assessed_on
    )


def test_r24_fines_above_zero_assessed_in_the_month_are_issued():
    example_e = penalty(150)
    fines = trainer_fines("2026-04", [example_e, penalty(0), penalty(200, date(2026, 5, 1))])
    assert [(f.trainer_id, f.session_id, f.product_series, f.amount) for f in fines] == [
        ("tr-1", "s-1", "X1", Decimal("150.00"))
    ]
    assert fines[0].failure_rate == Decimal("0.4")
    assert fines[0].penalty_event_id == example_e.penalty_event_id
    assert fines[0].month == "2026-04"
