"""``GET /board/progress``: training progress per branch and trainer accountability (R-10 to
R-13), read from the ``progress`` projection (:mod:`.projections`)."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from shared.auth import Principal
from shared.requests import Now

from .audiences import PROGRESS_BOARD
from .projections import PROGRESS

router = APIRouter(tags=["boards"])
JsonDict = dict[str, Any]

BoardReader = Annotated[Principal, Depends(PROGRESS_BOARD.gate())]

# Overdue: past its planned end (as of the reading's day) and not signed off; withdrawn trainees'
# stages are no one's delay. Status counts are of trainees still in training.
_ROWS = f"""
WITH plans AS (
    SELECT branch_id,
           count(*) FILTER (WHERE enrolled) AS trainees,
           count(*) FILTER (WHERE enrolled AND NOT withdrawn AND plan_status IS NULL)
               AS without_plan,
           count(*) FILTER (WHERE NOT withdrawn AND plan_status = 'draft') AS draft,
           count(*) FILTER (WHERE NOT withdrawn AND plan_status = 'approved') AS approved,
           count(*) FILTER (WHERE NOT withdrawn AND plan_status = 'completed') AS completed,
           count(*) FILTER (WHERE withdrawn) AS withdrawn
    FROM {PROGRESS.schema}.trainees WHERE branch_id IS NOT NULL GROUP BY branch_id
), overdue AS (
    SELECT t.branch_id, count(*) AS overdue_stages
    FROM {PROGRESS.schema}.stages s JOIN {PROGRESS.schema}.trainees t USING (trainee_id)
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
FULL JOIN {PROGRESS.schema}.branch_tallies b USING (branch_id)
LEFT JOIN overdue o USING (branch_id)
WHERE $1::text IS NULL OR branch_id = $1
ORDER BY branch_id
"""

_TRAINERS = f"""
SELECT trainer_id,
       sum(disputed_stages)::int AS disputed_stages, sum(dissenting_days)::int AS dissenting_days,
       sum(send_backs_received)::int AS send_backs_received, sum(demerits)::int AS demerits
FROM {PROGRESS.schema}.trainer_tallies
WHERE $1::text IS NULL OR branch_id = $1
GROUP BY trainer_id ORDER BY trainer_id
"""


@router.get("/board/progress")
async def progress_board(
    principal: BoardReader,
    request: Request,
    now: Now,
    branch_id: Annotated[str | None, Query(max_length=64)] = None,
) -> JsonDict:
    """Plans by status, overdue stages, disputes and send-backs per branch; per trainer, the
    disputes, dissents, send-backs and demerits held against them (for one branch: its trainees)."""
    branch = PROGRESS_BOARD.branch_of_list(principal, branch_id)
    today = now.date()
    pool: asyncpg.Pool = request.app.state.pool
    rows = await pool.fetch(_ROWS, branch, today)
    trainers = await pool.fetch(_TRAINERS, branch)
    return {
        "as_of": today.isoformat(),
        "branch_id": branch,
        "rows": [dict(r) for r in rows],
        "trainers": [dict(r) for r in trainers],
    }
