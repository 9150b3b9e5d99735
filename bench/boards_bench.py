"""The boards suite: the trainer board (assessment), the training-progress board (training) and the
monthly trends (assessment), at 100,000 trainees.

Data, built without HTTP through each projection's own ``apply``/``apply_batch`` (in a
transaction with the projection's schema on the search path, as the runner applies a batch):

- assessment: 100,000 trainees in 20 exam sessions of 5,000; 200 trainers, 50 per session with
  100 trainees each: 1,000 ``TrainerPenaltyAssessed`` (8 of the 100 failed; every other trainer
  fined, so 4,000 trainees owed retraining), 2,000 R-13 demerits from training; every trainee's
  decision (one in ten an ``AssessmentFailed``) spread over the 12 months of 2026 for the trends.
- training: 100,000 trainees over 5 branches, each enrolled (the inbox source) with a plan of 4
  stages drafted; 80 % approved, a quarter of those completed, 3 % withdrawn; stages signed off
  as far as each plan got, 2 % of sign-offs disputed, 1 % of stages sent back, 500 demerits.

Every side is read through the whole route (the service app in process: middleware, token,
JSON encoding; httpx's ASGI transport), against a baseline measured in the same run: the same
answer's rows read from a plain table that holds exactly them (no aggregation), as dicts.

1. a) ``GET /board/trainers``: the whole board, one session, one page of 100 rows.
2. b) ``GET /board/progress``: every branch, and one branch.
3. c) ``GET /board/trends``: twelve months, every branch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from fastapi import APIRouter

from bench.assessment_bench import Call, latencies
from bench.common import BenchConfig, Row, comparison_row, fresh_database, log, percentile
from services.assessment import app as assessment_app
from services.assessment import reads as assessment_reads
from services.assessment.projections import TRAINER_BOARD
from services.assessment.trends import TRENDS
from services.assessment.trends import router as trends_router
from services.training import app as training_app
from services.training import reads as training_reads
from services.training.projections import PROGRESS
from shared import db
from shared.api import create_service_app
from shared.auth import Role, mint_token
from shared.events import Actor, Envelope
from shared.projections import Projection, create_missing_tables
from shared.settings import Settings

SUITE = "boards"
POOL_SIZE = 10  # Settings.pool_size: what the service runs with
GOAL_MS = 20.0  # issue 20: p99 <= 20 ms at 100,000 trainees
BRANCHES = ("dl-north", "dl-south", "sh-east", "gz-west", "cd-central")
SESSION_SIZE = 5_000
TRAINERS = 200
PER_TRAINER = 100  # trainees of one trainer in one session
FAILED_PER_ROW = 8
DEMERITS = 2_000
BATCH = 1_000
PAGE = 100
YEAR = 2026

GRADELINE = "Gradeline"
RAW = "raw"
FLOOR = "floor"


@dataclass(frozen=True, slots=True)
class Sizes:
    trainees: int
    reps: int

    @classmethod
    def of(cls, config: BenchConfig) -> Sizes:
        return cls(trainees=config.size(100_000, 5_000), reps=config.size(200, 30))


def trainee_id(i: int) -> str:
    return f"t-{i:06d}"


def envelope(
    service: str, stream: str, position: int, type_: str, data: dict[str, Any], **kw: Any
) -> Envelope:
    moment = kw.pop("at", None) or datetime(YEAR, 1, 5, 9, 0, tzinfo=UTC)
    actor = Actor("bench", "after_sales_manager")
    return Envelope(
        uuid.uuid4(),
        stream,
        1,
        position,
        type_,
        1,
        moment,
        moment,
        data,
        actor,
        service=service,
        **kw,
    )


async def apply_all(
    pool: asyncpg.Pool, projection: Projection, envelopes: Sequence[Envelope]
) -> None:
    """The envelopes through the projection, in batches, as the runner applies them."""
    for start in range(0, len(envelopes), BATCH):
        batch = envelopes[start : start + BATCH]
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {projection.schema}, public")
            if projection.apply_batch is not None:
                await projection.apply_batch(conn, batch)
            else:
                for e in batch:
                    await projection.apply(conn, e)


async def settle(pool: asyncpg.Pool) -> None:
    await pool.execute("VACUUM (ANALYZE)")


@asynccontextmanager
async def in_process(
    config: BenchConfig,
    dsn: str,
    service: str,
    routers: Sequence[APIRouter],
    migrations: Sequence[Path],
) -> AsyncIterator[httpx.AsyncClient]:
    """The service app in process (no background workers) as management, through httpx's ASGI
    transport."""
    database = urlsplit(dsn).path.lstrip("/")
    settings = Settings(
        pg_dsn=config.pg_dsn,
        amqp_url=config.amqp_url,
        namespace=database.removesuffix(f"_{service}"),
        log_level="WARNING",
    )
    assert settings.database_name(service) == database, database
    app = create_service_app(
        settings, service=service, title="bench", routers=routers, migrations=migrations
    )
    token = mint_token(settings.jwt_secret, "boss", [Role.MANAGEMENT])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://b",
            headers={"Authorization": f"Bearer {token}"},
        ) as client,
    ):
        yield client


def getter(client: httpx.AsyncClient, path: str) -> Call:
    async def get() -> object:
        answer = await client.get(path)
        answer.raise_for_status()
        return answer.content

    return get


def fetcher(pool: asyncpg.Pool, sql: str, *args: Any) -> Call:
    async def fetch() -> object:
        return [dict(row) for row in await pool.fetch(sql, *args)]

    return fetch


async def measure(
    client: httpx.AsyncClient, path: str, raw: Call, reps: int
) -> dict[str, list[float]]:
    """The route, its baseline and the HTTP floor (the same app's ``GET /health`` through the
    same client: what any route costs here before it reads anything), call by call in turn."""
    sides = {GRADELINE: getter(client, path), RAW: raw, FLOOR: getter(client, "/health")}
    return await latencies(sides, reps)


def goal_rows(workload: str, runs: dict[str, list[float]], baseline: str, note: str) -> list[Row]:
    floor = ", ".join(f"p{pct} {percentile(runs[FLOOR], pct):.1f} ms" for pct in (50, 99))
    note = f"{note} HTTP floor in the same run (`GET /health`, same app and client): {floor}."
    return [
        comparison_row(
            SUITE,
            f"{workload}, p{pct}",
            (GRADELINE, [percentile(runs[GRADELINE], pct)]),
            (baseline, [percentile(runs[RAW], pct)]),
            unit="ms",
            higher_is_better=False,
            min_value=GOAL_MS if pct == 99 else None,
            note=note,
        )
        for pct in (50, 99)
    ]


# --- a) the trainer board ------------------------------------------------------------------------


def penalties(count: int) -> Iterator[Envelope]:
    sessions = max(1, count // SESSION_SIZE)
    per_session = SESSION_SIZE // PER_TRAINER
    for s in range(sessions):
        session_id = f"s-{s + 1:03d}"
        for k in range(per_session):
            trainer = f"tr-{(s * 10 + k) % TRAINERS:03d}"
            first = s * SESSION_SIZE + k * PER_TRAINER
            trainees = [trainee_id(first + j) for j in range(PER_TRAINER)]
            fined = k % 2 == 0
            data = {
                "session_id": session_id,
                "trainer_id": trainer,
                "product_series": "X1",
                "trainees": trainees,
                "failed": trainees[:FAILED_PER_ROW],
                "failure_rate": str(FAILED_PER_ROW / PER_TRAINER),
                "fine": "200.00" if fined else "0",
                "policy_version": "2026-01",
                "rule_trace": ["R-24"],
                "assessed_on": f"{YEAR}-{s % 12 + 1:02d}-15",
                "content": None,
            }
            stream = f"session-{session_id}"
            yield envelope(
                "assessment", stream, s * per_session + k + 1, "TrainerPenaltyAssessed", data
            )


def demerits() -> Iterator[Envelope]:
    for n in range(DEMERITS):
        data = {"trainer_id": f"tr-{n % TRAINERS:03d}", "reason": "late", "trainee_id": None}
        yield envelope("training", f"trainer-{n}", n + 1, "TrainerDemeritRecorded", data)


TRAINER_PLAIN = """
CREATE TABLE plain_trainer_rows AS
SELECT session_id, trainer_id, product_series, content, jsonb_array_length(trainees) AS trainees,
       jsonb_array_length(failed) AS failed, failure_rate, fine, policy_version, assessed_on
