"""The personal-data suite: what sealing and revealing personal fields cost (issue 19).

The same ``PostgresEventStore`` with ``personal=PersonalData(PostgresKeyStore(...), fields)``
against itself with ``personal=None``, in the same run, sides alternating run by run
(``bench.common.alternate``):

1. append, one event per append, 16 concurrent writers, each event an enrolment of a new person
   (a stream and a data subject of its own, so every sealed append needs a new key, as
   enrollment's do): three personal fields (a name, a list of certificates, a comment) sealed;
2. ``read_all`` from the start in pages of 1,000 of as many sealed events, revealed, with a cold
   key cache (a new ``PersonalData`` per run: one key-store query per page) and with a warm one
   (the keys already in memory), against the same events stored in clear, read without
   revealing.

The events, the clear events and the keys are in three databases of their own (the keys apart
from the events, as in a deployment); every side runs in this process.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Annotated, Any

import asyncpg

from bench.common import BenchConfig, Row, Runs, alternate, comparison_row, fresh_database, log
from bench.store_bench import vacuum
from shared import db
from shared.events import Event, EventRegistry, NewEvent
from shared.eventstore import NO_STREAM, PostgresEventStore
from shared.keystore import MIGRATIONS as KEY_MIGRATIONS
from shared.keystore import PostgresKeyStore
from shared.personal import PERSONAL, PersonalData, PersonalFields, personal_map

SUITE = "personal"
WRITERS = 16
PAGE = 1_000
FILL_BATCH = 500
GOAL = 0.85  # issue 19: append and read_all at least 0.85x of the unencrypted path
REPS = 5
KNOWN = 1_000  # people cycled through by the known-people appends
SEALED, CLEAR = "sealed", "clear"

registry = EventRegistry()


@registry.register
class Enrolled(Event):
    """Shaped like enrollment's TraineeEnrolled, with its personal fields marked."""

    event_type = "Enrolled"
    data_subject = "trainee_id"
    trainee_id: str
    name: Annotated[str, PERSONAL]
    category: str
    branch_id: str
    education: str
    experience_years: str
    certificates: Annotated[list[str], PERSONAL]
    product_series: list[str]
    enrolled_on: str
    comment: Annotated[str, PERSONAL]


@registry.register
class DayRecorded(Event):
    """Shaped like the most common events of a trainee's history (a training day, a score):
    ids, a date and numbers, nothing personal."""

    event_type = "DayRecorded"
    trainee_id: str
    stage_no: int
    date: str
    hours: str
    content: str
    trainer_id: str


FIELDS: dict[str, PersonalFields] = personal_map(registry)
HISTORY = 20  # a trainee's events in the history rows: the enrolment and 19 days


def day(trainee_id: str, n: int) -> NewEvent:
    return registry.encode(
        DayRecorded(
            trainee_id=trainee_id,
            stage_no=1 + n % 5,
            date=f"2026-10-{1 + n % 28:02d}",
            hours="7.5",
            content="fault_finding",
            trainer_id="tr-tech-07",
        )
    )


