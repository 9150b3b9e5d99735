"""Load -> decide -> append for the organisation's commands: branches (R-2) and the staff who
train and examine (R-5), one function per command, and the registry lookup the other commands
decide with.

The registry is read from the branch's own stream (:func:`find_branch`), never from a read model
that may lag: a branch registered a moment ago takes the very next enrolment, and one closed a
moment ago refuses it (docs/adr/0014-organisation-as-events.md). Who may call is the routes'
(admin only, :mod:`.audiences`); the deciders hold the rules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from shared.commands import CommandContext
from shared.decider import Decider
from shared.execution import Aggregates, Outcome

from .domain import branch as branches
from .domain import staff as staff_members
from .domain.branch import BRANCH, Branch, registered
from .domain.commands import (
    CloseBranch,
    RecordLeaving,
    RegisterBranch,
    RegisteredBranch,
    RegisterStaff,
    RenameBranch,
)
from .domain.staff import STAFF, Staff

S = TypeVar("S")


async def find_branch(
    aggregates: Aggregates, branch_id: str, *, conn: Any = None
) -> RegisteredBranch | None:
    """The registry's branch ``branch_id`` (None: not registered), from its stream: read after
    the folded state cached here, so an append of a moment ago is seen (read-your-writes)."""
    state, _ = await aggregates.load(BRANCH, branches.stream_id(branch_id), conn=conn)
    return registered(state)


async def register_branch(
    aggregates: Aggregates, command: RegisterBranch, context: CommandContext, *, conn: Any = None
) -> Outcome[Branch]:
    """BranchRegistered; an id registered before is a 409."""
    stream = branches.stream_id(command.branch_id)
    return await _register(aggregates, BRANCH, stream, command, context, conn)


async def rename_branch(
    aggregates: Aggregates, command: RenameBranch, context: CommandContext
) -> Outcome[Branch]:
    """BranchRenamed with both names after the change; the names it has already: nothing."""
    return await _change_branch(aggregates, command, context)


async def close_branch(
    aggregates: Aggregates, command: CloseBranch, context: CommandContext
) -> Outcome[Branch]:
    """BranchClosed: no new enrolments from now on (R-2); closing twice is a 409."""
    return await _change_branch(aggregates, command, context)


async def _change_branch(
    aggregates: Aggregates, command: RenameBranch | CloseBranch, context: CommandContext
) -> Outcome[Branch]:
    return await aggregates.execute(
        BRANCH,
        branches.stream_id(command.branch_id),
        command,
        context.meta(command.branch_id),
        expected_version=context.expected,
    )


async def register_staff(
    aggregates: Aggregates, command: RegisterStaff, context: CommandContext, *, conn: Any = None
) -> Outcome[Staff]:
    """StaffRegistered at a registered, open branch (R-2); an id registered before is a 409."""
    found = await find_branch(aggregates, command.branch_id, conn=conn)
    stream = staff_members.stream_id(command.staff_id)
    return await _register(aggregates, STAFF, stream, replace(command, branch=found), context, conn)


async def record_leaving(
    aggregates: Aggregates, command: RecordLeaving, context: CommandContext
) -> Outcome[Staff]:
    """StaffLeft; a second time is a 409."""
    stream = staff_members.stream_id(command.staff_id)
    state, _ = await aggregates.load(STAFF, stream)
    branch_id = state.profile.branch_id if state.profile is not None else None
    return await aggregates.execute(
        STAFF, stream, command, context.meta(branch_id), expected_version=context.expected
    )


async def _register(
    aggregates: Aggregates,
    decider: Decider[Any, S],
    stream_id: str,
    command: RegisterBranch | RegisterStaff,
    context: CommandContext,
    conn: Any,
) -> Outcome[S]:
    """The first events of a new stream, recorded under the command's branch; a stream that has
    events already is a 409."""
    return await aggregates.execute(
        decider, stream_id, command, context.meta(command.branch_id), creates=True, conn=conn
    )
