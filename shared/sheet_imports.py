"""Rows imported from an uploaded spreadsheet, for every service's ``POST /imports/...``: every
row is checked first, and only a file without a bad row is stored, all of it in one
transaction; otherwise nothing changes and the 422 lists each problem by row number (as the
spreadsheet shows it) and column.

This module holds what every import shares: a file kind's :class:`Layout` (its columns, named
in English or Chinese, and its values' Chinese words), reading the rows as request bodies
(:func:`rows_of`), checking them against the request model (:func:`checked`), the per-row
problems and the 422 that lists them (:func:`refused`), and each row's own Idempotency-Key
(:func:`row_context`). The services say what a row becomes (enrollment's imports.py and
trainee_imports.py, compensation's pay_imports.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.commands import CommandContext
from shared.problems import validation_failed
from shared.spreadsheets import Sheet, UnreadableSheet, cell_text, read_sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An import route's OpenAPI request body (``openapi_extra``): the file itself.
UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The xlsx file itself as the body (not a multipart form).",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}
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
