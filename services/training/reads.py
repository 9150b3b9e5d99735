"""Read routes of the training service: the plan table 培训计划表 (as JSON and as a spreadsheet)
and the progress board.

The plan is read from its own stream (never stale) and answered with its ETag. A caller whose
role may read plans but who is not in this plan's audience (another branch's clerk, another
trainee, a trainer without a stage in it) gets 404, as enrollment answers for the trainee itself:
confirming that the plan exists would already tell another branch about the trainee.

``GET /board/progress``: training progress per branch and trainer accountability (R-10 to R-13),
read from the ``progress`` projection (:mod:`.projections`).

``GET /trainers/{trainer_id}/stages``: a trainer's stages across the plans in force, found through
the ``progress`` projection and read from each plan's own stream.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from shared import directory
from shared.auth import Principal, require_roles
from shared.events import JsonDict
from shared.execution import app_aggregates
from shared.problems import forbidden, not_found
from shared.requests import BranchQuery, KeyCursor, Now, encode_cursor, etag

from .audiences import (
    PLAN_LIST_READERS,
    PLAN_READERS,
    PROGRESS_BOARD,
    TRAINER_STAGES,
    listed_category,
    may_read,
)
from .coverage_view import shown_coverage
from .domain import plan
from .domain.events import registry
from .domain.plan_table import plan_table
from .domain.vocabulary import PlanStatus
from .export import XLSX, plan_workbook
from .plan_list import plan_page
from .projections import PROGRESS
from .schemas import (
    NamedPlanTable,
    PlanList,
    ProgressBoard,
    TraineeIdPath,
    TrainerIdPath,
    TrainerStagesPage,
)
from .upstream import KnownTrainee, find_trainee

router = APIRouter()

Reader = Annotated[Principal, Depends(require_roles(*sorted(PLAN_READERS)))]
BoardReader = Annotated[Principal, Depends(PROGRESS_BOARD.gate())]
Lister = Annotated[Principal, Depends(require_roles(*sorted(PLAN_LIST_READERS)))]
StagesReader = Annotated[Principal, Depends(TRAINER_STAGES.gate())]


async def visible_table(request: Request, principal: Principal, trainee_id: str) -> JsonDict:
    plans = app_aggregates(request.app.state, registry)
    state, version = await plans.load(plan.PLAN, plan.stream_id(trainee_id))
    trainee = await find_trainee(request.app.state, trainee_id)
    if state.status is None or not may_read(principal, trainee, state):
        raise not_found(f"no plan has been drafted for trainee {trainee_id}")
    table = {**plan_table(state, version), **(await shown_coverage(request, state, trainee))}
    return await with_names(request.app.state.pool, table, trainee)


async def with_names(pool: asyncpg.Pool, table: JsonDict, trainee: KnownTrainee | None) -> JsonDict:
    """The plan table with the trainee's name and each stage's trainer's (ids until known)."""
    names = await directory.staff_names(pool, (stage["trainer_id"] for stage in table["stages"]))
    stages = directory.with_names(table["stages"], names, "trainer_id", "trainer_name")
    trainee_name = trainee.name if trainee is not None and trainee.name else table["trainee_id"]
    return {**table, "trainee_name": trainee_name, "stages": stages}


@router.get("/plans", tags=["plans"])
async def list_plans(
    principal: Lister,
    request: Request,
    status: PlanStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: KeyCursor | None = None,
) -> PlanList:
    """The plans by trainee id, paginated, of one ``status`` (``draft``: the executive
    vice-president's queue of plans awaiting approval, R-9), each with its trainee's name and the
    version to approve it with; the production manager lists its production reserve trainees'
    plans only (R-8). A read model: a plan drafted a moment ago may need a moment to appear."""
    category = listed_category(principal)
    status_value = None if status is None else status.value
    return await plan_page(
        request.app.state.pool, status=status_value, category=category, after=cursor, limit=limit
    )


@router.get("/plans/{trainee_id}", tags=["plans"], response_model=NamedPlanTable)
async def get_plan(
    trainee_id: TraineeIdPath, principal: Reader, request: Request, response: Response
) -> JsonDict:
    """The plan table: stages, days, signatures and status (hours as exact decimal strings)."""
    table = await visible_table(request, principal, trainee_id)
    response.headers["ETag"] = etag(table["version"])
    return table


@router.get(
    "/plans/{trainee_id}/export.xlsx",
    tags=["plans"],
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "the plan table as a spreadsheet",
        }
    },
)
async def export_plan(trainee_id: TraineeIdPath, principal: Reader, request: Request) -> Response:
    """The plan table in the regulation's eight columns, one row per stage."""
    table = await visible_table(request, principal, trainee_id)
    filename = f"plan-{trainee_id}.xlsx"
    return Response(
        plan_workbook(table),
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": etag(table["version"]),
        },
    )


