"""The assessment suite: the grade board, its rebuild from history and the audit of one trainee.

Data: 100,000 graded trainees across 5 branches and about 1,000,000 events, built without HTTP.
Each trainee's enrolment reaches the service as an upstream ``TraineeEnrolled`` envelope (hashed as
its producer would) through the consumer's own path (``shared.inbox.handle_batch`` with the
service's handler: inbox row and trainee facts); its sitting is the 7 events the deciders emit (six
``ExamScored`` and the ``GradeAssigned``), appended one stream per append by concurrent writers, so
that the store's group commit batches them; three trainees in seven first failed an earlier sitting
(six ``ExamScored`` and ``AssessmentFailed``), which brings the history to a million events. The
payloads come from the real deciders, run once per score profile and re-addressed per trainee; a
bulk trainee's audit is checked consistent before measuring. The board projection is then rebuilt
once. One more trainee has exactly 200 events, made by ``shared.execution.execute`` with the real
deciders (as the routes do): 20 sittings of 7 events, each then disputed and corrected (dispute
filed and resolved, corrected grade: 3 events).

1. a) the whole grade board with every trainee id, p50/p99, through the route's query function
   (``projections.grade_rows``) and through the whole route (``GET /board/grades?trainee_ids=true``
   of the service app in process: middleware, token, JSON encoding; httpx's ASGI transport), each
   against the same aggregation (``GROUP BY`` with ``count`` and ``array_agg``) over a plain
   4-column table of the same rows.
2. b) ``shared.projections.rebuild`` of the grade board (events/s of history replayed) against
   a raw keyset read of the same events, pages of the same size, as bare records. Both sides
   count the whole history, so the ratio is the ratio of their wall times.
3. c) ``audit_trainee`` of the 200-event trainee, p50/p99, against reading its 200 events and its
   3 inbox entries raw (the same two indexed queries, bare records).
4. d) the board as of a past moment (half the trainees decided by then), p50/p99: the route's
   query function (``grade_rows`` with ``as_of``: each trainee's latest decision recorded by
   then, from the projection's ``grade_history``) against the same aggregation over a plain
   table of the decisions; and, for scale, a few as-of answers the previous way: a replay of
   history into a throw-away schema, event by event (``shared.projections.as_of``).
5. e) to g): the board at scale, issue 20's goals (``bench/board_scale.py``): the counts board,
   the drill-down pages, the counts as of random past moments of the year.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from starlette.datastructures import State

from bench import board_scale
from bench.common import (
    BenchConfig,
    Row,
    Runs,
    alternate,
    comparison_row,
    fresh_database,
    log,
    percentile,
)
from services.assessment import reads
from services.assessment.app import MIGRATIONS
from services.assessment.audit import audit_trainee
from services.assessment.consumers import handle
from services.assessment.domain import dispute
from services.assessment.domain.assessment import TRAINEE_ASSESSMENT
from services.assessment.domain.assessment import stream_id as sitting_stream
from services.assessment.domain.commands import (
    CorrectGrade,
    FileDispute,
    ResolveDispute,
    ScorePractical,
    ScoreWritten,
)
from services.assessment.domain.events import ExamSessionOpened, TraineeFacts, registry
from services.assessment.domain.session import stream_id as session_stream
from services.assessment.domain.vocabulary import DisputeOutcome, Education
from services.assessment.history import OWN_SERVICE, latest_decision
from services.assessment.policy.grading import GRADING
from services.assessment.projections import DECISIONS, GRADE_BOARD, grade_rows, upsert_latest
from services.assessment.upstream import find_trainee
from shared import db
from shared.api import create_service_app
from shared.auth import Role, mint_token
from shared.events import Actor, Envelope, Event, NewEvent
from shared.eventstore import EVENT_COLUMNS, NO_STREAM, PostgresEventStore
from shared.execution import Metadata, execute
from shared.inbox import handle_batch
from shared.projections import as_of, rebuild
from shared.settings import Settings

SUITE = "assessment"
SERVICE = OWN_SERVICE
POOL_SIZE = 10  # Settings.pool_size: what the service runs with
BRANCHES = ("dl-north", "dl-south", "sh-east", "gz-west", "cd-central")
SESSION_SIZE = 5_000  # trainees per exam session
WRITERS = 64  # concurrent appends while loading: group commit batches what they queue
INBOX_BATCH = 1_000
REBUILD_BATCH = 5_000  # shared.projections.rebuild's default batch size
REPLAYS = 3  # as-of answers by replay: each replays the history up to the moment
RETAKES = 3  # of every 7 trainees, this many first failed an earlier sitting
AUDITED = "t-audited"
AUDIT_SITTINGS = 20  # 20 x (7 sitting events + 3 of a corrected dispute) = 200 events
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
EXAMINERS = {
    "technical": "ex-technical",
    "process_engineering": "ex-process",
    "quality": "ex-quality",
    "after_sales": "ex-after-sales",
    "production": "ex-production",
}

MANAGER = "after_sales_manager"

GRADELINE = "Gradeline"
ROUTE = "route"
RAW = "raw"

# The baseline of (a): the board's four columns, no index, no projection machinery.
PLAIN_DDL = "CREATE TABLE plain_grades (branch_id text, position text, level text, trainee_id text)"
PLAIN_FILL = (
    "INSERT INTO plain_grades SELECT branch_id, position, level, trainee_id"
    f" FROM {GRADE_BOARD.schema}.grades WHERE position IS NOT NULL"
)
PLAIN_BOARD = (
    "SELECT branch_id, position, level, count(*) AS count,"
    " array_agg(trainee_id ORDER BY trainee_id) AS trainee_ids"
    " FROM plain_grades GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
# The baseline of (b): what the rebuild reads, as bare records.
RAW_PAGE = f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
# The baseline of (c): the trainee's events and inbox entries through the same indexes.
RAW_TRAINEE_EVENTS = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE data ->> 'trainee_id' = $1 ORDER BY position"
)
RAW_TRAINEE_INBOX = (
    "SELECT received_at, envelope FROM inbox"
    " WHERE (envelope -> 'data') ->> 'trainee_id' = $1 ORDER BY seq"
)
# An upstream store's digest 1 (shared/sql/digests.sql), for envelopes made up here.
DIGESTS = """
SELECT encode(gl_event_digest(decode(e.prev, 'hex'), e.id, e.stream, e.version, e.type, 1,
                              e.occurred, e.data, e.actor, e.branch, NULL), 'hex')
FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::timestamptz[],
            $7::jsonb[], $8::jsonb[], $9::text[]) WITH ORDINALITY
     AS e(prev, id, stream, version, type, occurred, data, actor, branch, n)
ORDER BY e.n
"""


@dataclass(frozen=True, slots=True)
class Sizes:
    trainees: int
    board_reps: int
    audit_reps: int
    scale_reps: int  # reads a side of the fast boards at scale (e to g)

    @classmethod
    def of(cls, config: BenchConfig) -> Sizes:
        return cls(
            trainees=config.size(100_000, 1_000),
            board_reps=config.size(100, 20),
            audit_reps=config.size(300, 30),
            scale_reps=config.size(300, 50),
        )


# --- what the trainees are -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """An enrolment and the scores of one sitting; many trainees share each profile."""

    education: Education
    experience: str
    certificates: tuple[str, ...]
    series: tuple[str, ...]
    written: str
    practical: tuple[str, ...]  # in the policy's department order

    @property
    def facts(self) -> TraineeFacts:
        return TraineeFacts(
            education=self.education,
            experience_years=Decimal(self.experience),
            certificate_count=len(set(self.certificates)),
            mastered_series=list(self.series),
        )


def profiles() -> list[Profile]:
    """Grade scores in every band (82 to 98), each for an engineer-eligible trainee and for one
    capped to technician (R-21); one practical spread wide enough to be flagged for review."""
    found = []
    for score in (82, 85, 88, 91, 95, 98):
        practical = tuple(str(min(100, score + d)) for d in (-2, 1, 0, 2, -1))
        found.append(
            Profile(Education.BACHELOR, "5", ("ase-1",), ("X1", "X2", "X3"), str(score), practical)
        )
        found.append(Profile(Education.HIGH_SCHOOL, "1", (), ("X1", "X2"), str(score), practical))
    spread = ("99", "80", "92", "90", "94")  # 19 points apart: flagged for review
    found.append(Profile(Education.BACHELOR, "4", (), ("X1", "X2", "X3"), "90", spread))
    return found


@dataclass(frozen=True, slots=True)
class Template:
    """One sitting's events as the deciders emit them, for trainee ``T`` in session ``S``."""

    events: tuple[tuple[str, dict[str, Any], str, str | None], ...]  # type, data, rater, policy


