"""What compensation learnt from upstream events, as the handlers read it: the employees
enrollment told it of (table ``known_employees``), and what a payroll run is computed from (the
pay accounts and the dispositions, training days and trainer penalties the consumer kept).

Each function reads committed state only; the payroll decider compares what it is given with
what the month already holds, so a run that overlaps another (or a late event) is harmless.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

import asyncpg
from starlette.datastructures import State

from shared.batching import lookup
from shared.events import Event, JsonDict

from .domain.account import PAY_ACCOUNT, PayAccount, account_stream, month_inputs, rates_in_month
from .domain.events import registry
from .domain.fees import TraineeDisposition, TrainerPenalty, TrainingDay
from .domain.months import Month
from .domain.payslip import ComputedPayslip, prepare_payslip
from .domain.vocabulary import Category, DispositionOutcome
from .policy.pay import PayPolicy


@dataclass(frozen=True)
class KnownEmployee:
    employee_id: str
    category: Category | None  # None: a category this service does not know
    branch_id: str


_FIND_SQL = (
    "SELECT employee_id, category, branch_id FROM known_employees"
    " WHERE employee_id = ANY($1::text[])"
)


async def find_employee(state: State, employee_id: str) -> KnownEmployee | None:
    """The employee as enrollment described it (consumers.py), None before its enrolment arrived.

    ``state`` is the app's (``request.app.state``): concurrent commands' lookups share one
    statement (:class:`shared.batching.Lookup`)."""
    row = await lookup(state, _FIND_SQL)(employee_id)
    if row is None:
        return None
    try:
        category: Category | None = Category(row["category"])
    except ValueError:
        category = None
    return KnownEmployee(employee_id, category, row["branch_id"])


FindEmployee = Callable[[str], Awaitable[KnownEmployee | None]]
"""``find_employee`` of one app's state: what a handler is given to look an employee up."""


ACCOUNT_PREFIX = account_stream("")
# Accounts per query: a run reads the next chunk while it computes this one's payslips. Small
# chunks also keep few decoded events alive at once: at 2,000 a 10,000-employee run made the
# garbage collector pass over them about 40 times (0.3-0.7 s of CPU), at 500 about 20.
ACCOUNT_CHUNK = 500


async def paid_employees(pool: asyncpg.Pool) -> list[str]:
    """Every employee a grade gave a pay rate: PayRateSet is the only event that opens an account
    a payslip can come from (recorded inputs alone pay nothing)."""
    rows = await pool.fetch(
        "SELECT DISTINCT stream_id FROM events WHERE type = 'PayRateSet' AND stream_id LIKE $1"
        " ORDER BY stream_id",
        ACCOUNT_PREFIX + "%",
    )
    return [row["stream_id"].removeprefix(ACCOUNT_PREFIX) for row in rows]


# A month's payslip needs every rate (R-32: the latest in force on each day) but only that
# month's inputs, so the rest of each account is neither read nor decoded; and only the columns
# decoding reads travel (no envelope, hash or actor for 30,000 events).
_MONTH_OF_ACCOUNTS = (
    "SELECT stream_id, type, schema_version, data FROM events WHERE stream_id = ANY($1::text[])"
    " AND (type = 'PayRateSet' OR data ->> 'month' = $2) ORDER BY stream_id, version"
)


async def month_accounts(
    pool: asyncpg.Pool, employees: Sequence[str], month: Month
) -> dict[str, PayAccount]:
    """Each employee's pay account as far as ``month``'s payslip reads it: its rates and the
    month's inputs, read for ``ACCOUNT_CHUNK`` employees per query instead of one per account."""
    found: dict[str, PayAccount] = {}
    async with aclosing(month_accounts_by_chunk(pool, employees, month)) as chunks:
        async for _, accounts in chunks:
            found.update(accounts)
    return found


async def month_accounts_by_chunk(
    pool: asyncpg.Pool, employees: Sequence[str], month: Month
) -> AsyncGenerator[tuple[Sequence[str], dict[str, PayAccount]], None]:
    """:func:`month_accounts`, ``ACCOUNT_CHUNK`` employees at a time: each chunk's employees and
    the accounts found for them. The next chunk's query is sent before a chunk is handed over,
    so the database reads it while the caller works on this one (a payroll run computes the
    chunk's payslips meanwhile)."""
    chunks = [employees[i : i + ACCOUNT_CHUNK] for i in range(0, len(employees), ACCOUNT_CHUNK)]
    if not chunks:
        return
    reading = asyncio.ensure_future(_month_rows(pool, chunks[0], month))
    try:
        for chunk, following in zip(chunks, [*chunks[1:], None], strict=True):
            rows = await reading
            if following is not None:
                reading = asyncio.ensure_future(_month_rows(pool, following, month))
            yield chunk, _fold_accounts(rows)
    finally:
        reading.cancel()  # the caller stopped early: the query no one waits for is abandoned


