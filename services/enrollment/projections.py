"""The trainee directory: the read model behind ``GET /trainees`` (list by branch and category).

``apply_batch`` reads the rows of the trainees a batch names (one query), applies each event's
rule to them in memory (:func:`_fold`), and writes the changed rows back in one upsert, so a
rebuild costs two statements per batch. ``apply`` (one event) is ``apply_batch([event])``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

DDL = """
CREATE TABLE trainees (
    trainee_id       text PRIMARY KEY,
    name             text NOT NULL,
    category         text NOT NULL,
    branch_id        text NOT NULL,
    education        text NOT NULL,
    experience_years numeric NOT NULL,
    certificates     jsonb NOT NULL,
    product_series   jsonb NOT NULL,
    enrolled_on      date NOT NULL,
    status           text NOT NULL,
    position         text,
    plan_level       text,
    version          integer NOT NULL
);
CREATE INDEX trainees_branch_idx ON trainees (branch_id, category, trainee_id);
"""


TYPES = frozenset({"TraineeEnrolled", "PlacementExamScored", "TraineeWithdrawn"})
COLUMNS = (
    "trainee_id",
    "name",
    "category",
    "branch_id",
    "education",
    "experience_years",
    "certificates",
    "product_series",
    "enrolled_on",
    "status",
    "position",
    "plan_level",
    "version",
)
# jsonb travels as text: asyncpg would read a list inside a jsonb[] as a second dimension.
_ARRAYS = (
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "numeric[]",
    "text[]::jsonb[]",
    "text[]::jsonb[]",
    "date[]",
    "text[]",
    "text[]",
    "text[]",
    "integer[]",
)
_JSON_COLUMNS = frozenset({"certificates", "product_series"})
_UPSERT = (
    f"INSERT INTO trainees ({', '.join(COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"${n}::{t}" for n, t in enumerate(_ARRAYS, 1))
    + ") ON CONFLICT (trainee_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
)
Row = dict[str, Any]


def _enrolled_row(e: Envelope) -> Row:
    d = e.data
    values = (
        d["trainee_id"],
        d["name"],
        d["category"],
        d["branch_id"],
        d["education"],
        Decimal(d["experience_years"]),
        d["certificates"],
        d["product_series"],
        date.fromisoformat(d["enrolled_on"]),
        "enrolled",
        None,
        None,
        e.version,
    )
    return dict(zip(COLUMNS, values, strict=True))


def _fold(rows: dict[str, Row], e: Envelope) -> bool:
    """The rule of ``e`` on the rows in memory; whether it changed them."""
    d = e.data
    row = rows.get(d["trainee_id"])
    if e.type == "TraineeEnrolled":
        if row is not None:  # the first enrolment stands
            return False
        rows[d["trainee_id"]] = _enrolled_row(e)
    elif row is None:  # placed or withdrawn before enrolled: nothing to show
        return False
    elif e.type == "PlacementExamScored":
        row.update(
            status="placed", position=d["position"], plan_level=d["plan_level"], version=e.version
        )
    elif e.type == "TraineeWithdrawn":
        row.update(status="withdrawn", version=e.version)
    else:
        return False
    return True


async def apply_batch(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    wanted = [e for e in envelopes if e.type in TYPES]
    if not wanted:
        return
    found = await conn.fetch(
        f"SELECT {', '.join(COLUMNS)} FROM trainees WHERE trainee_id = ANY($1::text[])",
        sorted({e.data["trainee_id"] for e in wanted}),
    )
    rows = {r["trainee_id"]: dict(r) for r in found}
    changed = {e.data["trainee_id"] for e in wanted if _fold(rows, e)}
    if changed:
        await conn.execute(_UPSERT, *(_column(rows, changed, c) for c in COLUMNS))


def _column(rows: dict[str, Row], trainees: set[str], column: str) -> list[Any]:
    if column in _JSON_COLUMNS:
        return [orjson.dumps(rows[t][column]).decode() for t in trainees]
    return [rows[t][column] for t in trainees]


async def apply(conn: Conn, e: Envelope) -> None:
    await apply_batch(conn, [e])


DIRECTORY = Projection("directory", DDL, apply, types=TYPES, apply_batch=apply_batch)