# From the summary tables the projection keeps (progress_summary.py): a branch is shown once a
# trainee row names it or a tally does. Overdue: past its planned end (as of the reading's day)
# and not signed off; withdrawn trainees' stages are no one's delay. Status counts are of
# trainees still in training.
_ROWS = f"""
WITH overdue AS (
    SELECT branch_id, sum(stages)::int AS overdue_stages
    FROM {PROGRESS.schema}.open_stage_ends WHERE planned_end < $2 GROUP BY branch_id
)
SELECT branch_id,
       coalesce(c.trainees, 0) AS trainees, coalesce(c.without_plan, 0) AS without_plan,
       coalesce(c.draft, 0) AS draft, coalesce(c.approved, 0) AS approved,
       coalesce(c.completed, 0) AS completed, coalesce(c.withdrawn, 0) AS withdrawn,
       coalesce(o.overdue_stages, 0) AS overdue_stages,
       coalesce(b.disputes, 0) AS disputes, coalesce(b.send_backs, 0) AS send_backs
FROM (SELECT * FROM {PROGRESS.schema}.branch_counts WHERE rows > 0) c
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


@router.get("/board/progress", tags=["boards"])
async def progress_board(
    principal: BoardReader,
    request: Request,
    now: Now,
    branch_id: BranchQuery = None,
) -> ProgressBoard:
    """Plans by status, overdue stages, disputes and send-backs per branch; per trainer, the
    disputes, dissents, send-backs and demerits held against them (for one branch: its trainees).
    Branches and trainers are named beside their ids; a branch asked for must be known here (422
    until its registration has arrived from enrollment)."""
    branch = PROGRESS_BOARD.branch_of_list(principal, branch_id)
    today = now.date()
    pool: asyncpg.Pool = request.app.state.pool
    await directory.require_known_branch(pool, branch_id)
    rows = await pool.fetch(_ROWS, branch, today)
    trainers = await pool.fetch(_TRAINERS, branch)
    branches = await directory.branch_names(pool, (r["branch_id"] for r in rows))
    people = await directory.staff_names(pool, (r["trainer_id"] for r in trainers))
    return ProgressBoard.model_validate(
        {
            "as_of": today,
            "branch_id": branch,
            "rows": directory.with_branch_names(map(dict, rows), branches),
            "trainers": directory.with_names(
                map(dict, trainers), people, "trainer_id", "trainer_name"
            ),
        }
    )


# The plans in force (approved, or completed) with a stage of the trainer, by trainee, for one
# page; a withdrawn trainee's plan is no one's work. A plan whose re-draft awaits approval is left
# out: nothing can be logged against it until then.
_TRAINER_PLANS = f"""
SELECT DISTINCT s.trainee_id
FROM {PROGRESS.schema}.stages s JOIN {PROGRESS.schema}.trainees t USING (trainee_id)
WHERE s.trainer_id = $1 AND t.plan_status IN ('approved', 'completed') AND NOT t.withdrawn
  AND ($2::text IS NULL OR s.trainee_id > $2)
ORDER BY s.trainee_id LIMIT $3
"""
_NAMES = "SELECT trainee_id, name FROM known_trainees WHERE trainee_id = ANY($1::text[])"
_IN_FORCE = (PlanStatus.APPROVED, PlanStatus.COMPLETED)


def trainer_stages(table: JsonDict, trainer_id: str, trainee_name: str) -> list[JsonDict]:
    """The trainer's stages of one plan table, each with its days summed up."""
    rows = []
    for stage in table["stages"]:
        if stage["trainer_id"] != trainer_id:
            continue
        days = stage["days"]
        rows.append(
            {
                **{k: v for k, v in stage.items() if k not in ("days", "trainer_id")},
                "trainee_id": table["trainee_id"],
                "trainee_name": trainee_name,
                "plan_status": table["status"],
                "plan_version": table["version"],
                "days_logged": len(days),
                "hours_logged": str(sum((Decimal(d["hours"]) for d in days), Decimal(0))),
                "last_day": days[-1]["date"] if days else None,
                "days_unconfirmed": sum(not d["confirmed"] for d in days),
                "days_dissented": sum(d["agree"] is False for d in days),
                "signed_by_trainer": stage["trainer_assessment"] is not None,
            }
        )
    return rows


@router.get("/trainers/{trainer_id}/stages", tags=["plans"])
async def list_trainer_stages(
    trainer_id: TrainerIdPath,
    principal: StagesReader,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100, description="plans per page")] = 50,
    cursor: KeyCursor | None = None,
) -> TrainerStagesPage:
    """The stages ``trainer_id`` trains in the plans in force (approved or completed), by trainee,
    with each stage's planned dates, status, days logged and confirmed, and its sign-off (the
    trainer's assessment, the trainee's countersign or dispute, a send-back reopening it). A
    page holds up to ``limit`` plans, each with all of the trainer's stages in it, read from the
    plan's own stream (``plan_version`` is its ETag). A trainer reads its own stages only (403);
    the after-sales manager, the executive vice-president and management read any trainer's."""
    if not TRAINER_STAGES.sees(principal, branch_id=None, person_id=trainer_id):
        raise forbidden("a trainer reads its own stages only")
    pool: asyncpg.Pool = request.app.state.pool
    rows = await pool.fetch(_TRAINER_PLANS, trainer_id, cursor, limit + 1)
    found = [r["trainee_id"] for r in rows]
    page = found[:limit]
    names = {r["trainee_id"]: r["name"] for r in await pool.fetch(_NAMES, page) if r["name"]}
    plans = app_aggregates(request.app.state, registry)
    items: list[JsonDict] = []
    for trainee_id in page:
        state, version = await plans.load(plan.PLAN, plan.stream_id(trainee_id))
        if state.status not in _IN_FORCE:  # re-drafted since the projection saw it approved
            continue
        table = plan_table(state, version)
        items += trainer_stages(table, trainer_id, names.get(trainee_id, trainee_id))
    more = len(found) > limit
    next_cursor = encode_cursor(page[-1]) if more else None
    return TrainerStagesPage.model_validate(
        {"trainer_id": trainer_id, "items": items, "next_cursor": next_cursor}
    )
