"""What if, the pure pay comparison (R-19, R-25, R-26, R-32): Given accounts, draft grades and a
draft pay table or fee, Then each month's payslips and fees on both sides and the cost delta."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from services.compensation.domain.account import PayAccount
from services.compensation.domain.fees import TraineeDisposition, TrainingDay
from services.compensation.domain.months import Month
from services.compensation.domain.vocabulary import DispositionOutcome
from services.compensation.policy.pay import FEES
from services.compensation.what_if import (
    DraftGrade,
    Employee,
    Scenario,
    compare_fees,
    compare_pay,
    cost_delta,
    months_between,
    rerated,
)
from tests.unit.compensation.support import (
    BRANCH,
    ENGINEER,
    HQ,
    INTERMEDIATE,
    POLICY,
    RESERVE,
    SENIOR,
    rate,
)

FEE = FEES.in_force(date(2026, 1, 1))  # 200 a day
IN_FORCE = Scenario(lambda m: POLICY, lambda m: FEE)
MARCH, APRIL = Month(2026, 3), Month(2026, 4)


def in_force(_day: date):
    return POLICY


def senior(on: date = date(2026, 3, 1)) -> Employee:
    graded = rate(HQ, ENGINEER, SENIOR, on)
    return Employee("e-1", HQ, "hq", PayAccount(rates=(graded,)))


def regraded(employee: Employee, level=INTERMEDIATE, position=ENGINEER) -> DraftGrade:
    grade = employee.account.rates[0]
    return DraftGrade("e-1", grade.grade_event_id, position, level, grade.effective_from)


def test_months_between_covers_every_month_with_a_day_in_the_period():
    assert months_between(date(2025, 11, 30), date(2026, 2, 1)) == [
        Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2),
    ]  # fmt: skip


def test_given_a_senior_regraded_intermediate_then_march_pays_3200_instead_of_3500_r26():
    employee = senior()
    pay = compare_pay(
        [employee], {"e-1": [regraded(employee)]}, [MARCH], IN_FORCE, IN_FORCE, in_force
    )
    assert (pay[0].before, pay[0].after) == (
        {"2026-03": Decimal("3500.00")},
        {"2026-03": Decimal("3200.00")},
    )


def test_given_a_grade_from_mid_month_then_the_difference_is_prorated_r32():
    employee = senior(date(2026, 4, 16))  # 15 of April's 30 days
    pay = compare_pay(
        [employee], {"e-1": [regraded(employee)]}, [APRIL], IN_FORCE, IN_FORCE, in_force
    )
    assert pay[0].after["2026-04"] - pay[0].before["2026-04"] == Decimal("-150.00")


def test_given_no_grade_under_the_draft_then_the_reserve_position_pays_nothing_r30():
    employee = senior()
    account = rerated(employee, [regraded(employee, None, RESERVE)], None, in_force)
    assert account.rates[0].lines == []


def test_given_a_failure_the_draft_passes_then_it_gets_a_rate_from_its_day():
    employee = Employee("e-2", HQ, "hq", PayAccount())
    grade = DraftGrade("e-2", uuid.uuid4(), ENGINEER, SENIOR, date(2026, 3, 1))
    pay = compare_pay([employee], {"e-2": [grade]}, [MARCH], IN_FORCE, IN_FORCE, in_force)
    assert pay[0].after["2026-03"] == Decimal("3500.00") and pay[0].before["2026-03"] == 0


def test_given_a_draft_pay_table_then_every_rate_is_re_rated():
    rows = tuple(
        r.model_copy(update={"monthly": Decimal(3600)})
        if (r.category, r.position, r.level) == (HQ, ENGINEER, SENIOR)
        else r
        for r in POLICY.rows
    )
    table = POLICY.model_copy(update={"version": "draft", "rows": rows})
    pay = compare_pay(
        [senior()], {}, [MARCH], IN_FORCE, Scenario(lambda m: table, lambda m: FEE, table), in_force
    )
    assert pay[0].after["2026-03"] - pay[0].before["2026-03"] == Decimal("100.00")


def test_branch_commissioned_staff_are_paid_by_their_branch_on_both_sides_r31():
    employee = Employee("e-3", BRANCH, "bo-east", PayAccount())
    grade = DraftGrade("e-3", uuid.uuid4(), ENGINEER, SENIOR, date(2026, 3, 1))
    pay = compare_pay([employee], {"e-3": [grade]}, [MARCH], IN_FORCE, IN_FORCE, in_force)
    assert not pay[0].changed


def test_given_a_draft_fee_then_each_training_day_costs_the_new_fee_r19():
    decided = [
        TraineeDisposition(
            "t-1", "bo-east", BRANCH, DispositionOutcome.CONTINUE_TRAINING, date(2026, 3, 2)
        )
    ]
    days = [TrainingDay("t-1", date(2026, 3, d)) for d in (1, 2, 3)]  # the 1st is before it
    dearer = FEE.model_copy(update={"branch_fee_per_training_day": Decimal(250)})
    fees = compare_fees(
        [MARCH], decided, days, IN_FORCE, Scenario(lambda m: POLICY, lambda m: dearer)
    )
    assert fees == {"2026-03": (Decimal(400), Decimal(500))}


def test_the_cost_delta_adds_payslips_fines_and_fees_per_month_and_for_the_period():
    employee = senior()
    pay = compare_pay(
        [employee], {"e-1": [regraded(employee)]}, [MARCH, APRIL], IN_FORCE, IN_FORCE, in_force
    )
    fines = {"2026-04": (Decimal(150), Decimal(200))}
    fees = {"2026-03": (Decimal(400), Decimal(500))}
    cost = cost_delta(pay, fees, fines, [MARCH, APRIL])
    assert [(m["month"], m["delta"]) for m in cost["months"]] == [
        ("2026-03", "-200.00"),
        ("2026-04", "-250.00"),
    ]
    assert cost["total"] == {"before": "7550.00", "after": "7100.00", "delta": "-450.00"}