def sitting_commands(
    profile: Profile, session_id: str, trainee_id: str, facts: TraineeFacts, now: datetime
) -> Iterator[ScoreWritten | ScorePractical]:
    yield ScoreWritten(session_id, trainee_id, Decimal(profile.written), "ex-hr", facts, now)
    departments = GRADING.in_force(now.date()).practical_departments
    for department, score in zip(departments, profile.practical, strict=True):
        rater = EXAMINERS[department]
        yield ScorePractical(session_id, trainee_id, department, Decimal(score), rater, facts, now)


def template(profile: Profile, graded: bool = True) -> Template:
    state = TRAINEE_ASSESSMENT.initial()
    events: list[tuple[str, dict[str, Any], str, str | None]] = []
    for command in sitting_commands(profile, "S", "T", profile.facts, NOW):
        decided = TRAINEE_ASSESSMENT.decide(command, state)
        state = TRAINEE_ASSESSMENT.fold(decided, state)
        for event in decided:
            encoded = registry.encode(event)
            events.append((encoded.type, encoded.data, command.rater, _policy_version(event)))
    assert graded == (state.grade is not None and state.grade.position is not None), profile
    return Template(tuple(events))


# A first sitting failed on the written exam: six scores and AssessmentFailed.
FAILED = Profile(Education.HIGH_SCHOOL, "1", (), ("X1", "X2"), "40", ("70",) * 5)


def retakes(i: int) -> bool:
    return i % 7 < RETAKES


def _policy_version(event: Event) -> str | None:
    return getattr(event, "policy_version", None)


def trainee(i: int) -> tuple[str, str, str]:
    """(trainee id, branch, session id) of bulk trainee ``i``."""
    return f"t-{i:06d}", BRANCHES[i % len(BRANCHES)], f"s-{i // SESSION_SIZE + 1:03d}"


def enrolled(trainee_id: str, branch: str, profile: Profile, position: int) -> Envelope:
    """The upstream ``TraineeEnrolled`` as enrollment would publish it (hash still to seal)."""
    data = {
        "trainee_id": trainee_id,
        "name": f"name of {trainee_id}",
        "category": "branch_commissioned",
        "branch_id": branch,
        "education": str(profile.education),
        "experience_years": profile.experience,
        "certificates": list(profile.certificates),
        "product_series": list(profile.series),
        "enrolled_on": "2026-03-01",
    }
    return upstream(
        "enrollment", f"trainee-{trainee_id}", 1, position, "TraineeEnrolled", data, branch
    )


def upstream(
    service: str,
    stream: str,
    version: int,
    position: int,
    type_: str,
    data: dict[str, Any],
    branch: str | None = None,
) -> Envelope:
    now = datetime.now(UTC)
    actor = Actor("upstream-user", "after_sales_manager")
    return Envelope(
        uuid.uuid4(),
        stream,
        version,
        position,
        type_,
        1,
        now,
        now,
        data,
        actor,
        branch_id=branch,
        service=service,
    )


