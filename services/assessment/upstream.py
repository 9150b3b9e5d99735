"""What assessment learnt from upstream events: the trainee facts tables (migrations/0001, 0002),
read by the handlers and the reads, written by the consumer.

Routes give the handlers :func:`find_trainee` over the app's state (concurrent lookups share a
statement); the consumer reads and writes the stages inside its inbox transaction (``Source``: a
pool or a connection).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.datastructures import State

from shared.batching import lookup
from shared.decider import Conflict
from shared.problems import not_arrived

from .domain.events import TraineeFacts
from .domain.trainee_record import (
    Enrolment,
    PlanFacts,
    PlanStage,
    trainers_covering,
    trainers_on,
)

Source = Any  # an asyncpg pool or connection: both fetch
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class KnownTrainee:
    trainee_id: str
    status: str
    enrolment: Enrolment
    stages: tuple[PlanStage, ...]  # of the approved revision in force

    @property
    def branch_id(self) -> str:
        return self.enrolment.branch_id

    @property
    def facts(self) -> TraineeFacts:
        return self.enrolment.facts(self.stages)


# A trainee's facts and the stages of its plan in force in one statement, for a batch of trainees
# (shared.batching.Lookup): stages come as one array per column, in stage order.
_FIND_SQL = """
SELECT f.trainee_id, f.status, f.branch_id, f.category, f.education, f.experience_years,
       f.certificate_count, f.enrolled_series, s.nos, s.trainers, s.series, s.specs, s.signed,
       s.reopened
FROM trainee_facts f
LEFT JOIN LATERAL (
    SELECT array_agg(stage_no ORDER BY stage_no) AS nos,
           array_agg(trainer_id ORDER BY stage_no) AS trainers,
           array_agg(product_series ORDER BY stage_no) AS series,
           array_agg(spec ORDER BY stage_no) AS specs,
           array_agg(signed ORDER BY stage_no) AS signed,
           array_agg(reopened ORDER BY stage_no) AS reopened
    FROM plan_stages_in_force p WHERE p.trainee_id = f.trainee_id
) s ON true
WHERE f.trainee_id = ANY($1::text[]) AND f.branch_id IS NOT NULL
"""


async def find_trainee(state: State, trainee_id: str) -> KnownTrainee | None:
    """The trainee once its enrolment arrived, with the stages of its approved plan (R-9).

    ``state`` is the app's (``request.app.state``): concurrent commands' lookups share one
    statement, facts and stages read together."""
    row = await lookup(state, _FIND_SQL)(trainee_id)
    if row is None:
        return None
    enrolment = Enrolment(
        branch_id=row["branch_id"],
        category=row["category"] or "",
        education=row["education"],
        experience_years=Decimal(row["experience_years"] or 0),
        certificate_count=row["certificate_count"],
        product_series=tuple(row["enrolled_series"]),
    )
    stages = tuple(PlanStage(*stage) for stage in zip(*row[8:], strict=True)) if row["nos"] else ()
    return KnownTrainee(trainee_id, row["status"], enrolment, stages)


FindTrainee = Callable[[str], Awaitable[KnownTrainee | None]]
"""``find_trainee`` of one app's state: what a handler is given to look a trainee up."""


def known_trainee(trainee: KnownTrainee | None, trainee_id: str) -> KnownTrainee:
    """The trainee as :func:`find_trainee` found it; 404 with the reason while its enrolment has
    not arrived (or never happened)."""
    if trainee is None:
        raise not_arrived(
            f"trainee {trainee_id} is not known to assessment: no enrolment of it has arrived"
        )
    return trainee


def trainee_to_examine(found: KnownTrainee | None, trainee_id: str) -> KnownTrainee:
    """A known trainee still in training: a withdrawn one sits no exam (409)."""
    trainee = known_trainee(found, trainee_id)
    if trainee.status == WITHDRAWN:
        raise Conflict(f"trainee {trainee_id} has withdrawn and cannot be examined")
    return trainee


# The drafted revision's rows and the approved revision's (migrations/0002).
DRAFTED, IN_FORCE = "plan_stages", "plan_stages_in_force"


async def load_stages(source: Source, table: str, trainee_id: str) -> tuple[PlanStage, ...]:
    rows = await source.fetch(
        "SELECT stage_no, trainer_id, product_series, spec, signed, reopened FROM "
        + table
        + " WHERE trainee_id = $1 ORDER BY stage_no",
        trainee_id,
    )
    return tuple(PlanStage(*row) for row in rows)


async def save_stages(
    conn: Source, table: str, trainee_id: str, stages: Sequence[PlanStage]
) -> None:
    """Replace the trainee's rows (a plan has a handful of stages: rewriting is simplest)."""
    await conn.execute("DELETE FROM " + table + " WHERE trainee_id = $1", trainee_id)
    await conn.executemany(
        "INSERT INTO " + table + " (trainee_id, stage_no, trainer_id, product_series, spec,"
        " signed, reopened) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (trainee_id, s.no, s.trainer_id, s.product_series, s.spec, s.signed, s.reopened)
            for s in stages
        ],
    )


async def load_plan(source: Source, trainee_id: str) -> PlanFacts:
    return PlanFacts(
        drafted=await load_stages(source, DRAFTED, trainee_id),
        in_force=await load_stages(source, IN_FORCE, trainee_id),
    )


async def save_plan(conn: Source, trainee_id: str, before: PlanFacts, after: PlanFacts) -> None:
    """Write what changed of the plan between ``before`` and ``after``."""
    if after.drafted != before.drafted:
        await save_stages(conn, DRAFTED, trainee_id, after.drafted)
    if after.in_force != before.in_force:
        await save_stages(conn, IN_FORCE, trainee_id, after.in_force)


async def trainers_of(
    source: Source, trainee_ids: Collection[str], series: str
) -> dict[str, set[str]]:
    """R-24 with R-9: for each trainee, the trainers who led its stages on ``series`` in the
    approved revision of its plan (a re-draft awaiting approval names no one yet)."""
    rows = await source.fetch(
        "SELECT trainee_id, stage_no, trainer_id, product_series, spec, signed, reopened"
        " FROM " + IN_FORCE + " WHERE trainee_id = ANY($1::text[]) AND product_series = $2",
        list(trainee_ids),
        series,
    )
    return {trainee: trainers_on(rows_, series) for trainee, rows_ in _by_trainee(rows).items()}


def _by_trainee(rows: Sequence[Any]) -> dict[str, list[PlanStage]]:
    stages: dict[str, list[PlanStage]] = {}
    for row in rows:
        stages.setdefault(row[0], []).append(PlanStage(*row[1:]))
    return stages


async def trainers_covering_content(
    source: Source, trainee_ids: Collection[str], content: str
) -> dict[str, set[str]]:
    """R-24 for a content session, with R-9: for each trainee, the trainers who led the stages of
    its approved plan covering ``content`` (listed in ``covers``, or as the stage's topic)."""
    rows = await source.fetch(
        "SELECT trainee_id, stage_no, trainer_id, product_series, spec, signed, reopened"
        " FROM " + IN_FORCE + " WHERE trainee_id = ANY($1::text[])"
        " AND (covers ? $2 OR topic = $2)",
        list(trainee_ids),
        content,
    )
    return {
        trainee: trainers_covering(rows_, content) for trainee, rows_ in _by_trainee(rows).items()
    }