FROM proj_trainer_board.penalties
"""
TRAINER_ALL = "SELECT * FROM plain_trainer_rows ORDER BY session_id, trainer_id"
TRAINER_SESSION = "SELECT * FROM plain_trainer_rows WHERE session_id = $1 ORDER BY trainer_id"
TRAINER_PAGE = "SELECT * FROM plain_trainer_rows ORDER BY session_id, trainer_id LIMIT $1"


async def trainer_phase(pool: asyncpg.Pool, client: httpx.AsyncClient, sizes: Sizes) -> list[Row]:
    rows = await pool.fetchval("SELECT count(*) FROM proj_trainer_board.penalties")
    log(f"{SUITE}: trainer board over {rows:,} penalty rows, {sizes.reps} reads a side")
    what = (
        f"{sizes.trainees:,} trainees in sessions of {SESSION_SIZE:,}, {rows:,} penalty rows "
        f"(trainer x session) of {PER_TRAINER} trainees, {DEMERITS:,} demerits; baseline: the "
        "same rows' scalar columns read from a plain table, as dicts; "
        f"{sizes.reps} reads a side, alternating, after 3 warm-ups."
    )
    found: list[Row] = []
    cases = (
        ("a) GET /board/trainers, whole board", "/board/trainers", fetcher(pool, TRAINER_ALL)),
        (
            "a) GET /board/trainers?session_id=, one session",
            "/board/trainers?session_id=s-001",
            fetcher(pool, TRAINER_SESSION, "s-001"),
        ),
        (
            f"a) GET /board/trainers?limit={PAGE}, one page",
            f"/board/trainers?limit={PAGE}",
            fetcher(pool, TRAINER_PAGE, PAGE),
        ),
    )
    for workload, path, raw in cases:
        runs = await measure(client, path, raw, sizes.reps)
        found += goal_rows(workload, runs, "plain table, same rows", f"`{path}`: {what}")
    return found


# --- c) the trends ------------------------------------------------------------------------------


def decisions(count: int) -> Iterator[Envelope]:
    """Every trainee's decision, one in ten a failure, spread over the twelve months."""
    for i in range(count):
        tid, branch = trainee_id(i), BRANCHES[i % len(BRANCHES)]
        moment = datetime(YEAR, i % 12 + 1, i % 28 + 1, 10, tzinfo=UTC).isoformat()
        if i % 10 == 9:
            type_, data = "AssessmentFailed", {"trainee_id": tid, "assessed_at": moment}
        else:
            data = {"trainee_id": tid, "position": "technician", "assigned_at": moment}
            type_ = "GradeAssigned"
        stream = f"sitting-{tid}"
        yield envelope("assessment", stream, i + 1, type_, data, branch_id=branch)