async def fill_histories(store: PostgresEventStore, prefix: str, events: int) -> None:
    """Trainees' histories: each an enrolment (three sealed fields) then ``HISTORY - 1`` days
    (nothing personal), a stream per trainee."""
    for n in range(events // HISTORY):
        person = f"{prefix}-{n:07d}"
        history = [enrolment(person), *(day(person, d) for d in range(HISTORY - 1))]
        await store.append(f"trainee-{person}", history, NO_STREAM)


def enrolment(trainee_id: str) -> NewEvent:
    return registry.encode(
        Enrolled(
            trainee_id=trainee_id,
            name="欧阳晓明",
            category="hq_full_time",
            branch_id="bo-east",
            education="vocational",
            experience_years="3.5",
            certificates=["低压电工作业证", "汽车维修工（中级）"],
            product_series=["X5", "Q3"],
            enrolled_on="2026-09-01",
            comment="diagnostic bay experience at a dealer; wants the hybrid drivetrain track",
        )
    )


class People:
    """Whom each append is about: a new person each time (every sealed append creates a key),
    or, with ``known``, one of ``known`` people cycled through (their keys made once and then
    cached: a daily record, a score, a comment about a trainee already enrolled)."""

    def __init__(self, prefix: str, known: int = 0) -> None:
        self._ids: Iterator[int] = itertools.count()
        self.prefix = prefix
        self.known = known

    def next(self) -> tuple[str, str]:
        """(a new stream's id, the person's id)."""
        n = next(self._ids)
        person = f"{self.prefix}-{n % self.known if self.known else n:07d}"
        return f"trainee-{self.prefix}-{n:07d}", person


async def append_people(store: PostgresEventStore, people: People, events: int) -> int:
    """``events`` enrolments, one per append to a new stream, by ``WRITERS`` tasks."""
    per_writer = events // WRITERS

    async def write() -> None:
        for _ in range(per_writer):
            stream, person = people.next()
            await store.append(stream, [enrolment(person)], NO_STREAM)

    await asyncio.gather(*(write() for _ in range(WRITERS)))
    return per_writer * WRITERS


async def fill(store: PostgresEventStore, prefix: str, events: int) -> None:
    """``events`` enrolments appended in batches (quick; the subjects still all differ)."""
    people = People(prefix)
    for start in range(0, events, FILL_BATCH):
        batch = [enrolment(people.next()[1]) for _ in range(min(FILL_BATCH, events - start))]
        await store.append(f"fill-{prefix}-{start}", batch, None)


async def read_all(store: PostgresEventStore, total: int) -> int:
    done, after = 0, 0
    while done < total:
        page = await store.read_all(after, min(PAGE, total - done))
        if not page:
            break
        done += len(page)
        after = page[-1].position
    return done


async def migrated_pool(stack: AsyncExitStack, dsn: str, migrations: Any) -> asyncpg.Pool:
    pool = await db.create_pool(dsn, size=WRITERS)
    stack.push_async_callback(pool.close)
    await db.migrate(pool, [migrations])
    return pool


async def run(config: BenchConfig) -> list[Row]:
    append_size = config.size(4_000, WRITERS)
    read_size = config.size(40_000, PAGE)  # within PersonalData's key cache (50,000 subjects)
    async with AsyncExitStack() as stack:
        sealed_dsn = await stack.enter_async_context(fresh_database(config.pg_dsn, "sealed"))
        clear_dsn = await stack.enter_async_context(fresh_database(config.pg_dsn, "clear"))
        keys_dsn = await stack.enter_async_context(fresh_database(config.pg_dsn, "keys"))
        sealed_pool = await migrated_pool(stack, sealed_dsn, db.CORE_MIGRATIONS)
        clear_pool = await migrated_pool(stack, clear_dsn, db.CORE_MIGRATIONS)
        keys = PostgresKeyStore(await migrated_pool(stack, keys_dsn, KEY_MIGRATIONS))

        def sealing() -> PostgresEventStore:
            return PostgresEventStore(sealed_pool, SUITE, personal=PersonalData(keys, FIELDS))

        clear = PostgresEventStore(clear_pool, SUITE)
        rows = await append_phase(sealing(), clear, append_size)
        rows += await read_phase(sealing, clear, (sealed_dsn, clear_dsn), read_size)
        history_dsns = [
            await stack.enter_async_context(fresh_database(config.pg_dsn, side))
            for side in ("hsealed", "hclear")
        ]
        history_pools = [await migrated_pool(stack, d, db.CORE_MIGRATIONS) for d in history_dsns]

        def history_sealing() -> PostgresEventStore:
            return PostgresEventStore(history_pools[0], SUITE, personal=PersonalData(keys, FIELDS))

        history_clear = PostgresEventStore(history_pools[1], SUITE)
        rows += await history_phase(history_sealing, history_clear, history_dsns, read_size)
    return rows


async def append_phase(
    sealed: PostgresEventStore, clear: PostgresEventStore, size: int
) -> list[Row]:
    log(f"{SUITE}: append, one new person per append, {WRITERS} writers (sealed / clear)")
    new = await _append_runs(sealed, clear, People("s"), People("c"), size)
    log(f"{SUITE}: append, {KNOWN:,} known people, {WRITERS} writers (sealed / clear)")
    known = await _append_runs(
        sealed, clear, People("sk", known=KNOWN), People("ck", known=KNOWN), size
    )
    about = (
        f"{size:,} enrolment-shaped events per run, each to a new stream with `NO_STREAM`, "
        f"{WRITERS} concurrent tasks; sealed: the store with `personal=` seals 3 fields (name, "
        "certificate list, comment); baseline: the same store and events, `personal=None`."
    )
    return [
        _row(
            f"append 1 event, {WRITERS} writers, a new person each",
            new,
            note=f"{about} A new person each: every sealed append first makes its person's key "
            "in the key database (PostgreSQL, a pool of its own; concurrent appends share one "
            "statement and one commit), as enrolments do.",
        ),
        _row(
            f"append 1 event, {WRITERS} writers, known people",
            known,
            note=f"{about} Known people: {KNOWN:,} people cycled through, their keys made in "
            "the warm-up and cached since: the cost of sealing alone, as for a daily record, a "
            "score or a comment about a trainee enrolled before.",
        ),
    ]


async def _append_runs(
    sealed: PostgresEventStore,
    clear: PostgresEventStore,
    sealed_people: People,
    clear_people: People,
    size: int,
) -> Runs:
    return await alternate(
        {
            SEALED: lambda: append_people(sealed, sealed_people, size),
            CLEAR: lambda: append_people(clear, clear_people, size),
        },
        reps=REPS,
    )


async def read_phase(
    sealing: Any, clear: PostgresEventStore, dsns: tuple[str, str], size: int
) -> list[Row]:
    # Fresh databases: the phase's own events only (the append phase's are read too, so fill
    # each to the same count).
    warm = sealing()
    for store, prefix in ((warm, "fs"), (clear, "fc")):
        missing = size - await store.head_position()
        if missing > 0:
            log(f"{SUITE}: filling {prefix} with {missing:,} enrolments")
            await fill(store, prefix, missing)
    for dsn in dsns:
        await vacuum(dsn, "events")

    async def cold() -> int:
        return await read_all(sealing(), size)  # a new PersonalData: an empty key cache

    async def plain() -> int:
        return await read_all(clear, size)

    stored = PostgresEventStore(warm.pool, SUITE)  # the sealed events, tokens left as they are
    log(f"{SUITE}: read_all {size:,} events, sealed rows not revealed (sealed / clear)")
    stored_runs = await alternate({SEALED: lambda: read_all(stored, size), CLEAR: plain}, reps=REPS)
    log(f"{SUITE}: read_all {size:,} events, revealing with a cold key cache (sealed / clear)")
    cold_runs = await alternate({SEALED: cold, CLEAR: plain}, reps=REPS)
    log(f"{SUITE}: read_all {size:,} events, revealing with a warm key cache (sealed / clear)")
    warm_runs = await alternate({SEALED: lambda: read_all(warm, size), CLEAR: plain}, reps=REPS)
    about = (
        f"{size:,} events per run from position 0 in pages of {PAGE:,} (those the append runs "
        "left, topped up if need be: about 25,000 people), each with 3 sealed fields, read "
        "into `Envelope`s; baseline: the same events stored in clear, read by the same store "
        "with `personal=None` (tables vacuumed after filling)."
    )
    return [
        _row(
            f"read_all, pages of {PAGE:,}, sealed rows not revealed",
            stored_runs,
            goal=None,
            note=f"{about} Not revealed: the sealed rows read by a store with `personal=None` "
            "(tokens as they are): what the larger rows cost alone, before any decryption.",
        ),
        _row(
            f"read_all, pages of {PAGE:,}, revealing, cold key cache",
            cold_runs,
            note=f"{about} Cold: a new `PersonalData` per run, so each page's keys are fetched "
            "from the key database (one query per page).",
        ),
        _row(
            f"read_all, pages of {PAGE:,}, revealing, warm key cache",
            warm_runs,
            note=f"{about} Warm: one `PersonalData` for every run, its keys already cached.",
        ),
    ]


async def history_phase(
    sealing: Any, clear: PostgresEventStore, dsns: list[str], size: int
) -> list[Row]:
    """``read_all`` of trainees' histories, where one event in ``HISTORY`` holds personal
    fields: what a replay of a service's store reads."""
    warm = sealing()
    for store, prefix in ((warm, "hs"), (clear, "hc")):
        log(f"{SUITE}: filling {prefix} with {size:,} events of trainees' histories")
        await fill_histories(store, prefix, size)
    for dsn in dsns:
        await vacuum(dsn, "events")
    total = size // HISTORY * HISTORY

    async def cold() -> int:
        return await read_all(sealing(), total)

    async def plain() -> int:
        return await read_all(clear, total)

    log(f"{SUITE}: read_all {total:,} events of histories, cold key cache (sealed / clear)")
    cold_runs = await alternate({SEALED: cold, CLEAR: plain}, reps=REPS)
    log(f"{SUITE}: read_all {total:,} events of histories, warm key cache (sealed / clear)")
    warm_runs = await alternate({SEALED: lambda: read_all(warm, total), CLEAR: plain}, reps=REPS)
    about = (
        f"{total:,} events per run from position 0 in pages of {PAGE:,}: trainees' histories, "
        f"each an enrolment (3 sealed fields) and {HISTORY - 1} training days (ids, a date, "
        "hours: nothing personal), a stream per trainee; baseline: the same histories in "
        "clear, read with `personal=None`."
    )
    return [
        _row(
            f"read_all of histories (1 event in {HISTORY} personal), revealing, cold key cache",
            cold_runs,
            note=f"{about} Cold: a new `PersonalData` per run (one key query per page).",
        ),
        _row(
            f"read_all of histories (1 event in {HISTORY} personal), revealing, warm key cache",
            warm_runs,
            note=f"{about} Warm: the keys already cached.",
        ),
    ]


def _row(workload: str, runs: Runs, *, note: str, goal: float | None = GOAL) -> Row:
    return comparison_row(
        SUITE,
        workload,
        (SEALED, runs[SEALED]),
        (f"{CLEAR}, personal=None", runs[CLEAR]),
        goal=goal,
        note=note,
    )
