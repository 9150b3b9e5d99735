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
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.commands import CommandContext
from shared.decider import Conflict, Decider, InvalidCommand, RuleViolation
from shared.execution import Aggregates
from shared.problems import validation_failed
from shared.spreadsheets import Sheet, UnreadableSheet, cell_text, read_sheet

from . import organisation
from .domain import branch as branches
from .domain import staff as staff_members
from .domain.commands import RegisterBranch, RegisterStaff
from .organisation_schemas import RegisterBranchRequest, RegisterStaffRequest

MAX_ROWS = 2000
Transaction = Callable[[], AbstractAsyncContextManager[Any]]  # yields the ``conn`` to use
Problem = dict[str, Any]


@dataclass(frozen=True)
class Layout:
    """What a file of one kind holds: each field's accepted headers, and its values' words."""

    columns: Mapping[str, tuple[str, ...]]
    words: Mapping[str, Mapping[str, str]]
    lists: frozenset[str] = frozenset()  # fields holding several values in one cell
    optional: frozenset[str] = frozenset()  # columns a file may leave out
    separators: re.Pattern[str] = re.compile(r"[,，、;；/\s]+")  # between a list's values


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


def _header_key(text: str) -> str:
    """``Branch ID``, ``branch-id`` and ``branch_id`` alike."""
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def rows_of(sheet: Sheet, layout: Layout) -> list[tuple[int, dict[str, Any]]]:
    """Each row as a request body (field -> value, in the API's words); a 422 listing the
    header row's problems (a column missing, unknown or twice) when it has any."""
    accepted = {_header_key(h): f for f, names in layout.columns.items() for h in names}
    where: dict[str, int] = {}
    problems: list[Problem] = []
    for index, header in enumerate(sheet.headers):
        if not header:
            continue
        field = accepted.get(_header_key(header))
        if field is None:
            known = ", ".join("/".join(names) for names in layout.columns.values())
            problems.append(problem(1, header, f"unknown column; the columns are {known}"))
        elif field in where:
            problems.append(problem(1, header, f"a second column for {field}"))
        else:
            where[field] = index
    for field in layout.columns:
        if field not in where and field not in layout.optional:
            problems.append(problem(1, field, "no column for it"))
    if problems:  # the rows cannot be read right: their problems would only repeat these
        raise refused(problems)
    return [(number, _body(cells, where, layout)) for number, cells in sheet.rows]


def _body(cells: list[Any], where: Mapping[str, int], layout: Layout) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for field, index in where.items():
        text = cell_text(cells[index]) if index < len(cells) else ""
        if not text:
            continue  # the model reports it missing
        words = layout.words.get(field, {})
        if field in layout.lists:
            parts = [part for part in layout.separators.split(text) if part]
            body[field] = [_word(words, part) for part in parts] if words else parts
        else:
            body[field] = _word(words, text) if words else text
    return body


def _word(words: Mapping[str, str], text: str) -> str:
    return words.get(text, text.lower())


def problem(row: int | None, field: str, message: str, rule: str | None = None) -> Problem:
    found: Problem = {"row": row, "field": field, "message": message, "type": "import"}
    if rule:
        found["rule"] = rule
    return found


def checked(
    rows: Sequence[tuple[int, dict[str, Any]]], model: type[BaseModel], key: str
) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """The rows that pass the request model, once per ``key`` (a repeat is a problem of its
    own), and the problems of the others."""
    valid: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for number, body in rows:
        try:
            request = model.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "row"
                message = "must not be empty" if error["type"] == "missing" else error["msg"]
                problems.append(problem(number, field, message))
            continue
        ident = getattr(request, key)
        if ident in first:
            problems.append(problem(number, key, f"{ident} is also in row {first[ident]}"))
            continue
        first[ident] = number
        valid.append((number, request))
    return valid, problems


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


def sheet_of(data: bytes) -> Sheet:
    try:
        return read_sheet(data, max_rows=MAX_ROWS)
    except UnreadableSheet as exc:
        raise refused([problem(None, "file", str(exc))]) from None


def refused(problems: list[Problem]) -> Exception:
    """The 422 listing every problem, by row then column."""
    problems = sorted(problems, key=lambda p: (p["row"] or 0, p["field"]))
    count = len(problems)
    return validation_failed(
        f"nothing was imported: {count} problem{'s' if count != 1 else ''} in the file", problems
    )


def row_context(context: CommandContext, stream_id: str) -> CommandContext:
    """The context of one row's append: the request's key made the row's own, since one key
    appended twice is taken for a repeat of the first append."""
    key = None if context.idempotency_key is None else f"{context.idempotency_key}:{stream_id}"
    return CommandContext(context.principal, key, None, context.now, context.acting_as)


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
