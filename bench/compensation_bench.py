"""The compensation suite: a payroll run for 10,000 employees, in seconds and employees/s.

Goals (issue 20): a run of 10,000 employees takes at most 3 s, and Gradeline reaches at least
0.80x the baseline's throughput measured in the same run (both rows below say whether they are
met; ``--strict`` fails on a miss).

Gradeline: ``POST /payroll/{month}/run`` as one request to the compensation app (``create_app``,
through its middleware, auth and route; the lifespan's relay, consumer and projection workers are
not started, so nothing else competes for the cores while the run is timed). The handler reads
every pay account from the event store, computes each payslip, decides the month's run and
appends the payslips to ``payroll-<month>`` in one append (one transaction, the stream's
version checked once), then answers what it issued.

Baseline: the minimal work a payroll run must do, in the same process and database: the same pure
domain functions (``rates_in_month``, ``month_inputs``, ``prepare_payslip``) over the same accounts
held in memory, then one ``executemany`` INSERT of the payslip rows into a plain table.

The data is made once, before the runs: each employee's ``PayRateSet`` (from the pay account's own
decider, as the consumer makes it) and its monthly inputs (travel days, rating or piece-rate) for
four months, appended through the compensation store, a batch of streams at a time. A payroll run
with the same inputs issues nothing, so each run is of the next month (a warm-up and 3 rounds:
four months); in each month 1 in 40 employees is re-graded on the 16th, so that month is prorated
(R-32). Both sides' totals are compared month by month: they must be equal.
"""

from __future__ import annotations

import asyncio
import gc
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from bench.common import BenchConfig, Row, alternate, comparison_row, fresh_database, log
from services.compensation.app import MIGRATIONS, create_app
from services.compensation.consumers import SERVICE
from services.compensation.domain.account import (
    PAY_ACCOUNT,
    PayAccount,
    account_stream,
    month_inputs,
    rates_in_month,
)
from services.compensation.domain.commands import (
    AccountCommand,
    ApplyGrade,
    RatePerformance,
    RecordPieceRate,
    RecordTravelDays,
)
from services.compensation.domain.events import registry
from services.compensation.domain.months import Month
from services.compensation.domain.payslip import prepare_payslip
from services.compensation.domain.vocabulary import Category, Level, Position
from services.compensation.policies import POLICIES
from services.compensation.policy.pay import PAY
from shared import db
from shared.auth import Role, mint_token
from shared.events import SYSTEM_ACTOR, Actor, NewEvent
from shared.eventstore import NO_STREAM
from shared.execution import app_aggregates
from shared.metrics import MeteredEventStore
from shared.policy_store import PolicyShelf, seed
from shared.settings import Settings

SUITE = "compensation"
EMPLOYEES = 10_000
MONTHS = ("2026-03", "2026-04", "2026-05", "2026-06")  # the warm-up run and 3 rounds, each side
FIRST_GRADED = date(2026, 1, 5)
REGRADED_EVERY = 40  # in each month, 1 employee in 40 changes grade on the 16th (prorated)
APPEND_BATCH = 500  # streams appended concurrently while preparing (group commit batches them)
CLERK = Actor("bench-payroll", Role.PAYROLL)
GOAL_RATIO = 0.80  # of the baseline's employees/s, measured in the same run (issue 20)
GOAL_SECONDS = 3.0  # per run of 10,000 employees (issue 20), scaled with --scale

# Every paid category x position x level of the pay tables.
GRADES = [
    (category, position, level)
    for category in (Category.HQ_FULL_TIME, Category.PRODUCTION_RESERVE)
    for position in (Position.TECHNICIAN, Position.ENGINEER)
    for level in Level
]
NEXT_LEVEL = {
    Level.JUNIOR: Level.INTERMEDIATE,
    Level.INTERMEDIATE: Level.SENIOR,
    Level.SENIOR: Level.INTERMEDIATE,
}

