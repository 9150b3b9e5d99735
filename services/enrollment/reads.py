"""Read routes of the enrollment service: a trainee's profile, read from its own stream (never
stale), and the directory of trainees (projection ``directory``), each answered only to those
the route's audience lets see the trainee (R-2, :mod:`.audiences`).

A caller who may not see a trainee gets 404, not 403: confirming that the trainee exists would
already tell another branch about it.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from shared.audience import Audience
from shared.auth import Principal
from shared.decider import NotFound
from shared.execution import Aggregates, app_aggregates
from shared.problems import validation_failed
from shared.requests import BranchQuery, KeyCursor, encode_cursor, etag

from . import audiences
from .domain.events import registry
from .domain.trainee import TRAINEE, Trainee, stream_id
from .domain.vocabulary import Category
from .organisation import find_branch
from .schemas import DirectoryPage, Profile, TraineeIdPath

router = APIRouter(tags=["trainees"])

ProfileReader = Annotated[Principal, Depends(audiences.PROFILE.gate())]
Lister = Annotated[Principal, Depends(audiences.LISTING.gate())]


async def visible_trainee(
    trainees: Aggregates, principal: Principal, trainee_id: str, audience: Audience
) -> tuple[Trainee, int]:
    """The trainee and its version, if ``audience`` lets this principal see it; NotFound (404)
    otherwise, so other branches learn nothing."""
    state, version = await trainees.load(TRAINEE, stream_id(trainee_id))
    profile = state.profile
    if profile is None or not audience.sees(
        principal, branch_id=profile.branch_id, person_id=profile.trainee_id
    ):
        raise NotFound(f"no trainee {trainee_id}")
    return state, version


@router.get("/trainees/{trainee_id}")
async def get_trainee(
    trainee_id: TraineeIdPath, principal: ProfileReader, request: Request, response: Response
) -> Profile:
    """The trainee's profile, status and placement, read from its own stream (never stale)."""
    trainees = app_aggregates(request.app.state, registry)
    state, version = await visible_trainee(trainees, principal, trainee_id, audiences.PROFILE)
    response.headers["ETag"] = etag(version)
    return Profile.of(state, version)


async def _registered(aggregates: Aggregates, branch_id: str) -> None:
    """422 naming ``query.branch_id`` unless the registry holds the branch (open or closed: a
    closed branch's trainees are still listed)."""
    if await find_branch(aggregates, branch_id) is None:
        message = f"no branch {branch_id!r} is registered"
        error = {"field": "query.branch_id", "message": message, "type": "domain", "rule": "R-2"}
        raise validation_failed(f"Invalid request: query.branch_id: {message}", [error])


_DIRECTORY = (
    "SELECT trainee_id, name, category, branch_id, education, experience_years, certificates,"
    " product_series, enrolled_on, status, position, plan_level, version"
    " FROM proj_directory.trainees WHERE ($1::text IS NULL OR branch_id = $1)"
    " AND ($2::text IS NULL OR category = $2) AND ($3::text IS NULL OR trainee_id > $3)"
    " ORDER BY trainee_id LIMIT $4"
)


async def directory_page(
    pool: asyncpg.Pool, branch_id: str | None, category: str | None, after: str | None, limit: int
) -> DirectoryPage:
    """A page of the directory after trainee ``after``, and the cursor of the next one."""
    rows = await pool.fetch(_DIRECTORY, branch_id, category, after, limit + 1)
    items = [{**r, "experience_years": str(r["experience_years"])} for r in rows[:limit]]
    more = len(rows) > limit
    cursor = encode_cursor(items[-1]["trainee_id"]) if more else None
    return DirectoryPage.model_validate({"items": items, "next_cursor": cursor})


@router.get("/trainees")
async def list_trainees(
    principal: Lister,
    request: Request,
    branch_id: BranchQuery = None,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: KeyCursor | None = None,
) -> DirectoryPage:
    """Trainees by branch and category, paginated; a branch clerk lists its own branch only. A
    ``branch_id`` the registry lacks is a 422 naming it (R-2)."""
    asked = branch_id
    branch_id = audiences.LISTING.branch_of_list(principal, branch_id)
    if asked is not None:
        await _registered(app_aggregates(request.app.state, registry), asked)
    return await directory_page(request.app.state.pool, branch_id, category, cursor, limit)
