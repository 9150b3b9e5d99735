"""What a what-if reads of assessment's store: each trainee's latest grade decision with its
inputs, and the trainer penalties of the period (docs/what-if.md). Reads only."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from starlette.datastructures import State

from .domain.events import AssessmentFailed, GradeAssigned, TraineeFacts, registry
from .policy.grading import GradingInputs
from .upstream import find_trainee
from .what_if import Decided, Penalty

# Each trainee's latest decision (a correction or a later sitting replaces the first: R-23), of
# the trainees of the branches asked for.
_DECISIONS = """
SELECT DISTINCT ON (e.data ->> 'trainee_id') e.event_id, e.type, e.schema_version, e.data,
       f.branch_id
FROM events e JOIN trainee_facts f ON f.trainee_id = e.data ->> 'trainee_id'
WHERE e.type = ANY($1::text[]) AND ($2::text[] IS NULL OR f.branch_id = ANY($2::text[]))
ORDER BY e.data ->> 'trainee_id', e.position DESC
"""
_PENALTIES = """
SELECT event_id, data FROM events WHERE type = 'TrainerPenaltyAssessed'
 AND (data ->> 'assessed_on')::date BETWEEN $1 AND $2 ORDER BY position
"""
_BRANCHES = "SELECT trainee_id, branch_id FROM trainee_facts WHERE trainee_id = ANY($1::text[])"


async def decisions(
    state: State, first: date, last: date, branches: Sequence[str] | None
) -> list[Decided]:
    """The latest decision of each trainee decided in ``first``..``last``, with its inputs: a
    grade's as it recorded them (R-22); a failure's facts as assessment knows them now (a failure
    records only the scores)."""
    rows = await state.pool.fetch(_DECISIONS, ["GradeAssigned", "AssessmentFailed"], branches)
    found: list[Decided] = []
    failures: list[tuple[Any, AssessmentFailed]] = []
    for row in rows:
        event = registry.types[row["type"]].model_validate(
            registry.upcast(row["type"], row["schema_version"], row["data"])
        )
        if isinstance(event, GradeAssigned) and first <= _day(event.assigned_at) <= last:
            found.append(
                _decided(row, event.session_id, _day(event.assigned_at), event, event.facts)
            )
        elif isinstance(event, AssessmentFailed) and first <= _day(event.assessed_at) <= last:
            failures.append((row, event))
    known = await asyncio.gather(*(find_trainee(state, e.trainee_id) for _, e in failures))
    for (row, failed), trainee in zip(failures, known, strict=True):
        if trainee is not None:
            day = _day(failed.assessed_at)
            found.append(_decided(row, failed.session_id, day, failed, trainee.facts))
    return sorted(found, key=lambda d: d.trainee_id)


def _day(moment: datetime) -> date:
    return moment.date()


def _decided(
    row: Any, session: str, day: date, event: GradeAssigned | AssessmentFailed, facts: TraineeFacts
) -> Decided:
    inputs = GradingInputs(
        written=event.written,
        practical=event.practical,
        education=facts.education,
        experience_years=facts.experience_years,
        certificates=tuple(facts.certificates),
        mastered_series=tuple(facts.mastered_series),
    )
    return Decided(event.trainee_id, row["branch_id"], session, row["event_id"], day, inputs)


async def penalties(
    state: State, first: date, last: date, branches: Sequence[str] | None
) -> list[Penalty]:
    """R-24 penalties assessed in ``first``..``last`` that hold a trainee of ``branches``."""
    rows = await state.pool.fetch(_PENALTIES, first, last)
    found = [
        Penalty(
            row["event_id"],
            str(d["trainer_id"]),
            str(d["session_id"]),
            date.fromisoformat(str(d["assessed_on"])),
            tuple(map(str, d.get("trainees", ()))),
            tuple(map(str, d.get("failed", ()))),
        )
        for row in rows
        for d in [row["data"]]
    ]
    if branches is None:
        return found
    everyone = sorted({t for p in found for t in p.trainees})
    branch_of = {r[0]: r[1] for r in await state.pool.fetch(_BRANCHES, everyone)}
    return [p for p in found if any(branch_of.get(t) in branches for t in p.trainees)]
