"""R-19 branch fees and R-24 trainer fines, in the month they are assessed (R-33). Pure.

The inputs are what the service learned from upstream events (enrollment, training, assessment);
the handler assembles them, this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from ..policy.pay import FeesPolicy
from .events import BranchFeeCharged, TrainerFineIssued
from .money import CENT
from .months import Month
from .vocabulary import Category, DispositionOutcome


@dataclass(frozen=True)
class TraineeDisposition:
    """R-18: a failed trainee's disposition (DispositionDecided), with the trainee's enrolment."""

    trainee_id: str
    branch_id: str
    category: Category
    outcome: DispositionOutcome
    decided_on: date


@dataclass(frozen=True)
class TrainingDay:
    """R-10: a training day logged for a trainee (TrainingDayLogged)."""

    trainee_id: str
    on: date


@dataclass(frozen=True)
class TrainerPenalty:
    """R-24: a trainer's penalty, assessed when an exam session closed (TrainerPenaltyAssessed)."""

    penalty_event_id: UUID
    trainer_id: str
    session_id: str
    product_series: str | None  # a session is held for a product series ...
    failure_rate: Decimal
    fine: Decimal
    assessed_on: date
    content: str | None = None  # ... or for a training content


def branch_fees(
    month: str,
    dispositions: Iterable[TraineeDisposition],
    training_days: Iterable[TrainingDay],
    policy: FeesPolicy,
) -> list[BranchFeeCharged]:
    """R-19: each distinct date in ``month`` on which a training day is logged for a
    branch-commissioned trainee, on or after a ``continue_training`` disposition (and before any
    later disposition ending it), costs the branch the policy's fee per training day."""
    the_month = Month.parse(month)
    by_trainee: dict[str, list[TraineeDisposition]] = {}
    for d in sorted(dispositions, key=lambda d: d.decided_on):  # stable: same day, given order
        if d.category is Category.BRANCH_COMMISSIONED:
            by_trainee.setdefault(d.trainee_id, []).append(d)
    days: dict[str, set[date]] = {}
    for day in training_days:
        history = by_trainee.get(day.trainee_id)
        if history and the_month.contains(day.on) and _continuing(history, day.on):
            days.setdefault(day.trainee_id, set()).add(day.on)
    fee = policy.branch_fee_per_training_day
    return [
        BranchFeeCharged(
            month=str(the_month),
            branch_id=by_trainee[trainee_id][-1].branch_id,
            trainee_id=trainee_id,
            days=sorted(charged),
            amount=(fee * len(charged)).quantize(CENT),
            fee_per_day=fee,
            policy_version=policy.version,
        )
        for trainee_id, charged in sorted(days.items())
    ]


def _continuing(dispositions: list[TraineeDisposition], day: date) -> bool:
    """Whether the latest disposition decided on or before ``day`` is continue_training."""
    decided = [d for d in dispositions if d.decided_on <= day]
    return bool(decided) and decided[-1].outcome is DispositionOutcome.CONTINUE_TRAINING


def trainer_fines(month: str, penalties: Iterable[TrainerPenalty]) -> list[TrainerFineIssued]:
    """R-24/R-33: a fine for each penalty with a fine above 0 assessed in ``month``."""
    the_month = Month.parse(month)
    return [
        TrainerFineIssued(
            month=str(the_month),
            trainer_id=p.trainer_id,
            session_id=p.session_id,
            product_series=p.product_series,
            failure_rate=p.failure_rate,
            amount=p.fine.quantize(CENT),
            penalty_event_id=p.penalty_event_id,
            content=p.content,
        )
        for p in penalties
        if p.fine > 0 and the_month.contains(p.assessed_on)
    ]
