"""Text in exported spreadsheets stays text (formula injection, OWASP "CSV Injection"); and the
rows of an uploaded spreadsheet, read defensively (:func:`read_sheet`).

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula, and exports carry text that users typed (a stage's content, a
trainer's assessment, ids). Every export writes its rows through this module:

- xlsx: :func:`append_row` stores every ``str`` as a string cell. openpyxl would otherwise store
  text starting with ``=`` as a formula (and ``#N/A`` as an error); the value is kept as is, and
  risky text also gets the quote prefix, so editing the cell in Excel keeps it text.
- CSV: :func:`csv_field` prefixes such text with a single quote, as OWASP advises. CSV has no
  types, so numbers must reach it as numbers (``Decimal``, ``int``): a negative amount is not text
  and keeps its sign unquoted.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def append_row(sheet: Worksheet, values: Iterable[Any]) -> tuple[Cell, ...]:
    """Append ``values`` as the sheet's next row, every ``str`` as a text cell; the row's cells."""
    sheet.append(list(values))
    cells: tuple[Cell, ...] = sheet[sheet.max_row]
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if looks_like_formula(cell.value):
                cell.quotePrefix = True
    return cells


Columns = Sequence[tuple[str, str]]  # (Chinese, English) header of each column


def board_workbook(title: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> bytes:
    """A board as people take it into a meeting: one sheet ``title``, two bold header rows
    (Chinese, then English) kept in view, then ``rows``."""
    return board_sheets([(title, columns, rows)])


def board_sheets(sheets: Sequence[tuple[str, Columns, Iterable[Sequence[Any]]]]) -> bytes:
    """:func:`board_workbook` with one sheet per (title, columns, rows), in order."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        for header in ([zh for zh, _ in columns], [en for _, en in columns]):
            for cell in append_row(sheet, header):
                cell.font = Font(bold=True)
        for row in rows:
            append_row(sheet, row)
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_field(value: Any) -> Any:
    """``value`` ready for a CSV writer: formula-like text quoted, None empty, the rest as is."""
    if value is None:
        return ""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


# --- reading an uploaded workbook ---------------------------------------------------------------
# An xlsx file is a zip of XML parts: a small upload can inflate to gigabytes (a "zip bomb"), so
# the parts' declared sizes are checked before openpyxl opens any of them.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024


class UnreadableSheet(ValueError):
    """The upload is not a workbook this reader accepts; the message says why (safe to show)."""


@dataclass(frozen=True)
class Sheet:
    """The first worksheet: its header row's cells as text, and each non-empty row below it
    with its number as the spreadsheet shows it (the header is row 1)."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]


def read_sheet(data: bytes, *, max_rows: int) -> Sheet:
    """The first worksheet of the xlsx ``data``, at most ``max_rows`` rows below the header;
    :class:`UnreadableSheet` for anything else (not a workbook, too big, no header)."""
    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # whatever the parser trips over, the upload is not a workbook
        raise UnreadableSheet("the file is not an xlsx workbook") from exc
    try:
        if not workbook.worksheets:
            raise UnreadableSheet("the workbook has no worksheet")
        values = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(values, None)
        headers = [cell_text(v) for v in header or ()]
        if not any(headers):
            raise UnreadableSheet("the first row must name the columns")
        rows: list[tuple[int, list[Any]]] = []
        for number, row in enumerate(values, start=2):
            cells = list(row)
            if all(cell_text(v) == "" for v in cells):
                continue
            if len(rows) == max_rows:
                raise UnreadableSheet(f"the sheet has more than {max_rows} rows")
            rows.append((number, cells))
        return Sheet(headers, rows)
    finally:
        workbook.close()


def _check_unpacked_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableSheet("the file is not an xlsx workbook") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableSheet(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes")


def cell_text(value: Any) -> str:
    """A cell as the text it shows, trimmed: a whole number without ``.0`` (an id typed as a
    number), a date as ``YYYY-MM-DD``, an empty cell as ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
