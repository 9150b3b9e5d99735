"""The plans as lists for the people who work through them (``GET /plans``): the executive
vice-president's queue of drafts awaiting approval (R-9), the managers' plans by status.

A read model (projection ``plans``, schema ``proj_plans``): one row per plan stream, its status,
revision and stream version (the ETag an approval is decided on), and who drafted its latest
revision when. The trainee's name, branch, category and status come from what enrollment told
training (``known_trainees``, :mod:`.upstream`) at the time of reading: the trainee's id stands
in for its name until its enrolment has arrived.
"""

from __future__ import annotations

import asyncpg

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection
from shared.requests import encode_cursor

from .domain.plan import stream_id
from .schemas import PlanList

STREAM_PREFIX = stream_id("")

DDL = """
CREATE TABLE plans (
    trainee_id        text PRIMARY KEY,
    status            text NOT NULL,
    revision          integer NOT NULL,
    approved_revision integer,
    version           integer NOT NULL,
    drafted_by        text NOT NULL,
    drafted_at        timestamptz NOT NULL
);
CREATE INDEX plans_status_idx ON plans (status, trainee_id);
"""

_DRAFTED = """
INSERT INTO plans (trainee_id, status, revision, version, drafted_by, drafted_at)
VALUES ($1, 'draft', $2, $3, $4, $5)
ON CONFLICT (trainee_id) DO UPDATE SET status = 'draft', revision = EXCLUDED.revision,
    version = EXCLUDED.version, drafted_by = EXCLUDED.drafted_by, drafted_at = EXCLUDED.drafted_at
"""
_APPROVED = "UPDATE plans SET status = 'approved', approved_revision = $2, version = $3"
_APPROVED += " WHERE trainee_id = $1"
_COMPLETED = "UPDATE plans SET status = 'completed', version = $2 WHERE trainee_id = $1"
_OTHER = "UPDATE plans SET version = $2 WHERE trainee_id = $1"  # the ETag moves with every event


async def apply(conn: Conn, e: Envelope) -> None:
    if not e.stream_id.startswith(STREAM_PREFIX):
        return  # a trainer's demerits: no plan
    trainee_id = e.stream_id.removeprefix(STREAM_PREFIX)
    match e.type:
        case "PlanDrafted":
            revision, drafted_by = e.data["revision"], e.data["drafted_by"]
            await conn.execute(_DRAFTED, trainee_id, revision, e.version, drafted_by, e.occurred_at)
        case "PlanApproved":
            await conn.execute(_APPROVED, trainee_id, e.data["revision"], e.version)
        case "TrainingCompleted":
            await conn.execute(_COMPLETED, trainee_id, e.version)
        case _:
            await conn.execute(_OTHER, trainee_id, e.version)


PLANS = Projection("plans", DDL, apply)

_PAGE = f"""
SELECT p.trainee_id, coalesce(k.name, p.trainee_id) AS trainee_name, k.branch_id, k.category,
       k.status AS trainee_status, p.status, p.revision, p.approved_revision, p.version,
       p.drafted_by, p.drafted_at
FROM {PLANS.schema}.plans p
LEFT JOIN known_trainees k ON k.trainee_id = p.trainee_id AND k.branch_id IS NOT NULL
WHERE ($1::text IS NULL OR p.status = $1) AND ($2::text IS NULL OR k.category = $2)
  AND ($3::text IS NULL OR p.trainee_id > $3)
ORDER BY p.trainee_id LIMIT $4
"""


async def plan_page(
    pool: asyncpg.Pool,
    *,
    status: str | None,
    category: str | None,
    after: str | None,
    limit: int,
) -> PlanList:
    """A page of plans after trainee ``after`` (of one status, of one category of trainee: None
    for any), and the cursor of the next page."""
    rows = await pool.fetch(_PAGE, status, category, after, limit + 1)
    items = [dict(r) for r in rows[:limit]]
    cursor = encode_cursor(items[-1]["trainee_id"]) if len(rows) > limit else None
    return PlanList.model_validate({"items": items, "next_cursor": cursor})
