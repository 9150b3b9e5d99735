"""Branches and staff imported from a spreadsheet (``POST /imports/branches``, ``POST
/imports/staff``, ``gradeline import``): every row is checked first, and only a file without a
bad row is registered, all of it in one transaction; otherwise nothing changes and the answer
lists each problem by row number (as the spreadsheet shows it) and column.

A row is checked as its one-by-one request would be: the request body's model, then the decider
on the registry's state (an id registered before, a staff member's branch unknown or closed),
plus what only a file has: the same id twice. Columns are named in English or Chinese, values
in English (the API's words) or Chinese (docs/organisation.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shared.commands import CommandContext
from shared.decider import Conflict, Decider, InvalidCommand, RuleViolation
from shared.execution import Aggregates
from shared.sheet_imports import (
    Layout,
    Problem,
    Transaction,
    checked,
    problem,
    refused,
    row_context,
    rows_of,
    sheet_of,
)

from . import organisation
from .domain import branch as branches
from .domain import staff as staff_members
from .domain.commands import RegisterBranch, RegisterStaff
from .organisation_schemas import RegisterBranchRequest, RegisterStaffRequest

BRANCHES = Layout(
    columns={
        "branch_id": ("branch_id", "编号", "网点编号"),
        "kind": ("kind", "类型"),
        "name_zh": ("name_zh", "中文名称"),
        "name_en": ("name_en", "英文名称"),
    },
    words={"kind": {"总部": "hq", "办事处": "branch_office", "经销商": "dealer"}},
)
STAFF = Layout(
    columns={
        "staff_id": ("staff_id", "工号", "编号"),
        "name": ("name", "姓名"),
        "department": ("department", "部门"),
        "roles": ("roles", "角色"),
        "branch_id": ("branch_id", "网点编号", "所属网点"),
    },
    words={
        "department": {
            "技术部": "technical",
            "工艺工程部": "process_engineering",
            "体系部": "system",
            "售后部": "after_sales",
            "人力资源部": "hr",
            "生产部": "production",
            "品管": "quality",
            "品管部": "quality",
        },
        "roles": {"培训师": "trainer", "考官": "examiner"},
    },
    lists=frozenset({"roles"}),
)


@dataclass(frozen=True)
class Registered:
    """What the rows of one kind are registered as: the decider of their streams, the field of
    their id, the stream of an id, and the handler that appends one row's command."""

    decider: Decider[Any, Any]
    key: str
    stream_of: Callable[[str], str]
    register: Callable[..., Awaitable[Any]]

    def stream(self, command: Any) -> str:
        return self.stream_of(getattr(command, self.key))


async def with_branches(
    aggregates: Aggregates, commands: Sequence[tuple[int, Any]]
) -> list[tuple[int, Any]]:
    """Each row's command with the registry's answer for the branch it names (R-2: registered
    and open), each branch looked up once."""
    named = sorted({c.branch_id for _, c in commands})
    found = await asyncio.gather(*(organisation.find_branch(aggregates, b) for b in named))
    branch = dict(zip(named, found, strict=True))
    return [(n, replace(c, branch=branch[c.branch_id])) for n, c in commands]


async def register_all(
    aggregates: Aggregates,
    kind: Registered,
    commands: Sequence[tuple[int, Any]],
    problems: list[Problem],
    context: CommandContext,
    transaction: Transaction,
) -> None:
    """Every row's command appended in one transaction, or none: the 422 lists the file's
    ``problems`` and what the decider says of each command (:func:`refusals`)."""
    problems = problems + await refusals(aggregates, kind, commands)
    if problems:
        raise refused(problems)
    async with transaction() as conn:
        for _, command in commands:
            row = row_context(context, kind.stream(command))
            await kind.register(aggregates, command, row, conn=conn)


async def refusals(
    aggregates: Aggregates, kind: Registered, commands: Sequence[tuple[int, Any]]
) -> list[Problem]:
    """What the decider says of each row's command on the registry's state (nothing: it would
    be registered), as problems of those rows; an id registered before is one of its key."""
    decider = kind.decider
    states = await asyncio.gather(*(aggregates.load(decider, kind.stream(c)) for _, c in commands))
    problems: list[Problem] = []
    for (number, command), (state, _) in zip(commands, states, strict=True):
        try:
            decider.decide(command, state)
        except InvalidCommand as exc:
            problems.append(problem(number, exc.field, exc.detail, exc.rule))
        except RuleViolation as exc:  # the branch named is closed
            problems.append(problem(number, "branch_id", exc.detail, exc.rule))
        except Conflict as exc:
            problems.append(problem(number, kind.key, str(exc)))
    return problems


# --- the two imports ------------------------------------------------------------------------


BRANCH_ROWS = Registered(
    branches.BRANCH, "branch_id", branches.stream_id, organisation.register_branch
)
STAFF_ROWS = Registered(
    staff_members.STAFF, "staff_id", staff_members.stream_id, organisation.register_staff
)


async def import_branches(
    aggregates: Aggregates, data: bytes, context: CommandContext, transaction: Transaction
) -> list[str]:
    """Register every branch of the file, or none; the ids registered, in file order."""
    valid, problems = checked(rows_of(sheet_of(data), BRANCHES), RegisterBranchRequest, "branch_id")
    commands = [(n, RegisterBranch(r.branch_id, r.kind, r.name_zh, r.name_en)) for n, r in valid]
    await register_all(aggregates, BRANCH_ROWS, commands, problems, context, transaction)
    return [c.branch_id for _, c in commands]


async def import_staff(
    aggregates: Aggregates, data: bytes, context: CommandContext, transaction: Transaction
) -> list[str]:
    """Register everyone in the file, or no one; the ids registered, in file order. Each row's
    branch is the registry's (R-2: registered and open)."""
    valid, problems = checked(rows_of(sheet_of(data), STAFF), RegisterStaffRequest, "staff_id")
    commands = await with_branches(
        aggregates,
        [
            (n, RegisterStaff(r.staff_id, r.name, r.department, tuple(r.roles), r.branch_id))
            for n, r in valid
        ],
    )
    await register_all(aggregates, STAFF_ROWS, commands, problems, context, transaction)
    return [c.staff_id for _, c in commands]
