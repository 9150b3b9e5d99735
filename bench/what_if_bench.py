"""The what-if suite: a draft weighed over 10,000 graded trainees and a year of pay inputs (issue
18: "under 10 s on this machine"), in seconds.

Gradeline: ``POST /what-if`` to the assessment app in process (middleware, token, route: every
trainee's latest decision read and decoded from the event store, graded under the policy in
force and under the draft, the penalties re-fined), which posts the changed decisions to
compensation's ``POST /what-if/pay`` (the compensation app in process, over an ASGI transport:
the employees' pay accounts read and folded, twelve payslips each on both sides, the fees), as
the routes run in production; neither app runs its background workers.

Baseline: the minimal work of the same answer, in the same process: the same pure functions
(``regrade`` with ``grade``, ``compare_pay`` with ``rates_in_month`` and ``compute_payslip``,
``cost_delta``) over the same decisions and accounts held in memory, no store, no HTTP.

Data, made once: trainee ``i`` has written score 80.0 + (i mod 201) / 10 and practical mean 96,
graded on 5 January 2026 (so 1 in 20 or so scores in [97, 98)); its ``GradeAssigned`` is
appended to assessment's store, its facts to ``trainee_facts``; its pay account (the rate the
grade set, through the pay account's decider, and twelve months of travel days and ratings) to
compensation's store, its enrolment to ``known_employees``. Drafts: the engineer-senior band
raised from 97 to 98 (grading), and, as a second row, the engineer-senior monthly pay raised by
100 (a pay table: every payslip of the year re-priced on both sides). Both sides must agree on
the period's cost difference.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from bench.common import BenchConfig, Row, alternate, comparison_row, fresh_database, log
from services.assessment import app as assessment_app
from services.assessment import policies as assessment_policies
from services.assessment.domain.assessment import stream_id
from services.assessment.domain.events import GradeAssigned, TraineeFacts
from services.assessment.domain.events import registry as assessment_registry
from services.assessment.domain.vocabulary import Education
from services.assessment.policy.grading import GRADING, GradingInputs, grade
from services.assessment.what_if import Decided, Outcome, Regraded, regrade
from services.compensation import app as compensation_app
from services.compensation import policies as compensation_policies
from services.compensation.domain.account import PAY_ACCOUNT, account_stream
from services.compensation.domain.commands import (
    AccountCommand,
    ApplyGrade,
    RatePerformance,
    RecordTravelDays,
)
from services.compensation.domain.events import registry as pay_registry
from services.compensation.domain.vocabulary import Category, Level, Position
from services.compensation.policy.pay import FEES, PAY
from services.compensation.what_if import (
    DraftGrade,
    Employee,
    Scenario,
    compare_pay,
    cost_delta,
    months_between,
)
from shared import db
from shared.auth import Role, mint_token
from shared.events import SYSTEM_ACTOR, NewEvent
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.policy_store import PolicyShelf
from shared.settings import Settings

SUITE = "what-if"
TRAINEES = 10_000
BRANCHES = ("hq", "bo-east", "bo-west", "dl-north", "dl-south")
SESSION = "s-bench"
GRADED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 1, 1), date(2026, 12, 31)
MONTHS = months_between(FIRST, LAST)
APPEND_BATCH = 500
IN_FORCE = GRADING.in_force(LAST)
PAY_IN_FORCE = PAY.in_force(LAST)
FACTS = TraineeFacts(
    education=Education.VOCATIONAL_SECONDARY,
    experience_years=Decimal(4),
    certificate_count=0,
    mastered_series=["X1", "X2", "X3"],
)
PRACTICAL = dict(
    zip(IN_FORCE.practical_departments, map(Decimal, ("96", "95", "97", "98", "94")), strict=True)
)
GRADELINE, BASELINE = "Gradeline", "baseline"


def band_draft() -> dict[str, Any]:
    bands = IN_FORCE.model_dump(mode="json")["bands"]
    bands[0]["min_score"] = "98"
    return {"grading": {"bands": bands}}


def pay_draft() -> dict[str, Any]:
    document = PAY_IN_FORCE.model_dump(mode="json")
    for row in document["rows"]:
        if (row["category"], row["position"], row["level"]) == (
            "hq_full_time",
            "engineer",
            "senior",
        ):
            row["monthly"] = str(Decimal(row["monthly"]) + 100)
    return {"pay": document}


@dataclass(frozen=True)
class Trainee:
    decided: Decided
    grade_event: NewEvent
    employee: Employee
    pay_events: list[NewEvent]


def trainee(i: int) -> Trainee:
    """Trainee ``i``: its grade decision (by ``grade``) and its pay account (by the decider)."""
    trainee_id, branch = f"t-{i:06d}", BRANCHES[i % len(BRANCHES)]
    inputs = GradingInputs(
        Decimal(800 + i % 201) / 10,
        PRACTICAL,
        FACTS.education,
        FACTS.experience_years,
        FACTS.certificate_count,
        tuple(FACTS.mastered_series),
    )
    result = grade(inputs, IN_FORCE)
    assert result.position is not None and result.level is not None and result.grade_score
    event = GradeAssigned(
        trainee_id=trainee_id,
        session_id=SESSION,
        position=result.position,
        level=result.level,
        grade_score=result.grade_score,
        written=inputs.written,
        practical=PRACTICAL,
        practical_mean=result.practical_mean,
        facts=FACTS,
        capped_by=result.capped_by,
        policy_version=result.policy_version,
        rule_trace=result.rule_trace,
        review_flags=result.review_flags,
        assigned_at=GRADED_AT,
    )
    grade_event = assessment_registry.encode(
        event, actor=SYSTEM_ACTOR, branch_id=branch, policy_version=IN_FORCE.version
    )
    commands: list[AccountCommand] = [
        ApplyGrade(
            trainee_id,
            Category.HQ_FULL_TIME,
            Position(result.position),
            Level(result.level),
            GRADED_AT.date(),
            grade_event.event_id,
            decided_at=GRADED_AT,
        ),
        *(RecordTravelDays(trainee_id, str(m), i % 6, "bench") for m in MONTHS),
        *(RatePerformance(trainee_id, str(m), Decimal(90 + i % 11)) for m in MONTHS),
    ]
    state, events = PAY_ACCOUNT.initial(), []
    for command in commands:
        decided = PAY_ACCOUNT.decide(command, state)
        state = PAY_ACCOUNT.fold(decided, state)
        events += [pay_registry.encode(e, actor=SYSTEM_ACTOR, branch_id=branch) for e in decided]
    recorded = Outcome(True, str(result.position), str(result.level), result.grade_score)
    decision = Decided(
        trainee_id, branch, SESSION, grade_event.event_id, GRADED_AT.date(), inputs,
        IN_FORCE.version, recorded,
    )  # fmt: skip
    return Trainee(
        decision, grade_event, Employee(trainee_id, Category.HQ_FULL_TIME, branch, state), events
    )


async def load(pools: dict[str, asyncpg.Pool], trainees: list[Trainee]) -> None:
    stores = {name: PostgresEventStore(pool, name) for name, pool in pools.items()}
    for start in range(0, len(trainees), APPEND_BATCH):
        batch = trainees[start : start + APPEND_BATCH]
        await asyncio.gather(
            *(
                stores["assessment"].append(
                    stream_id(SESSION, t.decided.trainee_id), [t.grade_event], NO_STREAM
                )
                for t in batch
            ),
            *(
                stores["compensation"].append(
                    account_stream(t.decided.trainee_id), t.pay_events, NO_STREAM
                )
                for t in batch
            ),
        )
    await pools["assessment"].executemany(
        "INSERT INTO trainee_facts (trainee_id, category, branch_id, education, experience_years,"
        " enrolled_series, status, status_version) VALUES ($1, 'hq_full_time', $2, $3, 4,"
        ' \'["X1", "X2", "X3"]\', \'placed\', 1)',
        [(t.decided.trainee_id, t.decided.branch_id, str(FACTS.education)) for t in trainees],
    )
    await pools["compensation"].executemany(
        "INSERT INTO known_employees (employee_id, category, branch_id) VALUES ($1, $2, $3)",
        [(t.decided.trainee_id, "hq_full_time", t.decided.branch_id) for t in trainees],
    )
    for pool in pools.values():
        await pool.execute("VACUUM (ANALYZE)")


def in_memory(trainees: list[Trainee], policies: dict[str, Any]) -> dict[str, Any]:
    """The baseline: the same answer's pure work over the data held in memory."""
    draft = IN_FORCE
    if "grading" in policies:
        draft = IN_FORCE.model_copy(update={"version": "draft"})
        draft = type(IN_FORCE).model_validate(
            {**draft.model_dump(mode="json"), **policies["grading"]}
        )
    changed = [r for r in regrade([t.decided for t in trainees], IN_FORCE, draft) if r.changed]
    table = PAY.named(PAY_IN_FORCE.version)
    fees = FEES.in_force  # the bench weighs no fees draft
    after = Scenario(lambda m: PAY.in_force(m.last_day), lambda m: fees(m.last_day))
    if "pay" in policies:
        table = type(PAY_IN_FORCE).model_validate({**policies["pay"], "version": "draft"})
        after = Scenario(lambda m: table, lambda m: fees(m.last_day), table)
    grades = {r.decided.trainee_id: [draft_grade(r)] for r in changed}
    staff = [t.employee for t in trainees if "pay" in policies or t.decided.trainee_id in grades]
    before = Scenario(lambda m: PAY.in_force(m.last_day), lambda m: fees(m.last_day))
    pay = compare_pay(staff, grades, MONTHS, before, after, PAY.in_force)
    return cost_delta(pay, {}, {}, MONTHS)


