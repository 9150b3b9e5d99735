"""Builders shared by the compensation tests."""

from __future__ import annotations

import uuid
from datetime import date

from services.compensation.domain.events import Line, PayRateSet
from services.compensation.domain.payslip import MonthInputs, Segment, compute_payslip
from services.compensation.domain.rates import pay_rate
from services.compensation.domain.vocabulary import Category, Level, Position
from services.compensation.policy.pay import PAY

POLICY = PAY.in_force(date(2026, 1, 1))
HQ = Category.HQ_FULL_TIME
PRODUCTION = Category.PRODUCTION_RESERVE
BRANCH = Category.BRANCH_COMMISSIONED
TECHNICIAN, ENGINEER, RESERVE = Position.TECHNICIAN, Position.ENGINEER, Position.RESERVE
JUNIOR, INTERMEDIATE, SENIOR = Level.JUNIOR, Level.INTERMEDIATE, Level.SENIOR


def rate(
    category: Category,
    position: Position,
    level: Level | None,
    effective_from: date = date(2026, 1, 1),
    employee_id: str = "e-1",
) -> PayRateSet:
    result = pay_rate(employee_id, category, position, level, effective_from, uuid.uuid4(), POLICY)
    assert result is not None
    return result


def payslip(segments: list[Segment], month: str = "2026-04", **inputs) -> list[Line]:
    return compute_payslip(month, segments, MonthInputs(**inputs), POLICY)


def full_month(rate_set: PayRateSet, days: int = 30) -> list[Segment]:
    return [Segment(rate_set, 1, days)]


def amounts(lines: list[Line]) -> dict[str, str]:
    return {line.name.value: str(line.amount) for line in lines}


def total(lines: list[Line]) -> str:
    return str(sum((line.amount for line in lines), start=0))
