"""The compensation handlers on the in-memory store, with the employees enrollment told
compensation of and a month's run inputs as fakes: Given events, When a command from a caller,
Then events or the refusal."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.compensation import handlers
from services.compensation.domain.account import account_stream
from services.compensation.domain.commands import RecordTravelDays
from services.compensation.domain.events import registry
from services.compensation.domain.fees import TrainerPenalty
from services.compensation.domain.months import Month
from services.compensation.domain.payroll import payroll_stream
from services.compensation.domain.vocabulary import Category
from services.compensation.policies import POLICIES
from services.compensation.upstream import KnownEmployee, MonthFacts
from shared.auth import Role
from shared.decider import RuleViolation
from shared.policy_store import PolicyShelf
from shared.problems import Problem
from tests.unit.fakes import aggregates, caller, lookup, recorded, types

PAYROLL_CLERK = caller("pay-1", Role.PAYROLL)
APRIL = Month.parse("2026-04")
FINED = TrainerPenalty(
    uuid.uuid4(), "tr-1", "s-1", "X1", Decimal("0.4"), Decimal(150), date(2026, 4, 30)
)


def compensation(*known: KnownEmployee, penalties: tuple[TrainerPenalty, ...] = ()):  # type: ignore[no-untyped-def]
    async def month_facts(month, policy):  # type: ignore[no-untyped-def]
        return MonthFacts([], [], [], list(penalties))

    employees = lookup({e.employee_id: e for e in known})
    books = aggregates(registry)
    shelf = PolicyShelf(books.store, {p.name: p for p in POLICIES})
    return handlers.Dependencies(books, employees, month_facts, shelf)


def travel(employee_id: str = "e-1", days: int = 3) -> RecordTravelDays:
    return RecordTravelDays(employee_id, "2026-04", days, "pay-1")


async def test_a_pay_input_goes_on_the_account_under_the_employees_branch():
    deps = compensation(KnownEmployee("e-1", Category.HQ_FULL_TIME, "hq"))
    outcome = await handlers.record(deps, travel(), PAYROLL_CLERK)
    [envelope] = await deps.aggregates.store.read_stream(account_stream("e-1"))
    assert (outcome.version, envelope.type, envelope.branch_id) == (1, "TravelDaysRecorded", "hq")
    assert envelope.actor.role == Role.PAYROLL


async def test_a_pay_input_before_the_enrolment_arrived_asks_to_retry():
    with pytest.raises(Problem) as caught:
        await handlers.record(compensation(), travel(), PAYROLL_CLERK)
    assert caught.value.status == 404 and "Retry-After" in caught.value.headers


async def test_r31_the_company_records_no_pay_for_branch_commissioned_staff():
    deps = compensation(KnownEmployee("e-1", Category.BRANCH_COMMISSIONED, "dl-north"))
    with pytest.raises(RuleViolation) as caught:
        await handlers.record(deps, travel(), PAYROLL_CLERK)
    assert caught.value.rule == "R-31"
    assert await deps.aggregates.store.head_position() == 0


async def test_r33_a_rerun_of_a_month_on_the_same_inputs_issues_nothing_again():
    deps = compensation(penalties=(FINED,))
    first = await handlers.run_payroll(deps, APRIL, PAYROLL_CLERK)
    again = await handlers.run_payroll(deps, APRIL, PAYROLL_CLERK)
    assert (types(first.events), again.events) == (["TrainerFineIssued"], [])
    assert types(await recorded(deps.aggregates, payroll_stream("2026-04"))) == [
        "TrainerFineIssued"
    ]
