"""Read routes of the organisation: one branch or member of staff from its own stream (never
stale, with its ETag), and the lists of branches and staff (projection ``organisation``).

Every signed-in role reads the branches: their names are shown wherever a branch id is. The staff
are read by those who plan training and exams (:data:`.audiences.STAFF_READERS`).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from shared.auth import CurrentPrincipal, Principal
from shared.decider import Decider, NotFound
from shared.execution import app_aggregates
from shared.requests import KeyCursor, encode_cursor, etag

from . import audiences
from .domain import branch as branches
from .domain import staff as staff_members
from .domain.events import registry
from .domain.vocabulary import BranchKind, BranchStatus, Department, StaffRole, StaffStatus
from .organisation_schemas import (
    BranchIdPath,
    BranchPage,
    BranchView,
    StaffIdPath,
    StaffPage,
    StaffView,
)

router = APIRouter(tags=["organisation"])

StaffReader = Annotated[Principal, Depends(audiences.STAFF_READERS.gate())]
Limit = Annotated[int, Query(ge=1, le=500)]


class _Registrable(Protocol):
    @property
    def status(self) -> object:
        """None until registered."""


R = TypeVar("R", bound=_Registrable)
P = TypeVar("P", bound=BaseModel)


async def _registered(
    request: Request, response: Response, decider: Decider[Any, R], stream_id: str, missing: str
) -> tuple[R, int]:
    """A branch or member of staff read from its own stream, with its version as the ETag to
    change it with; 404 saying ``missing`` until it is registered."""
    aggregates = app_aggregates(request.app.state, registry)
    state, version = await aggregates.load(decider, stream_id)
    if state.status is None:
        raise NotFound(missing)
    response.headers["ETag"] = etag(version)
    return state, version


@router.get("/branches/{branch_id}")
async def get_branch(
    branch_id: BranchIdPath, principal: CurrentPrincipal, request: Request, response: Response
) -> BranchView:
    """A registered branch, read from its own stream; its ETag is the version to rename or
    close it with."""
    stream = branches.stream_id(branch_id)
    state, version = await _registered(
        request, response, branches.BRANCH, stream, f"no branch {branch_id}"
    )
    return BranchView.of(state, version)


_BRANCHES = (
    "SELECT branch_id, kind, name_zh, name_en, status, closed_on, closing_reason, version"
    " FROM proj_organisation.branches WHERE ($1::text IS NULL OR kind = $1)"
    " AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR branch_id > $3)"
    " ORDER BY branch_id LIMIT $4"
)


@router.get("/branches")
async def list_branches(
    principal: CurrentPrincipal,
    request: Request,
    kind: BranchKind | None = None,
    status: BranchStatus | None = None,
    limit: Limit = 100,
    cursor: KeyCursor | None = None,
) -> BranchPage:
    """The registered branches by id, with their names (zh and en) and whether they are open."""
    rows = await request.app.state.pool.fetch(_BRANCHES, kind, status, cursor, limit + 1)
    return _page(BranchPage, rows, limit, "branch_id")


@router.get("/staff/{staff_id}")
async def get_staff(
    staff_id: StaffIdPath, principal: StaffReader, request: Request, response: Response
) -> StaffView:
    """A member of staff, read from its own stream; its ETag is the version to record its
    leaving with."""
    stream = staff_members.stream_id(staff_id)
    state, version = await _registered(
        request, response, staff_members.STAFF, stream, f"no staff {staff_id}"
    )
    return StaffView.of(state, version)


_STAFF = (
    "SELECT staff_id, name, department, roles, branch_id, status, left_on, version"
    " FROM proj_organisation.staff WHERE ($1::text IS NULL OR department = $1)"
    " AND ($2::text IS NULL OR $2 = ANY (roles)) AND ($3::text IS NULL OR branch_id = $3)"
    " AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR staff_id > $5)"
    " ORDER BY staff_id LIMIT $6"
)


@router.get("/staff")
async def list_staff(
    principal: StaffReader,
    request: Request,
    department: Department | None = None,
    role: StaffRole | None = None,
    branch_id: Annotated[str | None, Query(max_length=64)] = None,
    status: StaffStatus | None = None,
    limit: Limit = 100,
    cursor: KeyCursor | None = None,
) -> StaffPage:
    """The staff who train and examine by id: of a department, a role, a branch, still active
    or gone; every filter is optional."""
    pool: asyncpg.Pool = request.app.state.pool
    rows = await pool.fetch(_STAFF, department, role, branch_id, status, cursor, limit + 1)
    return _page(StaffPage, rows, limit, "staff_id")


def _page(page: type[P], rows: list[Any], limit: int, key: str) -> P:
    """The page of the first ``limit`` rows (of ``limit + 1`` fetched), and the cursor of the
    next page (None: this is the last)."""
    items = [dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor(items[-1][key]) if more else None
    return page.model_validate({"items": items, "next_cursor": next_cursor})