def draft_grade(r: Regraded) -> DraftGrade:
    position = Position(r.after.position or "reserve")
    level = Level(r.after.level) if r.after.level else None
    return DraftGrade(
        r.decided.trainee_id, r.decided.event_id, position, level, r.decided.decided_on
    )


@asynccontextmanager
async def services(
    config: BenchConfig,
) -> AsyncIterator[tuple[dict[str, asyncpg.Pool], httpx.AsyncClient, str]]:
    """The two apps in process on fresh databases, without their workers; assessment's client."""
    settings = Settings(
        pg_dsn=config.pg_dsn,
        amqp_url=config.amqp_url,
        namespace=f"bench{secrets.token_hex(4)}",
        jwt_secret=secrets.token_hex(32),
        seal_key=secrets.token_hex(32),
        environment="test",
        log_level="WARNING",
    )
    async with AsyncExitStack() as stack:
        apps: dict[str, FastAPI] = {}
        pools: dict[str, asyncpg.Pool] = {}
        services = (
            ("assessment", assessment_app, assessment_policies.POLICIES),
            ("compensation", compensation_app, compensation_policies.POLICIES),
        )
        for name, module, policies in services:
            dsn = await stack.enter_async_context(fresh_database(config.pg_dsn, name))
            app = module.create_app(settings)
            pool = await db.create_pool(dsn, size=settings.pool_size)
            stack.push_async_callback(pool.close)
            await db.migrate(pool, [db.CORE_MIGRATIONS, *module.MIGRATIONS])
            app.state.pool, app.state.store = pool, PostgresEventStore(pool, name)
            # The shipped policy versions, as a fresh deployment's books hold them.
            app.state.policies = PolicyShelf(app.state.store, {p.name: p for p in policies})
            apps[name], pools[name] = app, pool
        apps["assessment"].state.compensation_transport = httpx.ASGITransport(
            app=apps["compensation"]
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=apps["assessment"]),
            base_url="http://bench",
            timeout=600,
        )
        stack.push_async_callback(client.aclose)
        token = mint_token(settings.jwt_secret, "bench-boss", [Role.MANAGEMENT])
        yield pools, client, token