BASELINE_DDL = """
CREATE TABLE baseline_payslips (
    payslip_id      uuid    PRIMARY KEY,
    month           text    NOT NULL,
    employee_id     text    NOT NULL,
    lines           jsonb   NOT NULL,
    total           numeric NOT NULL,
    inputs_digest   text    NOT NULL,
    policy_version  text    NOT NULL,
    rule_trace      jsonb   NOT NULL
)
"""
BASELINE_INSERT = (
    "INSERT INTO baseline_payslips (payslip_id, month, employee_id, lines, total, inputs_digest,"
    " policy_version, rule_trace) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)

GRADELINE = "Gradeline"
BASELINE = "baseline"


@dataclass(frozen=True, slots=True)
class Employee:
    employee_id: str
    account: PayAccount  # folded from the events appended for it: the baseline's input
    events: list[NewEvent]


def commands(i: int, employee_id: str) -> Iterator[AccountCommand]:
    """What the consumer and the payroll clerks would have done for employee ``i``."""
    category, position, level = GRADES[i % len(GRADES)]
    yield ApplyGrade(employee_id, category, position, level, FIRST_GRADED, uuid.uuid4())
    for k, month in enumerate(MONTHS):
        if i % REGRADED_EVERY == k * REGRADED_EVERY // len(MONTHS):
            level = NEXT_LEVEL[level]
            regraded = Month.parse(month).day(16)
            yield ApplyGrade(employee_id, category, position, level, regraded, uuid.uuid4())
        yield RecordTravelDays(employee_id, month, (i + 3 * k) % 9, CLERK.sub)
        if category is Category.HQ_FULL_TIME:
            yield RatePerformance(employee_id, month, Decimal(70 + (i + k) % 31))
        else:
            yield RecordPieceRate(employee_id, month, Decimal(1200 + (i * 7 + k) % 900) / 4)


def employee(i: int) -> Employee:
    """Employee ``i``'s account and events, decided by the pay account's own decider."""
    employee_id = f"e-{i:06d}"
    state, events = PAY_ACCOUNT.initial(), []
    for command in commands(i, employee_id):
        decided = PAY_ACCOUNT.decide(command, state)
        state = PAY_ACCOUNT.fold(decided, state)
        actor = SYSTEM_ACTOR if isinstance(command, ApplyGrade) else CLERK
        events += [
            registry.encode(
                e, actor=actor, branch_id="hq", policy_version=getattr(e, "policy_version", None)
            )
            for e in decided
        ]
    return Employee(employee_id, state, events)


async def prepare(store: MeteredEventStore, employees: list[Employee]) -> None:
    """Every employee's stream, ``APPEND_BATCH`` streams at a time through the store."""
    for start in range(0, len(employees), APPEND_BATCH):
        batch = employees[start : start + APPEND_BATCH]
        await asyncio.gather(
            *(store.append(account_stream(e.employee_id), e.events, NO_STREAM) for e in batch)
        )


# --- the two sides -----------------------------------------------------------------------------


class Sides:
    """Each side runs the months in turn and keeps each month's total, to compare them."""

    def __init__(self, app: FastAPI, pool: asyncpg.Pool, employees: list[Employee]) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
        )
        token = mint_token(app.state.settings.jwt_secret, CLERK.sub, [Role.PAYROLL])
        self.headers = {"Authorization": f"Bearer {token}"}
        self.pool = pool
        self.employees = employees
        self.months = {GRADELINE: iter(MONTHS), BASELINE: iter(MONTHS)}
        self.totals: dict[str, dict[str, Decimal]] = {GRADELINE: {}, BASELINE: {}}
        # This process's CPU seconds per run (the warm-up's first): what each side costs in
        # Python whatever else the machine runs; PostgreSQL's share is not in it.
        self.cpu: dict[str, list[float]] = {GRADELINE: [], BASELINE: []}

    async def timed(self, side: str, work: Callable[[], Awaitable[int]]) -> int:
        started = time.process_time()
        done = await work()
        self.cpu[side].append(time.process_time() - started)
        return done

    async def gradeline(self) -> int:
        """One payroll run through the app: POST /payroll/{month}/run."""
        month = next(self.months[GRADELINE])
        answer = await self.client.post(f"/payroll/{month}/run", headers=self.headers)
        if answer.status_code != 200:
            raise RuntimeError(f"payroll run {month}: {answer.status_code} {answer.text[:500]}")
        body = answer.json()
        payslips = body["payslips"]
        if body["issued"]["payslips"] != len(self.employees):
            raise RuntimeError(f"payroll run {month} issued {body['issued']}")
        self.totals[GRADELINE][month] = sum((Decimal(p["total"]) for p in payslips), Decimal(0))
        return len(payslips)

    async def baseline(self) -> int:
        """The same payslips from the accounts in memory, then one executemany."""
        month = next(self.months[BASELINE])
        policy = PAY.in_force(Month.parse(month).last_day)  # as the handler chooses it
        rows: list[tuple[Any, ...]] = []
        total = Decimal(0)
        for e in self.employees:
            slip = prepare_payslip(
                e.employee_id,
                uuid.uuid4(),
                month,
                rates_in_month(e.account, month),
                month_inputs(e.account, month),
                policy,
            )
            lines = [line.model_dump(mode="json") for line in slip.lines]
            row = (
                slip.payslip_id,
                month,
                e.employee_id,
                lines,
                slip.total,
                slip.inputs_digest,
                slip.policy_version,
                list(slip.rule_trace),
            )
            rows.append(row)
            total += slip.total
        await self.pool.executemany(BASELINE_INSERT, rows)
        self.totals[BASELINE][month] = total
        return len(rows)

    def check(self) -> None:
        if self.totals[GRADELINE] != self.totals[BASELINE]:
            raise RuntimeError(f"the sides disagree on the months' totals: {self.totals}")


# --- the suite ---------------------------------------------------------------------------------


