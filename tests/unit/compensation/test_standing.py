"""R-33: a month's fees and fines are assessed until a payroll run of that month issues them;
only that month's run issues them (R-19, R-24)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from services.compensation.domain.commands import RunPayroll
from services.compensation.domain.fees import (
    TraineeDisposition,
    TrainerPenalty,
    TrainingDay,
    branch_fees,
    trainer_fines,
)
from services.compensation.domain.payroll import PAYROLL
from services.compensation.domain.standing import Standing, month_charges
from services.compensation.domain.vocabulary import DispositionOutcome
from services.compensation.policy.pay import FEES

from .support import BRANCH

FEE = FEES.in_force(date(2026, 1, 1))  # 200 a day

MARCH, APRIL = "2026-03", "2026-04"
ASSESSED, ISSUED = Standing.ASSESSED, Standing.ISSUED
KEPT_IN_TRAINING = [
    TraineeDisposition(
        "t-1", "dl-north", BRANCH, DispositionOutcome.CONTINUE_TRAINING, date(2026, 3, 20)
    )
]
# The last day of March: the boundary of the month the penalty belongs to.
PENALTY = TrainerPenalty(
    uuid.uuid4(), "tr-1", "s-1", None, Decimal("0.5"), Decimal("200"), date(2026, 3, 31), "SAFETY"
)


def fees(month, *days):
    return branch_fees(month, KEPT_IN_TRAINING, [TrainingDay("t-1", d) for d in days], FEE)


def run(month, issued, fees_now, fines_now):
    """What a payroll run of ``month`` appends to its stream (no payslips)."""
    command = RunPayroll(month, (), tuple(fees_now), tuple(fines_now))
    return [*issued, *PAYROLL.decide(command, PAYROLL.fold(issued))]


def standings(month, issued, fees_now, fines_now):
    charges = month_charges(month, issued, fees_now, fines_now)
    return (
        [(f.days, f.amount, s) for f, s in charges.fees],
        [(f.session_id, f.content, f.product_series, s) for f, s in charges.fines],
    )


def test_before_the_months_run_its_fees_and_fines_are_assessed():
    march_fees = fees(MARCH, date(2026, 3, 20), date(2026, 3, 23))
    march_fines = trainer_fines(MARCH, [PENALTY])
    assert standings(MARCH, [], march_fees, march_fines) == (
        [([date(2026, 3, 20), date(2026, 3, 23)], Decimal("400.00"), ASSESSED)],
        [("s-1", "SAFETY", None, ASSESSED)],
    )


def test_after_the_months_run_they_are_issued_and_nothing_is_assessed():
    march_fees = fees(MARCH, date(2026, 3, 20), date(2026, 3, 23))
    march_fines = trainer_fines(MARCH, [PENALTY])
    stream = run(MARCH, [], march_fees, march_fines)
    assert standings(MARCH, stream, march_fees, march_fines) == (
        [([date(2026, 3, 20), date(2026, 3, 23)], Decimal("400.00"), ISSUED)],
        [("s-1", "SAFETY", None, ISSUED)],
    )


def test_a_day_logged_after_the_run_is_assessed_beside_the_days_issued():
    first = fees(MARCH, date(2026, 3, 20))
    stream = run(MARCH, [], first, [])
    later = fees(MARCH, date(2026, 3, 20), date(2026, 3, 31))
    assert standings(MARCH, stream, later, [])[0] == [
        ([date(2026, 3, 20)], Decimal("200.00"), ISSUED),
        ([date(2026, 3, 31)], Decimal("200.00"), ASSESSED),
    ]


def test_a_later_months_run_does_not_issue_this_months_charges():
    march_fees = fees(MARCH, date(2026, 3, 31))
    march_fines = trainer_fines(MARCH, [PENALTY])
    # April's run charges April's own: the penalty of 31 March is not among them ...
    assert trainer_fines(APRIL, [PENALTY]) == []
    assert fees(APRIL, date(2026, 3, 31)) == []
    april_stream = run(APRIL, [], fees(APRIL, date(2026, 4, 1)), [])
    assert [e.month for e in april_stream] == [APRIL]
    # ... and March's stream, which April's run never writes to, still holds nothing.
    assert standings(MARCH, [], march_fees, march_fines) == (
        [([date(2026, 3, 31)], Decimal("200.00"), ASSESSED)],
        [("s-1", "SAFETY", None, ASSESSED)],
    )
