"""A person's data as a workbook (xlsx). Pure: the four services' parts in, bytes out.

Per service two sheets: its events (source, type, stream, version, when, the data as JSON) and
its read-model rows (the table, the row as JSON); two header rows, Chinese then English; every
text cell written as text (shared.spreadsheets). A JSON text longer than a cell holds
(32,767 characters) goes on in the cells to its right."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

import orjson
from openpyxl import Workbook
from openpyxl.styles import Font

from shared.personal_access import LocalData
from shared.spreadsheets import append_row

CELL_CHARS = 32_767  # the most a spreadsheet cell holds
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SERVICE_ZH: Mapping[str, str] = {
    "enrollment": "报名",
    "training": "培训",
    "assessment": "考核",
    "compensation": "薪酬",
}
EVENT_HEADERS = (
    ("来源", "Source"),
    ("事件类型", "Type"),
    ("事件流", "Stream"),
    ("版本", "Version"),
    ("发生时间", "Occurred at"),
    ("数据", "Data"),
)
ROW_HEADERS = (("表", "Table"), ("行", "Row"))


def workbook(person_id: str, parts: Mapping[str, LocalData]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook always has its first sheet
    summary.title = "概要 Summary"
    _headers(
        summary, (("人员编号", "Person"), ("服务", "Service"), ("事件", "Events"), ("行", "Rows"))
    )
    for service, part in parts.items():
        count = sum(len(rows) for rows in part.rows.values())
        append_row(summary, [person_id, service, len(part.events), count])
    for service, part in parts.items():
        zh = SERVICE_ZH.get(service, "")
        events = book.create_sheet(f"{zh}事件 {service} events")
        _headers(events, EVENT_HEADERS)
        for e in part.events:
            when = e.occurred_at.isoformat()
            append_row(events, [e.source, e.type, e.stream_id, e.version, when, *_json(e.data)])
        table_rows = book.create_sheet(f"{zh}数据 {service} rows")
        _headers(table_rows, ROW_HEADERS)
        for table, rows in part.rows.items():
            for row in rows:
                append_row(table_rows, [table, *_json(row)])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _headers(sheet: Any, columns: Sequence[tuple[str, str]]) -> None:
    for language in (0, 1):
        for cell in append_row(sheet, [c[language] for c in columns]):
            cell.font = Font(bold=True)


def _json(value: Any) -> list[str]:
    """``value`` as JSON text, in pieces a cell holds."""
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return [text[i : i + CELL_CHARS] for i in range(0, max(len(text), 1), CELL_CHARS)]