async def run(config: BenchConfig) -> list[Row]:
    """A payroll run of ``10,000 x scale`` employees against its minimal work."""
    n = config.size(EMPLOYEES, len(GRADES))
    settings = Settings(
        pg_dsn=config.pg_dsn,
        amqp_url=config.amqp_url,
        namespace=f"bench{secrets.token_hex(4)}",
        jwt_secret=secrets.token_hex(32),
        seal_key=secrets.token_hex(32),
        environment="test",
        log_level="WARNING",
    )
    async with fresh_database(config.pg_dsn, SUITE) as dsn:
        app = create_app(settings)
        # What the lifespan opens for the routes, without the AMQP connection and the workers.
        pool = await db.create_pool(dsn, size=settings.pool_size)
        try:
            await db.migrate(pool, [db.CORE_MIGRATIONS, *MIGRATIONS])
            await pool.execute(BASELINE_DDL)
            store = MeteredEventStore(pool, SERVICE, app.state.metrics)
            app.state.pool, app.state.store = pool, store
            # The app's books as its lifespan seeds them: the shipped policy versions.
            app.state.policies = PolicyShelf(store, {p.name: p for p in POLICIES})
            await seed(app.state.policies, app_aggregates(app.state, registry))
            log(f"{SUITE}: deciding the accounts of {n:,} employees")
            employees = [employee(i) for i in range(n)]
            events = sum(len(e.events) for e in employees)
            log(f"{SUITE}: appending {events:,} events to {n:,} accounts")
            await prepare(store, employees)
            await pool.execute("VACUUM (ANALYZE) events")
            # The accounts the baseline reads from memory are set-up, not either side's work: out
            # of the collector's sight, as a service's start-up state is (shared.api.tune_gc),
            # so that neither side's collections pass over 90,000 events held for the other.
            gc.collect()
            gc.freeze()
            sides = Sides(app, pool, employees)
            log(f"{SUITE}: payroll runs of {n:,} employees, months {', '.join(MONTHS)}")
            try:
                runs = await alternate(
                    {
                        GRADELINE: partial(sides.timed, GRADELINE, sides.gradeline),
                        BASELINE: partial(sides.timed, BASELINE, sides.baseline),
                    }
                )
            finally:
                await sides.client.aclose()
            sides.check()
        finally:
            await pool.close()
    cpu = {side: seconds[1:] for side, seconds in sides.cpu.items()}  # without the warm-up
    return rows(n, events, runs, cpu)


def rows(
    n: int, events: int, runs: dict[str, list[float]], cpu: dict[str, list[float]]
) -> list[Row]:
    per_account = events / n
    note = (
        f"{n:,} employees, every paid category x position x level, {per_account:.1f} events per "
        f"account ({len(MONTHS)} months of travel days and rating or piece-rate); 1 in "
        f"{REGRADED_EVERY} re-graded mid-month (prorated); each run is a month not run before. "
        "Gradeline: one `POST /payroll/{month}/run` to the compensation app in process (no "
        "background workers); baseline: `rates_in_month` + `month_inputs` + `prepare_payslip` "
        "over the same accounts in memory, one `executemany` INSERT into a plain table. "
        f"Goal (issue 20): at least {GOAL_RATIO:.2f}x the baseline."
    )
    gradeline, baseline = runs[GRADELINE], runs[BASELINE]
    seconds = ([n / r for r in gradeline], [n / r for r in baseline])
    workload = f"payroll run, {n:,} employees"
    minimal = "domain functions in memory + executemany"
    per_second = comparison_row(
        SUITE,
        workload,
        (GRADELINE, gradeline),
        (minimal, baseline),
        unit="employees/s",
        goal=GOAL_RATIO,
        note=note,
    )
    ceiling = GOAL_SECONDS * n / EMPLOYEES  # 3 s at 10,000 employees; scaled for smoke runs
    wall_time = comparison_row(
        SUITE,
        f"{workload}, wall time",
        (GRADELINE, seconds[0]),
        (minimal, seconds[1]),
        unit="s",
        higher_is_better=False,
        goal=GOAL_RATIO,
        min_value=ceiling,
        note=f"the runs of the row above, in seconds per run. Goal (issue 20): at most "
        f"{ceiling:g} s per run of {n:,} employees, and {GOAL_RATIO:.2f}x the baseline.",
    )
    process_cpu = comparison_row(
        SUITE,
        f"{workload}, CPU of this process",
        (GRADELINE, cpu[GRADELINE]),
        (minimal, cpu[BASELINE]),
        unit="s",
        higher_is_better=False,
        note="CPU seconds of the bench process per run of the rows above (the app runs in it): "
        "what each side costs in Python, less sensitive than wall time to other work on the "
        "machine; PostgreSQL's work (Gradeline's reads and hash-chained append, the baseline's "
        "INSERT) is not counted.",
    )
    return [per_second, wall_time, process_cpu]