async def _month_rows(pool: asyncpg.Pool, employees: Sequence[str], month: Month) -> list[Any]:
    return await pool.fetch(_MONTH_OF_ACCOUNTS, [account_stream(e) for e in employees], str(month))


def _fold_accounts(rows: Sequence[Any]) -> dict[str, PayAccount]:
    """The rows of :data:`_MONTH_OF_ACCOUNTS` (by stream, in version order) as accounts."""
    types = registry.types
    return {
        stream.removeprefix(ACCOUNT_PREFIX): PAY_ACCOUNT.fold(
            [_decode(types, *row[1:]) for row in group]
        )
        for stream, group in groupby(rows, key=itemgetter(0))
    }


def _decode(types: Mapping[str, type[Event]], type_: str, version: int, data: JsonDict) -> Event:
    """``registry.decode`` of a stored event, from the three columns it reads."""
    return types[type_].model_validate(registry.upcast(type_, version, data))


async def payslips(
    pool: asyncpg.Pool, employees: list[str], month: Month, policy: PayPolicy
) -> list[ComputedPayslip]:
    """Each employee's payslip for the month as it would be issued now (R-25 to R-32), computed
    chunk by chunk as the accounts are read."""
    computed = []
    key = str(month)
    # aclosing: a payslip that fails abandons the next chunk's query at once, not when collected.
    async with aclosing(month_accounts_by_chunk(pool, employees, month)) as chunks:
        async for chunk, accounts in chunks:
            for employee_id in chunk:
                account = accounts.get(employee_id, PAY_ACCOUNT.initial())
                rates, month_in = rates_in_month(account, key), month_inputs(account, key)
                computed.append(
                    prepare_payslip(employee_id, uuid.uuid4(), key, rates, month_in, policy)
                )
    return computed


async def dispositions(pool: asyncpg.Pool, until: date) -> list[TraineeDisposition]:
    """R-18 dispositions decided by ``until``, of trainees whose enrolment has arrived."""
    rows = await pool.fetch(
        "SELECT d.trainee_id, k.branch_id, k.category, d.outcome, d.decided_on"
        " FROM dispositions d JOIN known_employees k ON k.employee_id = d.trainee_id"
        " WHERE d.decided_on <= $1 ORDER BY d.decided_on, d.event_id",
        until,
    )
    known = set(Category)
    return [
        TraineeDisposition(
            r["trainee_id"],
            r["branch_id"],
            Category(r["category"]),
            DispositionOutcome(r["outcome"]),
            r["decided_on"],
        )
        for r in rows
        if r["category"] in known
    ]


async def training_days(pool: asyncpg.Pool, month: Month) -> list[TrainingDay]:
    rows = await pool.fetch(
        "SELECT trainee_id, day FROM training_days WHERE day BETWEEN $1 AND $2",
        month.first_day,
        month.last_day,
    )
    return [TrainingDay(r["trainee_id"], r["day"]) for r in rows]


async def penalties(pool: asyncpg.Pool, month: Month) -> list[TrainerPenalty]:
    rows = await pool.fetch(
        "SELECT event_id, trainer_id, session_id, product_series, failure_rate, fine,"
        " assessed_on, content FROM trainer_penalties WHERE assessed_on BETWEEN $1 AND $2"
        " ORDER BY assessed_on, event_id",
        month.first_day,
        month.last_day,
    )
    return [
        TrainerPenalty(
            r["event_id"],
            r["trainer_id"],
            r["session_id"],
            r["product_series"],
            r["failure_rate"],
            r["fine"],
            r["assessed_on"],
            r["content"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class MonthFacts:
    """What a month's payroll run is computed from."""

    payslips: list[ComputedPayslip]  # each paid employee's, as it would be issued now
    dispositions: list[TraineeDisposition]  # decided by the month's end
    training_days: list[TrainingDay]  # in the month
    penalties: list[TrainerPenalty]  # assessed in the month


async def month_facts(pool: asyncpg.Pool, month: Month, policy: PayPolicy) -> MonthFacts:
    employees = await paid_employees(pool)
    return MonthFacts(
        await payslips(pool, employees, month, policy),
        await dispositions(pool, month.last_day),
        await training_days(pool, month),
        await penalties(pool, month),
    )
