"""Issue 19, access request as an xlsx (services/enrollment/access_export.py): per service a sheet
of events and one of read-model rows, headers in Chinese then English, every event's data as JSON
text, whole even when longer than a cell holds."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import orjson
from openpyxl import load_workbook

from services.enrollment.access_export import CELL_CHARS, workbook
from shared.personal_access import HeldEvent, LocalData

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LONG_NOTE = "长" * (CELL_CHARS + 10)


def event(**data) -> HeldEvent:
    return HeldEvent(
        source="events",
        service="training",
        event_id="e-1",
        stream_id="plan-p-1",
        version=1,
        type="TrainingDayLogged",
        occurred_at=NOW,
        recorded_at=NOW,
        actor={"sub": "tr-1", "role": "trainer"},
        branch_id="hq",
        data=data,
    )


def parts() -> dict[str, LocalData]:
    return {
        "enrollment": LocalData(
            service="enrollment",
            person_id="p-1",
            events=[],
            rows={"proj_directory.trainees": [{"trainee_id": "p-1", "name": "=张三"}]},
        ),
        "training": LocalData(
            service="training",
            person_id="p-1",
            events=[event(trainee_id="p-1", performance=LONG_NOTE)],
            rows={},
        ),
    }


def test_each_service_has_an_events_and_a_rows_sheet_headed_in_chinese_and_english():
    book = load_workbook(BytesIO(workbook("p-1", parts())))
    assert book.sheetnames == [
        "概要 Summary",
        "报名事件 enrollment events",
        "报名数据 enrollment rows",
        "培训事件 training events",
        "培训数据 training rows",
    ]
    rows = list(book["报名数据 enrollment rows"].iter_rows(values_only=True))
    assert rows[:2] == [("表", "行"), ("Table", "Row")]
    table, text = rows[2]
    assert table == "proj_directory.trainees"
    assert orjson.loads(text) == {"trainee_id": "p-1", "name": "=张三"}  # text, not a formula
    summary = list(book["概要 Summary"].iter_rows(values_only=True))
    assert summary[2:] == [("p-1", "enrollment", 0, 1), ("p-1", "training", 1, 0)]


def test_data_longer_than_a_cell_goes_on_in_the_next_cells():
    book = load_workbook(BytesIO(workbook("p-1", parts())))
    source, kind, stream, version, when, *pieces = list(
        book["培训事件 training events"].iter_rows(values_only=True)
    )[2]
    assert (source, kind, stream, version, when) == (
        ("events", "TrainingDayLogged", "plan-p-1", 1, NOW.isoformat())
    )
    assert len(pieces) == 2 and all(len(p) <= CELL_CHARS for p in pieces)
    assert orjson.loads("".join(pieces))["performance"] == LONG_NOTE