TRENDS_PLAIN = """
CREATE TABLE plain_trends AS
SELECT month, branch_id, graded, failed, 0 AS fines, 0::numeric AS amount
FROM proj_trends.monthly_decisions
"""
TRENDS_RAW = "SELECT * FROM plain_trends WHERE month BETWEEN $1 AND $2 ORDER BY month, branch_id"


async def trends_phase(pool: asyncpg.Pool, client: httpx.AsyncClient, sizes: Sizes) -> list[Row]:
    log(f"{SUITE}: trends over {sizes.trainees:,} decisions, {sizes.reps} reads a side")
    path = f"/board/trends?from={YEAR}-01&to={YEAR}-12"
    answer = (await client.get(path)).json()
    graded = sum(row["graded"] + row["failed"] for row in answer["totals"])
    if graded != sizes.trainees or sum(row["fines"] for row in answer["totals"]) == 0:
        raise RuntimeError(f"{SUITE}: the trends count {graded} decisions")
    first, last = date(YEAR, 1, 1), date(YEAR, 12, 1)
    runs = await measure(client, path, fetcher(pool, TRENDS_RAW, first, last), sizes.reps)
    note = (
        f"`{path}`: twelve months x {len(BRANCHES)} branches from the `trends` projection's "
        f"monthly tables ({sizes.trainees:,} decisions, a tenth failed, and the trainer board's "
        "fines), with the staff's branches for the fines; baseline: the same month x branch "
        f"rows read from a plain table, as dicts; {sizes.reps} reads a side, alternating."
    )
    return goal_rows("c) GET /board/trends, a year, every branch", runs, "plain table", note)


# --- b) the training-progress board --------------------------------------------------------------


