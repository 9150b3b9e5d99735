"""The trainee facts tables (migrations/0001): read by the handlers, written by the consumer.

Reads take a pool or a connection (``Source``): handlers read on the pool, the consumer inside
its inbox transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.decider import Conflict
from shared.problems import not_arrived

from .domain.events import TraineeFacts
from .domain.trainee_record import Enrolment, PlanStage, trainers_on

Source = Any  # an asyncpg pool or connection: both fetch
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class KnownTrainee:
    trainee_id: str
    status: str
    enrolment: Enrolment
    stages: tuple[PlanStage, ...]

    @property
    def branch_id(self) -> str:
        return self.enrolment.branch_id

    @property
    def facts(self) -> TraineeFacts:
        return self.enrolment.facts(self.stages)


async def find_trainee(source: Source, trainee_id: str) -> KnownTrainee | None:
    """The trainee once its enrolment arrived, with its current plan stages."""
    row = await source.fetchrow(
        "SELECT branch_id, category, education, experience_years, certificates, enrolled_series,"
        " status FROM trainee_facts WHERE trainee_id = $1 AND branch_id IS NOT NULL",
        trainee_id,
    )
    if row is None:
        return None
    enrolment = Enrolment(
        branch_id=row["branch_id"],
        category=row["category"] or "",
        education=row["education"],
        experience_years=Decimal(row["experience_years"] or 0),
        certificates=tuple(row["certificates"]),
        product_series=tuple(row["enrolled_series"]),
    )
    stages = await load_stages(source, trainee_id)
    return KnownTrainee(trainee_id, row["status"], enrolment, stages)


async def known_trainee(source: Source, trainee_id: str) -> KnownTrainee:
    """404 with the reason while the enrolment has not arrived (or never happened)."""
    trainee = await find_trainee(source, trainee_id)
    if trainee is None:
        raise not_arrived(
            f"trainee {trainee_id} is not known to assessment: no enrolment of it has arrived"
        )
    return trainee


async def trainee_to_examine(source: Source, trainee_id: str) -> KnownTrainee:
    """A known trainee still in training: a withdrawn one sits no exam (409)."""
    trainee = await known_trainee(source, trainee_id)
    if trainee.status == WITHDRAWN:
        raise Conflict(f"trainee {trainee_id} has withdrawn and cannot be examined")
    return trainee


async def load_stages(source: Source, trainee_id: str) -> tuple[PlanStage, ...]:
    rows = await source.fetch(
        "SELECT stage_no, trainer_id, product_series, spec, signed, reopened FROM plan_stages"
        " WHERE trainee_id = $1 ORDER BY stage_no",
        trainee_id,
    )
    return tuple(PlanStage(*row) for row in rows)


async def save_stages(conn: Source, trainee_id: str, stages: Sequence[PlanStage]) -> None:
    """Replace the trainee's rows (a plan has a handful of stages: rewriting is simplest)."""
    await conn.execute("DELETE FROM plan_stages WHERE trainee_id = $1", trainee_id)
    await conn.executemany(
        "INSERT INTO plan_stages (trainee_id, stage_no, trainer_id, product_series, spec, signed,"
        " reopened) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(trainee_id, s.no, s.trainer_id, s.product_series, s.spec, s.signed, s.reopened)
         for s in stages],
    )  # fmt: skip


async def trainers_of(
    source: Source, trainee_ids: Collection[str], series: str
) -> dict[str, set[str]]:
    """R-24: for each trainee, the trainers who led its stages on ``series``."""
    rows = await source.fetch(
        "SELECT trainee_id, stage_no, trainer_id, product_series, spec, signed, reopened"
        " FROM plan_stages WHERE trainee_id = ANY($1::text[]) AND product_series = $2",
        list(trainee_ids),
        series,
    )
    stages: dict[str, list[PlanStage]] = {}
    for row in rows:
        stages.setdefault(row[0], []).append(PlanStage(*row[1:]))
    return {trainee: trainers_on(rows_, series) for trainee, rows_ in stages.items()}
