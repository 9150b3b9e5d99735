"""Payroll decider (R-32, R-33): a rerun issues nothing; changed inputs issue a correction."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.compensation.domain.account import PAY_ACCOUNT, month_inputs, rates_in_month
from services.compensation.domain.commands import ApplyGrade, RecordTravelDays, RunPayroll
from services.compensation.domain.events import BranchFeeCharged, PayslipIssued, TrainerFineIssued
from services.compensation.domain.payroll import PAYROLL, payroll_stream
from services.compensation.domain.payslip import MonthInputs, prepare_payslip
from shared.decider import InvalidCommand

from .support import (
    HQ,
    INTERMEDIATE,
    JUNIOR,
    POLICY,
    PRODUCTION,
    RESERVE,
    TECHNICIAN,
    full_month,
    rate,
)

MONTH = "2026-04"
ENGINEER_RATE = rate(HQ, TECHNICIAN, INTERMEDIATE)
PRODUCTION_RATE = rate(PRODUCTION, TECHNICIAN, JUNIOR, employee_id="e-2")


def computed(employee_id="e-1", rate_set=ENGINEER_RATE, **inputs):
    return prepare_payslip(
        employee_id, uuid.uuid4(), MONTH, full_month(rate_set), MonthInputs(**inputs), POLICY
    )


def run(state, *payslips, fees=(), fines=()):
    events = PAYROLL.decide(RunPayroll(MONTH, tuple(payslips), tuple(fees), tuple(fines)), state)
    return events, PAYROLL.fold(events, state)


def test_the_first_run_issues_a_payslip_per_employee():
    first, second = computed(), computed("e-2", PRODUCTION_RATE, travel_days=3)
    events, state = run(PAYROLL.initial(), first, second)
    assert [type(e) for e in events] == [PayslipIssued, PayslipIssued]
    issued = events[0]
    assert (issued.payslip_id, issued.month, issued.employee_id) == (first.payslip_id, MONTH, "e-1")
    assert (issued.total, issued.supersedes, issued.difference) == (Decimal("2800.00"), None, None)
    assert issued.inputs_digest == first.inputs_digest
    assert issued.policy_version == "pay-2026.1" and issued.rule_trace
    assert events[1].total == Decimal("404.55")  # 50 + 0 piece-rate + 354.55 travel pay
    assert state.latest("e-2") == events[1]
    assert payroll_stream(MONTH) == "payroll-2026-04"


def test_rerunning_with_the_same_inputs_issues_nothing():
    _, state = run(PAYROLL.initial(), computed(), computed("e-2", PRODUCTION_RATE, travel_days=3))
    events, _ = run(state, computed(), computed("e-2", PRODUCTION_RATE, travel_days=3))
    assert events == []


def test_changed_inputs_issue_a_correction_beside_the_old_payslip():
    original = computed("e-2", PRODUCTION_RATE, travel_days=3)
    (old,), state = run(PAYROLL.initial(), original)
    late = computed("e-2", PRODUCTION_RATE, travel_days=4, piece_rate=Decimal("10.00"))
    (correction,), state = run(state, late)
    assert correction.supersedes == old.payslip_id
    assert correction.payslip_id == late.payslip_id != old.payslip_id
    assert correction.total == Decimal("532.73")  # 50 + 10 + 2600 / 22 x 4 = 472.7272...
    assert correction.difference == Decimal("128.18")
    assert old.total == Decimal("404.55")  # the old payslip is an event: never edited
    back, state = run(state, computed("e-2", PRODUCTION_RATE, travel_days=3))
    assert back[0].supersedes == correction.payslip_id and back[0].difference == Decimal("-128.18")


def test_an_employee_with_no_lines_and_no_payslip_gets_none():
    reserve = rate(HQ, RESERVE, None)
    assert run(PAYROLL.initial(), computed(rate_set=reserve))[0] == []


def test_a_payslip_corrected_to_no_lines_is_superseded_by_a_zero_payslip():
    (old,), state = run(PAYROLL.initial(), computed())
    (zero,), _ = run(state, computed(rate_set=rate(HQ, RESERVE, None)))
    assert (zero.lines, zero.total, zero.supersedes, zero.difference) == (
        [],
        Decimal("0.00"),
        old.payslip_id,
        Decimal("-2800.00"),
    )


def test_one_payslip_per_employee_per_run():
    with pytest.raises(InvalidCommand) as caught:
        run(PAYROLL.initial(), computed(), computed())
    assert caught.value.field == "payslips"


def test_the_month_must_be_a_month():
    with pytest.raises(InvalidCommand) as caught:
        PAYROLL.decide(RunPayroll("2026-13", ()), PAYROLL.initial())
    assert caught.value.field == "month"


def fee(days, month=MONTH, trainee="t-1"):
    return BranchFeeCharged(
        month=month,
        branch_id="dl-north",
        trainee_id=trainee,
        days=days,
        amount=Decimal(200) * len(days),
        fee_per_day=Decimal(200),
        policy_version="pay-2026.1",
    )


def test_r19_branch_fees_are_charged_once_and_later_days_are_added():
    (charged,), state = run(PAYROLL.initial(), fees=[fee([date(2026, 4, 10), date(2026, 4, 12)])])
    assert charged.amount == Decimal(400)
    assert run(state, fees=[fee([date(2026, 4, 10), date(2026, 4, 12)])])[0] == []
    (added,), _ = run(state, fees=[fee([date(2026, 4, 10), date(2026, 4, 12), date(2026, 4, 20)])])
    assert (added.days, added.amount) == ([date(2026, 4, 20)], Decimal("200.00"))


def fine(penalty_id, month=MONTH):
    return TrainerFineIssued(
        month=month,
        trainer_id="tr-1",
        session_id="s-1",
        product_series="X1",
        failure_rate=Decimal("0.4"),
        amount=Decimal("150.00"),
        penalty_event_id=penalty_id,
    )


def test_r24_a_trainer_fine_is_issued_once_per_penalty():
    penalty = uuid.uuid4()
    (issued,), state = run(PAYROLL.initial(), fines=[fine(penalty), fine(penalty)])
    assert issued.penalty_event_id == penalty
    assert run(state, fines=[fine(penalty)])[0] == []


@pytest.mark.parametrize(
    ("fees", "fines", "field"),
    [
        ([fee([date(2026, 5, 1)], month="2026-05")], [], "branch_fees"),
        ([], [fine(uuid.uuid4(), "2026-05")], "trainer_fines"),
    ],
)
def test_r33_charges_of_another_month_are_refused(fees, fines, field):
    with pytest.raises(InvalidCommand) as caught:
        run(PAYROLL.initial(), fees=fees, fines=fines)
    assert caught.value.field == field


def test_late_travel_days_reach_the_payroll_as_a_correction():
    """The whole path: account events -> month's rates and inputs -> payslip -> payroll run."""
    account = PAY_ACCOUNT.initial()
    for command in (
        ApplyGrade("e-2", PRODUCTION, TECHNICIAN, JUNIOR, date(2026, 1, 5), uuid.uuid4()),
        RecordTravelDays("e-2", MONTH, 3, "payroll-1"),
    ):
        account = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(command, account), account)

    def payroll_run(state):
        payslip = prepare_payslip(
            "e-2",
            uuid.uuid4(),
            MONTH,
            rates_in_month(account, MONTH),
            month_inputs(account, MONTH),
            POLICY,
        )
        return run(state, payslip)

    (first,), state = payroll_run(PAYROLL.initial())
    assert payroll_run(state)[0] == []  # rerun: nothing new
    command = RecordTravelDays("e-2", MONTH, 3, "payroll-2")  # the same figure again
    account = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(command, account), account)
    assert payroll_run(state)[0] == []
    command = RecordTravelDays("e-2", MONTH, 5, "payroll-2")  # late travel days
    account = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(command, account), account)
    (correction,), _ = payroll_run(state)
    assert correction.supersedes == first.payslip_id
    assert correction.difference == Decimal("236.36")  # 590.91 - 354.55 in travel pay


def test_a_month_of_many_corrections_keeps_the_latest_payslip_per_employee_r32():
    """Folding is linear in the month's payslips (a rerun loads them all): 3 runs of 2,000."""
    state = PAYROLL.initial()
    for days in (1, 2, 3):
        slips = [computed(f"e-{n}", PRODUCTION_RATE, travel_days=days) for n in range(2000)]
        events, state = run(state, *slips)
        assert len(events) == 2000  # the changed travel days correct every payslip
    latest = state.latest("e-1999")
    assert latest is not None and latest.supersedes is not None
    assert latest.inputs_digest == slips[-1].inputs_digest
    assert len(state.payslips) == 2000
