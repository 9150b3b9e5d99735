"""Read routes of the plan: the plan table 培训计划表 as JSON and as a spreadsheet.

Both read the plan's own stream (never stale) and answer its ETag. A caller whose role may read
plans but who is not in this plan's audience (another branch's clerk, another trainee, a trainer
without a stage in it) gets 404, as enrollment answers for the trainee itself: confirming that
the plan exists would already tell another branch about the trainee.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from shared.auth import Principal, require_roles
from shared.problems import not_found
from shared.requests import etag

from .audiences import PLAN_READERS, may_read
from .domain.plan_table import plan_table
from .export import XLSX, plan_workbook
from .handlers import current_plan
from .schemas import TraineeIdPath
from .trainees import find_trainee

router = APIRouter(tags=["plans"])
JsonDict = dict[str, Any]

Reader = Annotated[Principal, Depends(require_roles(*sorted(PLAN_READERS)))]


async def visible_table(request: Request, principal: Principal, trainee_id: str) -> JsonDict:
    state, version = await current_plan(request, trainee_id)
    trainee = await find_trainee(request.app.state, trainee_id)
    if state.status is None or not may_read(principal, trainee, state):
        raise not_found(f"no plan has been drafted for trainee {trainee_id}")
    return plan_table(state, version)


@router.get("/plans/{trainee_id}")
async def get_plan(
    trainee_id: TraineeIdPath, principal: Reader, request: Request, response: Response
) -> JsonDict:
    """The plan table: stages, days, signatures and status (hours as exact decimal strings)."""
    table = await visible_table(request, principal, trainee_id)
    response.headers["ETag"] = etag(table["version"])
    return table


@router.get(
    "/plans/{trainee_id}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the plan table as a spreadsheet"}},
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
