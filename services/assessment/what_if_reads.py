"""What a what-if reads of assessment's store: each trainee's latest grade decision with its
inputs, and the trainer penalties of the period (docs/what-if.md). Reads only."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.datastructures import State

from .domain.events import certificate_count, registry
from .domain.vocabulary import Department, Education
from .policy.grading import GradingInputs
from .upstream import find_trainee
from .what_if import Decided, Outcome, Penalty

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
    records only the scores). Payloads are read tolerantly, only the fields used."""
    rows = await state.pool.fetch(_DECISIONS, ["GradeAssigned", "AssessmentFailed"], branches)
    found: list[Decided] = []
    failures: list[tuple[Any, dict[str, Any], date]] = []
    for row in rows:
        d = registry.upcast(row["type"], row["schema_version"], row["data"])
        graded = row["type"] == "GradeAssigned"
        day = _day(d["assigned_at" if graded else "assessed_at"])
        if not first <= day <= last:
            continue
        if graded:
            found.append(_decided(row, d, day, d["facts"], _recorded(d)))
        else:
            failures.append((row, d, day))
    known = await asyncio.gather(
        *(find_trainee(state, str(d["trainee_id"])) for _, d, _ in failures)
    )
    for (row, d, day), trainee in zip(failures, known, strict=True):
        if trainee is not None:
            failed = Outcome(False, None, None, None)
            found.append(_decided(row, d, day, trainee.facts.model_dump(), failed))
    return sorted(found, key=lambda d: d.trainee_id)


def _day(moment: str) -> date:
    return datetime.fromisoformat(moment).date()


def _recorded(d: Mapping[str, Any]) -> Outcome:
    """What a GradeAssigned decided (R-21: a pass without a position has none)."""
    return Outcome(True, d.get("position"), d.get("level"), Decimal(str(d["grade_score"])))


def _decided(
    row: Any, d: Mapping[str, Any], day: date, facts: Mapping[str, Any], recorded: Outcome
) -> Decided:
    inputs = GradingInputs(
        written=Decimal(str(d["written"])),
        practical={Department(k): Decimal(str(v)) for k, v in d["practical"].items()},
        education=Education(facts["education"]),
        experience_years=Decimal(str(facts["experience_years"])),
        certificate_count=certificate_count(facts),
        mastered_series=tuple(facts.get("mastered_series", ())),
    )
    return Decided(
        str(d["trainee_id"]), row["branch_id"], str(d["session_id"]), row["event_id"], day,
        inputs, d.get("policy_version"), recorded,
    )  # fmt: skip


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