def progress_events(count: int) -> tuple[list[Envelope], list[Envelope]]:
    """(inbox envelopes, the service's own events) of ``count`` trainees in training."""
    inbox: list[Envelope] = []
    events: list[Envelope] = []

    def own(stream: str, type_: str, data: dict[str, Any], branch: str) -> None:
        events.append(envelope("training", stream, len(events) + 1, type_, data, branch_id=branch))

    start = date(YEAR, 1, 5)
    for i in range(count):
        tid, branch = trainee_id(i), BRANCHES[i % len(BRANCHES)]
        enrolled = {"trainee_id": tid, "branch_id": branch, "name": tid, "category": "x"}
        inbox.append(
            envelope(
                "enrollment", f"trainee-{tid}", i + 1, "TraineeEnrolled", enrolled, branch_id=branch
            )
        )
        stream = f"plan-{tid}"
        first = start + timedelta(days=i % 330)
        stages = [
            {
                "no": no,
                "content": f"stage {no}",
                "department": "technical",
                "trainer_id": f"tr-{(i + no) % TRAINERS:03d}",
                "topic": "product",
                "planned_start": (first + timedelta(days=7 * (no - 1))).isoformat(),
                "planned_end": (first + timedelta(days=7 * no - 1)).isoformat(),
            }
            for no in range(1, 5)
        ]
        own(stream, "PlanDrafted", {"trainee_id": tid, "revision": 1, "stages": stages}, branch)
        if i % 5 == 4:
            continue  # a draft awaiting approval
        own(stream, "PlanApproved", {"trainee_id": tid, "revision": 1}, branch)
        signed = 4 if i % 4 == 0 else i % 4
        for no in range(1, signed + 1):
            signed_off = {
                "trainee_id": tid,
                "stage_no": no,
                "trainer_id": stages[no - 1]["trainer_id"],
                "disputed": i % 50 == 0,
            }
            own(stream, "StageSignedOff", signed_off, branch)
        if i % 100 == 1 and signed >= 2:
            own(stream, "StageReturned", {"trainee_id": tid, "stage_no": 2, "to_stage": 1}, branch)
        if signed == 4:
            own(stream, "TrainingCompleted", {"trainee_id": tid}, branch)
        if i % 33 == 2:
            withdrawn = {"trainee_id": tid}
            inbox.append(
                envelope(
                    "enrollment", f"trainee-{tid}", count + i + 1, "TraineeWithdrawn", withdrawn
                )
            )
    for n in range(500):
        data = {"trainer_id": f"tr-{n % TRAINERS:03d}", "trainee_id": trainee_id(n)}
        own(f"trainer-{n}", "TrainerDemeritRecorded", data, BRANCHES[n % len(BRANCHES)])
    return inbox, events


PROGRESS_PLAIN = """
CREATE TABLE plain_progress AS SELECT * FROM (VALUES ('x', 0, 0, 0, 0, 0, 0, 0, 0, 0)) AS v(
    branch_id, trainees, without_plan, draft, approved, completed, withdrawn, overdue_stages,
    disputes, send_backs) WHERE false;
CREATE TABLE plain_trainer_tallies AS
SELECT trainer_id, sum(disputed_stages)::int AS disputed_stages,
       sum(dissenting_days)::int AS dissenting_days,
       sum(send_backs_received)::int AS send_backs_received, sum(demerits)::int AS demerits
FROM proj_progress.trainer_tallies GROUP BY trainer_id
"""
PROGRESS_RAW_ROWS = "SELECT * FROM plain_progress WHERE $1::text IS NULL OR branch_id = $1"
PROGRESS_RAW_TRAINERS = "SELECT * FROM plain_trainer_tallies ORDER BY trainer_id"


async def progress_plain(pool: asyncpg.Pool, client: httpx.AsyncClient) -> None:
    """The plain tables of the baseline: the answer's own rows, copied from a first answer."""
    await pool.execute(PROGRESS_PLAIN)
    board = (await client.get("/board/progress")).json()
    columns = (
        *("branch_id", "trainees", "without_plan", "draft", "approved", "completed"),
        *("withdrawn", "overdue_stages", "disputes", "send_backs"),
    )
    await pool.executemany(
        f"INSERT INTO plain_progress VALUES ({', '.join(f'${n}' for n in range(1, 11))})",
        [tuple(row[c] for c in columns) for row in board["rows"]],
    )
    await pool.execute("VACUUM (ANALYZE) plain_progress, plain_trainer_tallies")


