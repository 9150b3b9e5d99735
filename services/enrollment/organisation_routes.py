"""Write routes of the organisation (docs/organisation.md): its administrator registers,
renames and closes branches, and registers staff and records their leaving. Thin: request ->
command -> :mod:`.organisation` -> response; the rules live in ``domain/branch.py`` and
``domain/staff.py``; the spreadsheet imports check and register in :mod:`.imports`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from shared.auth import Role
from shared.commands import CommandContext, Write, WriteDependency, writer
from shared.execution import Aggregates, transaction
from shared.idempotency import IDEMPOTENCY_HEADER
from shared.sheet_imports import UPLOAD, Transaction

from . import imports, organisation
from .domain.commands import CloseBranch, RecordLeaving, RegisterBranch, RegisterStaff, RenameBranch
from .domain.events import registry
from .organisation_schemas import (
    BranchIdPath,
    BranchView,
    CloseBranchRequest,
    Imported,
    LeaveRequest,
    RegisterBranchRequest,
    RegisterStaffRequest,
    RenameBranchRequest,
    StaffIdPath,
    StaffView,
)

router = APIRouter(tags=["organisation"])


class RenameDependency(WriteDependency):
    """A PATCH's :class:`Write`: ``Idempotency-Key`` is for POST and PUT (shared.idempotency),
    so a PATCH does not claim to take one; a rename sent twice changes nothing the second time
    anyway (the names it has already)."""

    def openapi_parameters(self) -> list[dict[str, Any]]:
        return [p for p in super().openapi_parameters() if p["name"] != IDEMPOTENCY_HEADER]


# The organisation's administrator alone (audiences.ORGANISATION_ADMIN).
ADMIN_ONLY = (Role.ADMIN,)
Creation = Annotated[Write, writer(*ADMIN_ONLY, if_match=False)]
Change = Annotated[Write, writer(*ADMIN_ONLY)]
Rename = Annotated[Write, Depends(RenameDependency(ADMIN_ONLY, if_match=True))]


@router.post("/branches", status_code=201)
async def register_branch(body: RegisterBranchRequest, write: Creation) -> BranchView:
    """Register a branch (BranchRegistered): trainees may be enrolled there from now on (R-2).
    An id registered before is a 409."""
    command = RegisterBranch(body.branch_id, body.kind, body.name_zh, body.name_en)
    outcome = await organisation.register_branch(write.aggregates(registry), command, write)
    write.located(f"/branches/{body.branch_id}")
    return BranchView.of(outcome.state, write.shown(outcome.version))


@router.patch("/branches/{branch_id}")
async def rename_branch(
    branch_id: BranchIdPath, body: RenameBranchRequest, write: Rename
) -> BranchView:
    """Rename a branch (BranchRenamed, both names after the change); the names it has already
    change nothing. A closed branch keeps its names (409)."""
    command = RenameBranch(branch_id, body.name_zh, body.name_en)
    outcome = await organisation.rename_branch(write.aggregates(registry), command, write)
    return BranchView.of(outcome.state, write.shown(outcome.version))


@router.post("/branches/{branch_id}/close")
async def close_branch(
    branch_id: BranchIdPath, body: CloseBranchRequest, write: Change
) -> BranchView:
    """Close a branch (BranchClosed): it takes no new enrolments (409 R-2); its trainees'
    history stays as it is. Closing twice is a 409."""
    command = CloseBranch(branch_id, body.closed_on, body.reason, write.today)
    outcome = await organisation.close_branch(write.aggregates(registry), command, write)
    return BranchView.of(outcome.state, write.shown(outcome.version))


@router.post("/staff", status_code=201)
async def register_staff(body: RegisterStaffRequest, write: Creation) -> StaffView:
    """Register someone who trains, examines or both (StaffRegistered), of a department, at a
    registered and open branch (R-2, R-5). An id registered before is a 409."""
    command = RegisterStaff(
        body.staff_id, body.name, body.department, tuple(body.roles), body.branch_id
    )
    outcome = await organisation.register_staff(write.aggregates(registry), command, write)
    write.located(f"/staff/{body.staff_id}")
    return StaffView.of(outcome.state, write.shown(outcome.version))


@router.post("/staff/{staff_id}/leave")
async def record_leaving(staff_id: StaffIdPath, body: LeaveRequest, write: Change) -> StaffView:
    """Record that a member of staff left (StaffLeft); a second time is a 409."""
    command = RecordLeaving(staff_id, body.left_on, write.today)
    outcome = await organisation.record_leaving(write.aggregates(registry), command, write)
    return StaffView.of(outcome.state, write.shown(outcome.version))


# --- spreadsheets -------------------------------------------------------------------------------


@router.post("/imports/branches", status_code=201, openapi_extra=UPLOAD)
async def import_branches(write: Creation) -> Imported:
    """Register the branches of a spreadsheet (columns ``branch_id``/编号, ``kind``/类型,
    ``name_zh``/中文名称, ``name_en``/英文名称): all of them, or, when any row is bad, none; the
    422 then lists every problem by row and column."""
    return await _imported(imports.import_branches, write)


@router.post("/imports/staff", status_code=201, openapi_extra=UPLOAD)
async def import_staff(write: Creation) -> Imported:
    """Register the staff of a spreadsheet (columns ``staff_id``/工号, ``name``/姓名,
    ``department``/部门, ``roles``/角色, ``branch_id``/网点编号): everyone, or, when any row is
    bad, no one; the 422 then lists every problem by row and column."""
    return await _imported(imports.import_staff, write)


Importer = Callable[[Aggregates, bytes, CommandContext, Transaction], Awaitable[list[str]]]


async def _imported(importer: Importer, write: Write) -> Imported:
    """What ``importer`` registered of the request's spreadsheet, in one transaction."""
    ids = await importer(
        write.aggregates(registry),
        await write.request.body(),
        write,
        partial(transaction, write.app_state.pool),
    )
    return Imported(imported=len(ids), ids=ids)