async def measure(
    client: httpx.AsyncClient, token: str, trainees: list[Trainee], policies: dict[str, Any]
) -> dict[str, list[float]]:
    body = {"policies": policies, "from": FIRST.isoformat(), "to": LAST.isoformat()}
    totals: dict[str, str] = {}

    async def gradeline() -> int:
        answer = await client.post(
            "/what-if", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if answer.status_code != 200:
            raise RuntimeError(f"POST /what-if: {answer.status_code} {answer.text[:500]}")
        totals[GRADELINE] = answer.json()["monthly_cost_delta"]["total"]["delta"]
        return 1

    async def baseline() -> int:
        totals[BASELINE] = str(in_memory(trainees, policies)["total"]["delta"])
        return 1

    runs = await alternate({GRADELINE: gradeline, BASELINE: baseline})
    if totals[GRADELINE] != totals[BASELINE]:
        raise RuntimeError(f"the sides disagree on the cost difference: {totals}")
    log(f"{SUITE}: cost difference over the year {totals[GRADELINE]}")
    return {name: [1 / r for r in rates] for name, rates in runs.items()}  # seconds per answer


async def run(config: BenchConfig) -> list[Row]:
    n = config.size(TRAINEES, 201)
    log(f"{SUITE}: deciding {n:,} grades and their pay accounts")
    started = time.perf_counter()
    trainees = [trainee(i) for i in range(n)]
    async with services(config) as (pools, client, token):
        log(f"{SUITE}: appending ({time.perf_counter() - started:.0f} s so far)")
        await load(pools, trainees)
        band = await measure(client, token, trainees, band_draft())
        table = await measure(client, token, trainees, pay_draft())
    return rows(n, band, table)


def rows(n: int, band: dict[str, list[float]], table: dict[str, list[float]]) -> list[Row]:
    minimal = "the same pure functions over the data in memory"
    note = (
        f"{n:,} graded trainees in 5 branches, each with a pay account and 12 months of travel "
        "days and ratings; one `POST /what-if` to the assessment app in process for 2026, which "
        "asks the compensation app in process (`POST /what-if/pay`); baseline: `regrade` + "
        "`compare_pay` + `cost_delta` over the same decisions and accounts in memory."
    )
    return [
        comparison_row(
            SUITE,
            f"senior band 97 -> 98, {n:,} trainees, a year",
            (GRADELINE, band[GRADELINE]),
            (minimal, band[BASELINE]),
            unit="s",
            higher_is_better=False,
            min_value=10.0,
            note=note + " Goal: under 10 s (issue 18).",
        ),
        comparison_row(
            SUITE,
            f"pay table drafted, {n:,} trainees, a year",
            (GRADELINE, table[GRADELINE]),
            (minimal, table[BASELINE]),
            unit="s",
            higher_is_better=False,
            note="every payslip of the year re-priced on both sides; no goal is set.",
        ),
    ]
