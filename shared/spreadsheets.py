"""Text in exported spreadsheets stays text (formula injection, OWASP "CSV Injection").

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

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import Cell
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


def csv_field(value: Any) -> Any:
    """``value`` ready for a CSV writer: formula-like text quoted, None empty, the rest as is."""
    if value is None:
        return ""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value
