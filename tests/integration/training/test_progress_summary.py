"""The progress board's summary tables (progress_summary.py) always say what aggregating every
trainee and stage says: random histories of both sources (enrolments before and after plans, a
plan's branch changed by its enrolment, redrafts, sign-offs, send-backs and their closing,
completions, withdrawals), rebuilt in batches of several sizes, read for days before, between and
after the stages' planned ends, for every branch and for each one."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from services.training.projections import PROGRESS
from services.training.reads import _ROWS
from shared.projections import rebuild
from tests.integration.test_projection_batches import (
    assert_batches_match_events,
    event,
    stage,
    upstream,
)

# The board's aggregation before the summary tables, kept as the reference.
REFERENCE = """
WITH plans AS (
    SELECT branch_id,
           count(*) FILTER (WHERE enrolled) AS trainees,
           count(*) FILTER (WHERE enrolled AND NOT withdrawn AND plan_status IS NULL)
               AS without_plan,
           count(*) FILTER (WHERE NOT withdrawn AND plan_status = 'draft') AS draft,
           count(*) FILTER (WHERE NOT withdrawn AND plan_status = 'approved') AS approved,
           count(*) FILTER (WHERE NOT withdrawn AND plan_status = 'completed') AS completed,
           count(*) FILTER (WHERE withdrawn) AS withdrawn
    FROM proj_progress.trainees WHERE branch_id IS NOT NULL GROUP BY branch_id
), overdue AS (
    SELECT t.branch_id, count(*) AS overdue_stages
    FROM proj_progress.stages s JOIN proj_progress.trainees t USING (trainee_id)
    WHERE NOT s.signed_off AND s.planned_end < $2 AND NOT t.withdrawn
    GROUP BY t.branch_id
)
SELECT branch_id,
       coalesce(p.trainees, 0) AS trainees, coalesce(p.without_plan, 0) AS without_plan,
       coalesce(p.draft, 0) AS draft, coalesce(p.approved, 0) AS approved,
       coalesce(p.completed, 0) AS completed, coalesce(p.withdrawn, 0) AS withdrawn,
       coalesce(o.overdue_stages, 0) AS overdue_stages,
       coalesce(b.disputes, 0) AS disputes, coalesce(b.send_backs, 0) AS send_backs
FROM plans p
FULL JOIN proj_progress.branch_tallies b USING (branch_id)
LEFT JOIN overdue o USING (branch_id)
WHERE $1::text IS NULL OR branch_id = $1
ORDER BY branch_id
"""
BRANCHES = ("dl-north", "dl-south", "sh-east")
ENDS = ("2026-03-06", "2026-03-13", "2026-03-20")
DAYS = [date(2026, 3, d) for d in (1, 7, 13, 14, 21)]


async def random_history(pool, store, rng: random.Random, trainees: int) -> None:
    inbox_versions: dict[str, int] = {}

    async def inbox(trainee: str, type_: str, data: dict[str, Any]) -> None:
        stream = f"trainee-{trainee}"
        inbox_versions[stream] = inbox_versions.get(stream, 0) + 1
        await upstream(pool, "enrollment", stream, inbox_versions[stream], type_, data)

    for n in range(trainees):
        t = f"r{n}"
        plan, who = f"plan-{t}", {"trainee_id": t}
        branch = rng.choice(BRANCHES)
        enrolled_first = rng.random() < 0.5
        if enrolled_first:
            await inbox(t, "TraineeEnrolled", {**who, "branch_id": branch})
        if rng.random() < 0.85:
            stages = [stage(no, f"tr-{no}", rng.choice(ENDS)) for no in range(1, rng.randint(2, 4))]
            on_envelope = rng.choice([branch, rng.choice(BRANCHES), None])
            await event(store, plan, "PlanDrafted", {**who, "stages": stages}, on_envelope)
            for _ in range(rng.randint(0, 6)):
                await random_plan_event(store, rng, plan, who, len(stages))
        if not enrolled_first and rng.random() < 0.8:
            await inbox(t, "TraineeEnrolled", {**who, "branch_id": branch})
        if rng.random() < 0.15:
            await inbox(t, "TraineeWithdrawn", who)


async def random_plan_event(store, rng: random.Random, plan: str, who: dict, stages: int) -> None:
    no = rng.randint(1, stages)
    kind = rng.choice(["approve", "sign", "sign", "return", "close", "complete", "redraft"])
    if kind == "approve":
        await event(store, plan, "PlanApproved", who)
    elif kind == "sign":
        signed = {**who, "stage_no": no, "trainer_id": f"tr-{no}", "disputed": rng.random() < 0.3}
        await event(store, plan, "StageSignedOff", signed)
    elif kind == "return":
        await event(store, plan, "StageReturned", {**who, "to_stage": no, "reason": "r"})
    elif kind == "close":
        await event(store, plan, "ReturnClosed", {**who, "stage_no": no, "returned_from": no + 1})
    elif kind == "complete":
        await event(store, plan, "TrainingCompleted", who)
    else:
        redraft = [stage(k, f"tr-{k}", rng.choice(ENDS)) for k in range(1, rng.randint(2, 4))]
        await event(store, plan, "PlanDrafted", {**who, "stages": redraft})


async def boards(pool, query: str) -> list[Any]:
    found = []
    for branch in (None, *BRANCHES):
        for day in DAYS:
            found.append([dict(r) for r in await pool.fetch(query, branch, day)])
    return found


async def test_the_summary_tables_answer_as_the_aggregation_did(pg_pool, pg_store):
    await random_history(pg_pool, pg_store, random.Random(20), trainees=60)
    # The summary tables too are the same whatever the batches (and event by event).
    await assert_batches_match_events(pg_pool, PROGRESS)
    for size in (1, 4, 5000):
        await rebuild(pg_pool, "core", PROGRESS, batch_size=size)
        expected = await boards(pg_pool, REFERENCE)
        assert any(any(r["overdue_stages"] for r in board) for board in expected)
        assert any(any(r["withdrawn"] for r in board) for board in expected)
        assert await boards(pg_pool, _ROWS) == expected, f"batches of {size}"
    counts = await pg_pool.fetchval("SELECT count(*) FROM proj_progress.branch_counts")
    assert 0 < counts <= len(BRANCHES)