async def sealed(pool: asyncpg.Pool, envelopes: Sequence[Envelope]) -> list[Envelope]:
    """The envelopes with the hash chain their producer's store would have given them, so that
    the audit's inbox check has real work (it skips envelopes without a hash)."""
    done: list[Envelope] = []
    last: dict[str, str] = {}
    chunk: list[Envelope] = []

    async def flush() -> None:
        hashes = await pool.fetch(
            DIGESTS,
            [last.get(e.stream_id) for e in chunk],
            [e.event_id for e in chunk],
            [e.stream_id for e in chunk],
            [e.version for e in chunk],
            [e.type for e in chunk],
            [e.occurred_at for e in chunk],
            [e.data for e in chunk],
            [e.actor.as_json() for e in chunk],
            [e.branch_id for e in chunk],
        )
        for e, (digest,) in zip(chunk, hashes, strict=True):
            done.append(e._replace(prev_hash=last.get(e.stream_id), hash=digest))
            last[e.stream_id] = digest
        chunk.clear()

    for envelope in envelopes:  # one chunk never holds two events of a stream: they chain
        if len(chunk) >= INBOX_BATCH or any(e.stream_id == envelope.stream_id for e in chunk):
            await flush()
        chunk.append(envelope)
    if chunk:
        await flush()
    return done


# --- loading -------------------------------------------------------------------------------


