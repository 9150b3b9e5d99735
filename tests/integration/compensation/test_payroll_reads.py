"""The payroll run reads its accounts in chunks, one query each, rates and the month's inputs only:
it must compute exactly the payslips that loading each account's whole stream computes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from decimal import Decimal

from services.compensation import upstream
from services.compensation.domain.account import (
    PAY_ACCOUNT,
    account_stream,
    month_inputs,
    rates_in_month,
)
from services.compensation.domain.commands import (
    ApplyGrade,
    RatePerformance,
    RecordPieceRate,
    RecordTravelDays,
)
from services.compensation.domain.events import registry
from services.compensation.domain.months import Month
from services.compensation.domain.payslip import prepare_payslip
from services.compensation.domain.vocabulary import Category, Level, Position
from services.compensation.policy.pay import PAY
from shared.events import SYSTEM_ACTOR
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.execution import load

MONTHS = ("2026-03", "2026-04")


def commands(i: int, employee_id: str):
    category = (Category.HQ_FULL_TIME, Category.PRODUCTION_RESERVE)[i % 2]
    position = (Position.TECHNICIAN, Position.ENGINEER)[i // 2 % 2]
    yield ApplyGrade(employee_id, category, position, Level.JUNIOR, date(2026, 1, 5), uuid.uuid4())
    for k, month in enumerate(MONTHS):
        if i % 3 == k:  # re-graded mid-month: R-32 prorates the month
            day = Month.parse(month).day(16)
            yield ApplyGrade(employee_id, category, position, Level.SENIOR, day, uuid.uuid4())
        yield RecordTravelDays(employee_id, month, i % 5, "clerk")
        yield RecordTravelDays(employee_id, month, i % 5 + 1, "clerk")  # the later one counts
        if category is Category.HQ_FULL_TIME:
            yield RatePerformance(employee_id, month, Decimal(80 + i))
        else:
            yield RecordPieceRate(employee_id, month, Decimal(1000 + i))


async def open_account(store: PostgresEventStore, i: int) -> str:
    employee_id = f"e-{i:03d}"
    state, events = PAY_ACCOUNT.initial(), []
    for command in commands(i, employee_id):
        decided = PAY_ACCOUNT.decide(command, state)
        state = PAY_ACCOUNT.fold(decided, state)
        events += [registry.encode(e, actor=SYSTEM_ACTOR) for e in decided]
    await store.append(account_stream(employee_id), events, NO_STREAM)
    return employee_id


def without_id(slip):
    return dataclasses.replace(slip, payslip_id=None)


async def test_chunked_month_reads_pay_as_whole_accounts_do_r25_to_r32(pg_pool, monkeypatch):
    store = PostgresEventStore(pg_pool, "compensation")
    employees = [await open_account(store, i) for i in range(8)]
    monkeypatch.setattr(upstream, "ACCOUNT_CHUNK", 3)  # chunks of 3, 3 and 2 accounts
    for month in map(Month.parse, MONTHS):
        policy = PAY.in_force(month.last_day)
        batched = await upstream.payslips(pg_pool, [*employees, "e-none"], month, policy)
        expected = []
        for employee_id in employees:
            account, _ = await load(store, registry, PAY_ACCOUNT, account_stream(employee_id))
            expected.append(
                prepare_payslip(
                    employee_id,
                    uuid.uuid4(),
                    str(month),
                    rates_in_month(account, str(month)),
                    month_inputs(account, str(month)),
                    policy,
                )
            )
        assert [without_id(s) for s in batched[:-1]] == [without_id(s) for s in expected]
        assert batched[-1].total == 0  # no account: no rate, nothing paid
        assert len({s.total for s in batched}) > 3  # the accounts differ: the test can fail
