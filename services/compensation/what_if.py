"""What if: pay and branch fees under draft grades and a draft pay policy, beside the policy in
force. Pure (docs/what-if.md, docs/adr/0017-what-if.md).

Rates are re-derived by :func:`~.domain.rates.pay_rate`, payslips by
:func:`~.domain.payslip.compute_payslip` over :func:`~.domain.account.rates_in_month`, and fees by
:func:`~.domain.fees.branch_fees`: the functions the pay account and the payroll run use. The
drafts are only other policy values and other grades; nothing here appends anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from .domain.account import PayAccount, month_inputs, rates_in_month
from .domain.events import PayRateSet
from .domain.fees import TraineeDisposition, TrainingDay, branch_fees
from .domain.months import Month
from .domain.payslip import compute_payslip
from .domain.rates import pay_rate
from .domain.vocabulary import Category, Level, Position
from .policy.pay import FeesPolicy, PayPolicy

ZERO = Decimal("0.00")
PolicyOn = Callable[[date], PayPolicy]  # the pay policy in force on a day


@dataclass(frozen=True)
class DraftGrade:
    """A grade decision as a draft grading policy makes it (RESERVE: no grade, R-21/R-30)."""

    employee_id: str
    grade_event_id: UUID  # the decision it re-derives
    position: Position
    level: Level | None
    decided_on: date


@dataclass(frozen=True)
class Employee:
    employee_id: str
    category: Category
    branch_id: str
    account: PayAccount  # its rates and the period's pay inputs


@dataclass(frozen=True)
class Scenario:
    """The policies of one side: the payroll parameters and the branch fee of each month (in
    force at the month's end, as the payroll run takes them), and a draft pay table that re-rates
    every grade."""

    parameters: Callable[[Month], PayPolicy]
    fees: Callable[[Month], FeesPolicy]
    rates: PayPolicy | None = None  # None: each rate keeps the pay table it was set under


@dataclass(frozen=True)
class EmployeePay:
    employee_id: str
    branch_id: str
    before: dict[str, Decimal]  # month -> payslip total
    after: dict[str, Decimal]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def months_between(first: date, last: date) -> list[Month]:
    """Every month that has a day in ``first``..``last``."""
    months, month = [], Month.of(first)
    while month <= Month.of(last):
        months.append(month)
        month = Month(month.year + month.month // 12, month.month % 12 + 1)
    return months


def rerated(
    employee: Employee, grades: Sequence[DraftGrade], table: PayPolicy | None, in_force: PolicyOn
) -> PayAccount:
    """The account with its rates as the draft grades and the draft pay table set them (a rate
    neither touches stays as recorded). Raises ``LookupError`` for a grade with no pay row."""
    by_event = {g.grade_event_id: g for g in grades}
    rates: list[PayRateSet] = []
    for rate in employee.account.rates:
        grade = by_event.pop(rate.grade_event_id, None)
        if grade is None and table is None:
            rates.append(rate)
            continue
        position, level = (rate.position, rate.level) if grade is None else _graded(grade)
        new = pay_rate(
            employee.employee_id,
            rate.category,
            position,
            level,
            rate.effective_from,
            rate.grade_event_id,
            table or in_force(rate.effective_from),
            rate.supersedes,
            rate.decided_at,
        )
        rates.extend([] if new is None else [new])
    for grade in by_event.values():  # a decision that set no rate: a failure the draft passes
        policy = table or in_force(grade.decided_on)
        new = pay_rate(
            employee.employee_id, employee.category, *_graded(grade), grade.decided_on,
            grade.grade_event_id, policy,
        )  # fmt: skip
        rates.extend([] if new is None else [new])
    return replace(employee.account, rates=tuple(rates))


def _graded(grade: DraftGrade) -> tuple[Position, Level | None]:
    return grade.position, None if grade.position is Position.RESERVE else grade.level


def month_total(account: PayAccount, month: Month, policy: PayPolicy) -> Decimal:
    """The month's payslip total, as the payroll run computes it (R-25 to R-32)."""
    key = str(month)
    lines = compute_payslip(key, rates_in_month(account, key), month_inputs(account, key), policy)
    return sum((line.amount for line in lines), ZERO)


def compare_pay(
    employees: Iterable[Employee],
    grades: Mapping[str, Sequence[DraftGrade]],
    months: Sequence[Month],
    before: Scenario,
    after: Scenario,
    in_force: PolicyOn,
) -> list[EmployeePay]:
    """Each employee's payslip totals month by month on both sides."""
    found = []
    for employee in employees:
        drafted = rerated(employee, grades.get(employee.employee_id, ()), after.rates, in_force)
        found.append(
            EmployeePay(
                employee.employee_id,
                employee.branch_id,
                {str(m): month_total(employee.account, m, before.parameters(m)) for m in months},
                {str(m): month_total(drafted, m, after.parameters(m)) for m in months},
            )
        )
    return found


def compare_fees(
    months: Sequence[Month],
    dispositions: Sequence[TraineeDisposition],
    days: Sequence[TrainingDay],
    before: Scenario,
    after: Scenario,
) -> dict[str, tuple[Decimal, Decimal]]:
    """R-19: each month's branch fees under both sides' fee (the dispositions as decided)."""
    found = {}
    for month in months:
        fees = [
            sum((f.amount for f in branch_fees(str(month), dispositions, days, side)), ZERO)
            for side in (before.fees(month), after.fees(month))
        ]
        found[str(month)] = (fees[0], fees[1])
    return found


def cost_delta(
    pay: Sequence[EmployeePay],
    fees: Mapping[str, tuple[Decimal, Decimal]],
    fines: Mapping[str, tuple[Decimal, Decimal]],
    months: Sequence[Month],
) -> dict[str, object]:
    """Per month and for the period: (payslips + fines + fees) under the draft minus under the
    policy in force, with each part beside it (JSON-ready, amounts as text)."""
    rows, total = [], [ZERO, ZERO]
    for month in map(str, months):
        payslips = (
            sum((p.before[month] for p in pay), ZERO),
            sum((p.after[month] for p in pay), ZERO),
        )
        parts = {
            "payslips": payslips,
            "fines": fines.get(month, (ZERO, ZERO)),
            "fees": fees.get(month, (ZERO, ZERO)),
        }
        before = sum((b for b, _ in parts.values()), ZERO)
        after = sum((a for _, a in parts.values()), ZERO)
        total = [total[0] + before, total[1] + after]
        row = {"month": month, "before": str(before), "after": str(after)}
        row["delta"] = str(after - before)
        for name, (b, a) in parts.items():
            row |= {f"{name}_before": str(b), f"{name}_after": str(a)}
        rows.append(row)
    summary = {"before": str(total[0]), "after": str(total[1]), "delta": str(total[1] - total[0])}
    return {"months": rows, "total": summary}