async def load_bulk(pool: asyncpg.Pool, store: PostgresEventStore, count: int) -> None:
    """``count`` graded trainees: enrolments into the inbox, sittings into the store."""
    shapes = profiles()
    templates = [template(p) for p in shapes]
    started = time.perf_counter()
    for start in range(0, count, INBOX_BATCH):
        batch = [
            enrolled(trainee(i)[0], trainee(i)[1], shapes[i % len(shapes)], i + 1)
            for i in range(start, min(count, start + INBOX_BATCH))
        ]
        await handle_batch(pool, handle, await sealed(pool, batch))
    log(f"{SUITE}: {count:,} enrolments through the inbox in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    sessions = sorted({trainee(i)[2] for i in range(count)})
    for session_id in sessions:
        await open_session(store, first_sitting(session_id))
        await open_session(store, session_id)
    failed = template(FAILED, graded=False)

    def sitting(i: int, first: bool = False) -> tuple[str, list[NewEvent]]:
        trainee_id, branch, session_id = trainee(i)
        if first:
            session_id = first_sitting(session_id)
        shape = failed if first else templates[i % len(templates)]
        events = [
            NewEvent(
                type=type_,
                data={**data, "trainee_id": trainee_id, "session_id": session_id},
                branch_id=branch,
                actor=Actor(rater, "examiner"),
                policy_version=policy,
            )
            for type_, data, rater, policy in shape.events
        ]
        return sitting_stream(session_id, trainee_id), events

    async def writer(w: int) -> int:
        appended = 0
        for i in range(w, count, WRITERS):
            for first in (True, False) if retakes(i) else (False,):
                stream, events = sitting(i, first)
                await store.append(stream, events, NO_STREAM)
                appended += len(events)
        return appended

    appended = sum(await asyncio.gather(*(writer(w) for w in range(WRITERS))))
    elapsed = time.perf_counter() - started
    log(
        f"{SUITE}: {appended:,} sitting events appended in {elapsed:.1f} s "
        f"({appended / elapsed:,.0f} ev/s, {WRITERS} concurrent writers)"
    )


def first_sitting(session_id: str) -> str:
    """The earlier session where a retaking trainee first failed."""
    return f"first-{session_id}"


async def open_session(store: PostgresEventStore, session_id: str) -> None:
    opened = ExamSessionOpened(
        session_id=session_id, product_series="X1", held_on=NOW.date(), opened_by="mgr"
    )
    event = registry.encode(opened, actor=Actor("mgr", MANAGER))
    await store.append(session_stream(session_id), [event], NO_STREAM)


async def load_audited(pool: asyncpg.Pool, store: PostgresEventStore) -> None:
    """The 200-event trainee, through ``execute`` and the real deciders as the routes run them:
    its upstream facts first (enrolment, an approved plan stage on X4, its sign-off)."""
    branch, plan = BRANCHES[0], f"plan-{AUDITED}"
    stage = {
        "no": 1,
        "content": "stage 1",
        "department": "technical",
        "trainer_id": "tr-1",
        "product_series": "X4",
        "topic": "product",
        "planned_start": "2026-03-02",
        "planned_end": "2026-03-06",
    }
    drafted = {"trainee_id": AUDITED, "revision": 1, "stages": [stage], "drafted_by": "mgr"}
    approved = {"trainee_id": AUDITED, "revision": 1, "approved_by": "vp"}
    signed = {
        "trainee_id": AUDITED,
        "stage_no": 1,
        "trainer_id": "tr-1",
        "product_series": "X4",
        "assessment": "good",
        "disputed": False,
        "comment": None,
    }
    envelopes = [
        enrolled(AUDITED, branch, profiles()[0], 1),
        upstream("training", plan, 1, 1, "PlanDrafted", drafted),
        upstream("training", plan, 2, 2, "PlanApproved", approved),  # before any sign-off
        upstream("training", plan, 3, 3, "StageSignedOff", signed),
    ]
    for envelope in await sealed(pool, envelopes):
        await handle_batch(pool, handle, [envelope])
    known = await find_trainee(State({"pool": pool}), AUDITED)  # as an app's state holds it
    assert known is not None
    shapes = profiles()
    for k in range(AUDIT_SITTINGS):
        session_id = f"audit-{k + 1:02d}"
        await open_session(store, session_id)
        stream = sitting_stream(session_id, AUDITED)
        for command in sitting_commands(
            shapes[k % len(shapes)], session_id, AUDITED, known.facts, datetime.now(UTC)
        ):
            await _execute(store, TRAINEE_ASSESSMENT, stream, command, command.rater, "examiner")
        await dispute_and_correct(pool, store, session_id, f"d-audit-{k + 1:02d}")
    count = await pool.fetchval(
        "SELECT count(*) FROM events WHERE data ->> 'trainee_id' = $1", AUDITED
    )
    assert count == 10 * AUDIT_SITTINGS, count


async def _execute(
    store: PostgresEventStore, decider: Any, stream: str, command: Any, sub: str, role: str
) -> Any:
    """``shared.execution.execute`` as the assessment handlers call it, for the audited trainee."""
    meta = Metadata(actor=Actor(sub, role), branch_id=BRANCHES[0], occurred_at=datetime.now(UTC))
    return await execute(store, registry, decider, stream, command, meta)


async def dispute_and_correct(
    pool: asyncpg.Pool, store: PostgresEventStore, session_id: str, dispute_id: str
) -> None:
    """R-23 as the routes do it: file against the current grade, resolve corrected, regrade."""
    decided = await latest_decision(pool, AUDITED)
    assert decided is not None and decided.type == "GradeAssigned"
    stream, today = dispute.stream_id(dispute_id), date.today()
    filed = FileDispute(
        dispute_id, AUDITED, session_id, decided.event_id, "review please", AUDITED, today
    )
    await _execute(store, dispute.GRADE_DISPUTE, stream, filed, AUDITED, "trainee")
    corrected = {"technical": Decimal(100)}
    resolve = ResolveDispute(dispute_id, DisputeOutcome.CORRECTED, None, corrected, "mgr", today)
    outcome = await _execute(store, dispute.GRADE_DISPUTE, stream, resolve, "mgr", MANAGER)
    resolution = outcome.state.resolution
    practical = {d.value: v for d, v in (resolution.practical or {}).items()}
    command = CorrectGrade(
        session_id,
        AUDITED,
        dispute_id,
        decided.event_id,
        resolution.written,
        practical,
        datetime.now(UTC),
    )
    stream = sitting_stream(session_id, AUDITED)
    await _execute(store, TRAINEE_ASSESSMENT, stream, command, "mgr", MANAGER)


async def check_consistent(pool: asyncpg.Pool, store: PostgresEventStore, trainee_id: str) -> None:
    """The data measured is what the service would have made: its audit finds nothing."""
    report = await audit_trainee(pool, store, trainee_id)
    assert report is not None, trainee_id
    if not report["consistent"] or not report["derivations"]:
        raise RuntimeError(
            f"{SUITE}: the generated history of {trainee_id} does not audit clean:"
            f" {report['differences'][:3]}"
        )


async def settle(dsn: str) -> None:
    """Visibility map, hint bits and statistics after the load, as a quiet production has."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


# --- measuring -----------------------------------------------------------------------------

Call = Callable[[], Awaitable[object]]


async def latencies(sides: Mapping[str, Call], reps: int, warmup: int = 3) -> Runs:
    """Milliseconds of every call of each side, the sides taking turns call by call."""
    asked = {name: board_scale.ignoring_argument(call) for name, call in sides.items()}
    return await board_scale.timed(asked, [None] * reps, warmup)


def latency_rows(
    workload: str, runs: Runs, baseline: str, note: str, system: str = GRADELINE
) -> list[Row]:
    return board_scale.rows_of(workload, runs, system, (baseline, RAW), note, None)


@asynccontextmanager
async def board_route(
    config: BenchConfig, dsn: str
) -> AsyncIterator[tuple[Call, httpx.AsyncClient, dict[str, str]]]:
    """``GET /board/grades?trainee_ids=true`` of the service app in process (its middleware, auth
    and JSON encoding; no background workers), through httpx's ASGI transport, as management;
    with the client and headers for the other reads."""
    database = urlsplit(dsn).path.lstrip("/")
    settings = Settings(
        pg_dsn=config.pg_dsn,
        amqp_url=config.amqp_url,
        namespace=database.removesuffix(f"_{SERVICE}"),
        log_level="WARNING",  # no access log line per request on the report's stdout
    )
    assert settings.database_name(SERVICE) == database, database
    app = create_service_app(
        settings, service=SERVICE, title="bench", routers=[reads.router], migrations=MIGRATIONS
    )
    token = mint_token(settings.jwt_secret, "boss", [Role.MANAGEMENT])
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client,
    ):

        async def get() -> object:
            answer = await client.get("/board/grades?trainee_ids=true", headers=headers)
            answer.raise_for_status()
            return answer.content

        yield get, client, headers


async def board_phase(pool: asyncpg.Pool, route: Call, sizes: Sizes, graded: int) -> list[Row]:
    log(f"{SUITE}: grade board over {graded:,} graded trainees, {sizes.board_reps} reads a side")

    async def plain() -> object:
        return [dict(row) for row in await pool.fetch(PLAIN_BOARD)]

    runs = await latencies(
        {GRADELINE: lambda: grade_rows(pool, GRADE_BOARD.schema, None), ROUTE: route, RAW: plain},
        sizes.board_reps,
    )
    baseline = "raw GROUP BY, plain 4-column table"
    sizes_note = (
        f"{graded:,} graded trainees over {len(BRANCHES)} branches, whole board (counts and "
        "trainee ids by branch x position x level); baseline: the same aggregation (`count`, "
        "`array_agg`) over a plain table (branch, position, level, trainee_id) of the same rows, "
        f"no index, rows as dicts; {sizes.board_reps} reads a side, the three sides in turn, "
        "after 3 warm-ups."
    )
    return [
        *latency_rows(
            "a) board query (`grade_rows`)",
            runs,
            baseline,
            f"The route's query function on the projection table; {sizes_note}",
        ),
        *latency_rows(
            "a) GET /board/grades?trainee_ids=true in process",
            runs,
            baseline,
            "The whole route: the service app (middleware, token check, FastAPI JSON encoding) "
            f"through httpx's ASGI transport, body read; {sizes_note}",
            system=ROUTE,
        ),
    ]


async def rebuild_phase(pool: asyncpg.Pool, events: int) -> list[Row]:
    log(f"{SUITE}: rebuild of the grade board from {events:,} events (Gradeline / raw read)")

    async def gradeline() -> int:
        await rebuild(pool, SERVICE, GRADE_BOARD, batch_size=REBUILD_BATCH)
        return events  # the history replayed (the decisions read from it, the rest skipped)

    async def raw() -> int:
        done, after = 0, 0
        while rows := await pool.fetch(RAW_PAGE, after, REBUILD_BATCH):
            done += len(rows)
            after = rows[-1][3]
        return done

    # The load ended with a rebuild and a VACUUM: both sides' pages are warm already.
    runs = await alternate({GRADELINE: gradeline, RAW: raw}, warmup=False)
    return [
        comparison_row(
            SUITE,
            "b) rebuild grade board from history",
            (GRADELINE, runs[GRADELINE]),
            ("raw keyset read of the same events", runs[RAW]),
            unit="ev/s",
            note=f"`shared.projections.rebuild` of `grade_board`: {events:,} events (1 in 7 a "
            f"decision it applies, the others skipped in SQL) replayed in batches of "
            f"{REBUILD_BATCH:,} into fresh tables with `apply_batch` (one upsert into the board, "
            "one insert into the decision history per batch), then swapped in; baseline: the "
            "same events read in pages of the same size as `asyncpg.Record`s. Both sides count "
            "the whole history: the ratio is that of their wall times.",
        )
    ]


async def audit_phase(pool: asyncpg.Pool, store: PostgresEventStore, sizes: Sizes) -> list[Row]:
    log(
        f"{SUITE}: audit of one trainee with {10 * AUDIT_SITTINGS} events, "
        f"{sizes.audit_reps} audits a side"
    )

    async def raw() -> int:
        events = await pool.fetch(RAW_TRAINEE_EVENTS, AUDITED)
        inbox = await pool.fetch(RAW_TRAINEE_INBOX, AUDITED)
        return len(events) + len(inbox)

    runs = await latencies(
        {GRADELINE: lambda: audit_trainee(pool, store, AUDITED), RAW: raw}, sizes.audit_reps
    )
    return latency_rows(
        f"c) audit of one trainee, {10 * AUDIT_SITTINGS} events",
        runs,
        "raw read of its events and inbox entries",
        f"`audit.audit_trainee` (what `GET /trainees/{{id}}/audit` answers): {AUDIT_SITTINGS} "
        "sittings of 7 events, each disputed and corrected (3 events), plus 3 upstream events in "
        "the inbox; decoded, every decision re-derived, hash chains and inbox hashes checked. "
        "Baseline: the same events and inbox rows read through the same indexes as records. "
        f"{sizes.audit_reps} audits a side, alternating.",
    )


PLAIN_HISTORY = (
    "CREATE TABLE plain_decisions AS SELECT data ->> 'trainee_id' AS trainee_id, position AS seq,"
    " recorded_at, branch_id, data ->> 'position' AS position, data ->> 'level' AS level"
    " FROM events WHERE type = ANY ($1::text[])"
)
PLAIN_AS_OF = (
    "SELECT branch_id, position, level, count(*) AS count,"
    " array_agg(trainee_id ORDER BY trainee_id) AS trainee_ids FROM ("
    " SELECT DISTINCT ON (trainee_id) trainee_id, branch_id, position, level FROM plain_decisions"
    " WHERE recorded_at <= $1 ORDER BY trainee_id, seq DESC) latest"
    " WHERE position IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)


async def as_of_phase(pool: asyncpg.Pool, sizes: Sizes) -> list[Row]:
    """The board as of the moment half the trainees had been decided."""
    moment = await half_way(pool, sizes)
    await pool.execute(PLAIN_HISTORY, sorted(DECISIONS))
    await pool.execute("VACUUM (ANALYZE) plain_decisions")
    log(f"{SUITE}: the board as of {moment.isoformat()}, {sizes.board_reps} reads a side")

    async def gradeline() -> list[dict[str, Any]]:
        return await grade_rows(pool, GRADE_BOARD.schema, None, moment)

    async def plain() -> object:
        return [dict(row) for row in await pool.fetch(PLAIN_AS_OF, moment)]

    runs = await latencies({GRADELINE: gradeline, RAW: plain}, sizes.board_reps)
    shown = await gradeline()
    if shown != await plain() or not shown:
        raise RuntimeError(f"{SUITE}: the board as of {moment} differs from the plain query")
    replays = await replay_as_of(pool, moment, shown)
    note = (
        f"The route's query function with `as_of` (each trainee's latest decision recorded by "
        f"then, from the projection's `grade_history`, plus any the projection has not applied "
        f"yet, from the store), {sizes.trainees // 2:,} of {sizes.trainees:,} trainees decided by "
        "the moment; baseline: the same `DISTINCT ON` and aggregation over a plain table of the "
        f"decisions, no index; {sizes.board_reps} reads a side, alternating."
    )
    previous = comparison_row(
        SUITE,
        "d) board as of a past moment vs the previous replay, median",
        (GRADELINE, [percentile(runs[GRADELINE], 50)]),
        ("replay into a throw-away schema, event by event", replays),
        unit="ms",
        higher_is_better=False,
        note=f"The previous way of answering `as_of` ({REPLAYS} answers): "
        "`shared.projections.as_of` replays every decision recorded up to the moment into a "
        "fresh schema, one upsert per decision (the board's `apply` then), then the board query "
        "runs on it.",
    )
    return [*latency_rows("d) board as of a past moment", runs, "raw DISTINCT ON", note), previous]


async def half_way(pool: asyncpg.Pool, sizes: Sizes) -> datetime:
    """When half the trainees had been graded."""
    moment: datetime = await pool.fetchval(
        "SELECT recorded_at FROM events WHERE type = 'GradeAssigned' ORDER BY position"
        " OFFSET $1 LIMIT 1",
        sizes.trainees // 2,
    )
    return moment


async def previous_apply(conn: Any, e: Envelope) -> None:
    """The board's apply before the decision history: one upsert per decision."""
    if e.type in DECISIONS:
        await upsert_latest(conn, [e])


async def replay_as_of(pool: asyncpg.Pool, moment: datetime, expected: Any) -> list[float]:
    """Milliseconds of each as-of answer made by replay, as the route did before."""
    one_by_one = dataclasses.replace(GRADE_BOARD, apply=previous_apply, apply_batch=None)
    found = []
    for _ in range(REPLAYS):
        started = time.perf_counter()
        async with as_of(pool, SERVICE, one_by_one, moment) as schema:
            rows = await grade_rows(pool, schema, None)
        found.append((time.perf_counter() - started) * 1000)
        if rows != expected:
            raise RuntimeError(f"{SUITE}: the replayed board as of {moment} differs")
    return found


# --- the suite -----------------------------------------------------------------------------


async def run(config: BenchConfig) -> list[Row]:
    """The assessment service's board query, board rebuild and audit against raw SQL."""
    sizes = Sizes.of(config)
    async with fresh_database(config.pg_dsn, SUITE) as dsn:
        pool = await db.create_pool(dsn, size=POOL_SIZE)
        try:
            await db.migrate(pool, [db.CORE_MIGRATIONS, *MIGRATIONS])
            store = PostgresEventStore(pool, SERVICE)
            log(f"{SUITE}: loading {sizes.trainees:,} graded trainees")
            await load_bulk(pool, store, sizes.trainees)
            bulk_head = int(await pool.fetchval("SELECT max(position) FROM events"))
            await load_audited(pool, store)
            events = int(await pool.fetchval("SELECT count(*) FROM events"))
            await check_consistent(pool, store, trainee(sizes.trainees // 2)[0])
            await check_consistent(pool, store, AUDITED)
            end = datetime.now(UTC) - timedelta(days=1)
            year = (await board_scale.spread_over_a_year(pool, bulk_head, end), end)
            started = time.perf_counter()
            await rebuild(pool, SERVICE, GRADE_BOARD, batch_size=REBUILD_BATCH)
            log(f"{SUITE}: board built in {time.perf_counter() - started:.1f} s")
            await pool.execute(PLAIN_DDL)
            await pool.execute(PLAIN_FILL)
            await settle(dsn)
            graded = await pool.fetchval("SELECT count(*) FROM plain_grades")
            async with board_route(config, dsn) as (route, client, headers):
                rows = await board_phase(pool, route, sizes, graded)
                reps = sizes.scale_reps
                rows += await board_scale.counts_phase(pool, client, headers, reps, graded)
                rows += await as_of_phase(pool, sizes)
                rows += await board_scale.as_of_counts_phase(pool, client, headers, reps, year)
                moment = await half_way(pool, sizes)
                rows += await board_scale.page_phase(pool, client, headers, reps, moment)
            rows += await rebuild_phase(pool, events)
            rows += await audit_phase(pool, store, sizes)
        finally:
            await pool.close()
    return rows