async def progress_phase(pool: asyncpg.Pool, client: httpx.AsyncClient, sizes: Sizes) -> list[Row]:
    log(f"{SUITE}: progress board over {sizes.trainees:,} trainees, {sizes.reps} reads a side")
    await progress_plain(pool, client)
    stages = await pool.fetchval("SELECT count(*) FROM proj_progress.stages")
    what = (
        f"{sizes.trainees:,} trainees over {len(BRANCHES)} branches, {stages:,} stages, "
        f"{TRAINERS} trainers; baseline: the answer's rows (branches and trainer tallies) read "
        f"from plain tables holding exactly them, as dicts; {sizes.reps} reads a side, "
        "alternating, after 3 warm-ups."
    )

    def raw(branch: str | None) -> Call:
        async def read() -> object:
            rows = [dict(r) for r in await pool.fetch(PROGRESS_RAW_ROWS, branch)]
            return rows, [dict(r) for r in await pool.fetch(PROGRESS_RAW_TRAINERS)]

        return read

    found: list[Row] = []
    for workload, path, branch in (
        ("b) GET /board/progress, every branch", "/board/progress", None),
        (
            "b) GET /board/progress?branch_id=, one branch",
            f"/board/progress?branch_id={BRANCHES[0]}",
            BRANCHES[0],
        ),
    ):
        runs = await measure(client, path, raw(branch), sizes.reps)
        found += goal_rows(workload, runs, "plain tables, same rows", f"`{path}`: {what}")
    return found


async def register_branches(pool: asyncpg.Pool) -> None:
    """The branches as the directory knows them (a board asked for one needs it known)."""
    for branch in BRANCHES:
        await pool.execute(
            "INSERT INTO branches (branch_id, kind, name_zh, name_en, names_version)"
            " VALUES ($1, 'branch_office', $1, $1, 1) ON CONFLICT DO NOTHING",
            branch,
        )


async def register_trainers(pool: asyncpg.Pool) -> None:
    """The trainers as the directory knows them, each in a branch (a fine counts there)."""
    await pool.executemany(
        "INSERT INTO staff (staff_id, name, department, roles, branch_id)"
        " VALUES ($1, $1, 'technical', '[\"trainer\"]', $2)",
        [(f"tr-{n:03d}", BRANCHES[n % len(BRANCHES)]) for n in range(TRAINERS)],
    )


# --- the suite -------------------------------------------------------------------------------


@asynccontextmanager
async def service_database(
    config: BenchConfig, service: str, migrations: Sequence[Path]
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A fresh database of ``service`` (its migrations run, the branches known) and a pool."""
    async with fresh_database(config.pg_dsn, service) as dsn:
        pool = await db.create_pool(dsn, size=POOL_SIZE)
        try:
            await db.migrate(pool, [db.CORE_MIGRATIONS, *migrations])
            await register_branches(pool)
            yield dsn, pool
        finally:
            await pool.close()


async def assessment_part(config: BenchConfig, sizes: Sizes) -> list[Row]:
    migrations = assessment_app.MIGRATIONS
    async with service_database(config, "assessment", migrations) as (dsn, pool):
        await register_trainers(pool)
        await create_missing_tables(pool, [TRAINER_BOARD, TRENDS])
        started = time.perf_counter()
        fines = list(penalties(sizes.trainees))
        await apply_all(pool, TRAINER_BOARD, [*fines, *demerits()])
        await apply_all(pool, TRENDS, [*decisions(sizes.trainees), *fines])
        log(f"{SUITE}: trainer board and trends built in {time.perf_counter() - started:.1f} s")
        await pool.execute(TRAINER_PLAIN)
        await pool.execute(TRENDS_PLAIN)
        await settle(pool)
        routers = [assessment_reads.router, trends_router]
        async with in_process(config, dsn, "assessment", routers, migrations) as client:
            rows = await trainer_phase(pool, client, sizes)
            return rows + await trends_phase(pool, client, sizes)


async def training_part(config: BenchConfig, sizes: Sizes) -> list[Row]:
    migrations = training_app.MIGRATIONS
    async with service_database(config, "training", migrations) as (dsn, pool):
        await create_missing_tables(pool, [PROGRESS])
        inbox, events = progress_events(sizes.trainees)
        started = time.perf_counter()
        await apply_all(pool, PROGRESS, inbox)
        await apply_all(pool, PROGRESS, events)
        elapsed = time.perf_counter() - started
        count = len(inbox) + len(events)
        log(f"{SUITE}: progress board built from {count:,} events in {elapsed:.1f} s")
        await settle(pool)
        routers = [training_reads.router]
        async with in_process(config, dsn, "training", routers, migrations) as client:
            return await progress_phase(pool, client, sizes)


async def run(config: BenchConfig) -> list[Row]:
    """The trainer board, the progress board and the trends through their routes."""
    sizes = Sizes.of(config)
    rows = await assessment_part(config, sizes)
    rows += await training_part(config, sizes)
    return rows
