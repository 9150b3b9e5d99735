"""What a what-if reads of compensation's store: the employees in scope with their pay accounts
(rates and the period's inputs), and the dispositions and training days the fees come from.
Reads only; nothing is appended (docs/what-if.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from operator import itemgetter

import asyncpg

from .domain.account import PAY_ACCOUNT, account_stream
from .domain.events import registry
from .domain.fees import TraineeDisposition, TrainingDay
from .domain.months import Month
from .domain.vocabulary import Category
from .upstream import ACCOUNT_PREFIX, _decode, dispositions
from .what_if import Employee

_EMPLOYEES = (
    "SELECT employee_id, category, branch_id FROM known_employees"
    " WHERE ($1::text[] IS NULL OR employee_id = ANY($1::text[]))"
    " AND ($2::text[] IS NULL OR branch_id = ANY($2::text[]))"
    " AND ($3 OR EXISTS (SELECT 1 FROM events e WHERE e.stream_id = 'employee-' || employee_id"
    " AND e.type = 'PayRateSet')) ORDER BY employee_id"
)
_ACCOUNTS = (
    "SELECT stream_id, type, schema_version, data FROM events WHERE stream_id = ANY($1::text[])"
    " AND (type = 'PayRateSet' OR data ->> 'month' = ANY($2::text[])) ORDER BY stream_id, version"
)


async def employees(
    pool: asyncpg.Pool,
    ids: Sequence[str] | None,
    branches: Sequence[str] | None,
    months: Sequence[Month],
) -> list[Employee]:
    """The employees named (``ids``; None: every one with a pay rate) in ``branches`` (None:
    every branch), each with its rates and its inputs of ``months``."""
    rows = await pool.fetch(_EMPLOYEES, ids, branches, ids is not None)
    known = {r["employee_id"]: r for r in rows if r["category"] in set(Category)}
    streams = [account_stream(e) for e in known]
    events = await pool.fetch(_ACCOUNTS, streams, [str(m) for m in months])
    accounts = {
        stream.removeprefix(ACCOUNT_PREFIX): PAY_ACCOUNT.fold(
            [_decode(registry.types, *row[1:]) for row in group]
        )
        for stream, group in groupby(events, key=itemgetter(0))
    }
    return [
        Employee(e, Category(r["category"]), r["branch_id"], accounts.get(e, PAY_ACCOUNT.initial()))
        for e, r in known.items()
    ]


async def fee_facts(
    pool: asyncpg.Pool, first: date, last: date, branches: Sequence[str] | None
) -> tuple[list[TraineeDisposition], list[TrainingDay]]:
    """R-19's inputs: dispositions decided by ``last`` (of ``branches``) and the period's days."""
    decided = [d for d in await dispositions(pool, last) if not branches or d.branch_id in branches]
    rows = await pool.fetch(
        "SELECT trainee_id, day FROM training_days WHERE day BETWEEN $1 AND $2", first, last
    )
    return decided, [TrainingDay(r["trainee_id"], r["day"]) for r in rows]
