"""The trainee directory: the read model behind ``GET /trainees`` (list by branch and category);
and the organisation's lists behind ``GET /branches`` and ``GET /staff`` (:data:`ORGANISATION`).

``apply_batch`` reads the rows of the trainees a batch names (one query), applies each event's
rule to them in memory (:func:`_fold`), and writes the changed rows back in one upsert, so a
rebuild costs two statements per batch. ``apply`` (one event) is ``apply_batch([event])``.

Both read models hold people's names (and the trainees' certificates): on PersonalDataErased they
read :data:`~shared.personal.ERASED` instead (docs/privacy.md). A rebuild gives the same rows,
since the erased person's sealed fields reveal as the marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from shared.db import Conn
from shared.erasure import ERASED_TYPE, erased_person
from shared.events import Envelope
from shared.personal import ERASED
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


TYPES = frozenset({"TraineeEnrolled", "PlacementExamScored", "TraineeWithdrawn", ERASED_TYPE})
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


def _trainee_of(e: Envelope) -> str:
    """The trainee an event is about (an erasure: the person erased, perhaps a trainee)."""
    person = erased_person(e)
    return str(e.data["trainee_id"]) if person is None else person


def _fold(rows: dict[str, Row], e: Envelope) -> bool:
    """The rule of ``e`` on the rows in memory; whether it changed them."""
    d = e.data
    row = rows.get(_trainee_of(e))
    if e.type == ERASED_TYPE:
        if row is None or (row["name"] == ERASED and row["certificates"] == [ERASED]):
            return False
        row.update(name=ERASED, certificates=[ERASED])
    elif e.type == "TraineeEnrolled":
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
        sorted({_trainee_of(e) for e in wanted}),
    )
    rows = {r["trainee_id"]: dict(r) for r in found}
    changed = {_trainee_of(e) for e in wanted if _fold(rows, e)}
    if changed:
        await conn.execute(_UPSERT, *(_column(rows, changed, c) for c in COLUMNS))


def _column(rows: dict[str, Row], trainees: set[str], column: str) -> list[Any]:
    if column in _JSON_COLUMNS:
        return [orjson.dumps(rows[t][column]).decode() for t in trainees]
    return [rows[t][column] for t in trainees]


async def apply(conn: Conn, e: Envelope) -> None:
    await apply_batch(conn, [e])


# v2: an erased trainee's name and certificates read as the marker (issue 19).
DIRECTORY = Projection("directory", DDL, apply, types=TYPES, apply_batch=apply_batch, version=2)


# --- the organisation: branches and staff, as lists ---------------------------------------------
# The lists only: what a command decides with (is the branch registered and open?) is read from
# the branch's own stream (services/enrollment/organisation.py), never from here.

ORGANISATION_DDL = """
CREATE TABLE branches (
    branch_id       text PRIMARY KEY,
    kind            text NOT NULL,
    name_zh         text NOT NULL,
    name_en         text NOT NULL,
    status          text NOT NULL,
    closed_on       date,
    closing_reason  text,
    version         integer NOT NULL
);
CREATE TABLE staff (
    staff_id    text PRIMARY KEY,
    name        text NOT NULL,
    department  text NOT NULL,
    roles       text[] NOT NULL,
    branch_id   text NOT NULL,
    status      text NOT NULL,
    left_on     date,
    version     integer NOT NULL
);
CREATE INDEX staff_department_idx ON staff (department, staff_id);
"""
ORGANISATION_TYPES = frozenset(
    {
        "BranchRegistered",
        "BranchRenamed",
        "BranchClosed",
        "StaffRegistered",
        "StaffLeft",
        ERASED_TYPE,
    }
)
# Each statement acts once per event: the first registration stands, and a change applies only
# over an older version of the row (a replayed event changes nothing).
_ORGANISATION_SQL = {
    "BranchRegistered": (
        "INSERT INTO branches (branch_id, kind, name_zh, name_en, status, version)"
        " VALUES ($1, $2, $3, $4, 'open', $5) ON CONFLICT (branch_id) DO NOTHING",
        ("branch_id", "kind", "name_zh", "name_en"),
    ),
    "BranchRenamed": (
        "UPDATE branches SET name_zh = $2, name_en = $3, version = $4"
        " WHERE branch_id = $1 AND version < $4",
        ("branch_id", "name_zh", "name_en"),
    ),
    "BranchClosed": (
        "UPDATE branches SET status = 'closed', closed_on = $2::text::date, closing_reason = $3,"
        " version = $4 WHERE branch_id = $1 AND version < $4",
        ("branch_id", "closed_on", "reason"),
    ),
    "StaffRegistered": (
        "INSERT INTO staff (staff_id, name, department, roles, branch_id, status, version)"
        " VALUES ($1, $2, $3, $4, $5, 'active', $6) ON CONFLICT (staff_id) DO NOTHING",
        ("staff_id", "name", "department", "roles", "branch_id"),
    ),
    "StaffLeft": (
        "UPDATE staff SET status = 'left', left_on = $2::text::date, version = $3"
        " WHERE staff_id = $1 AND version < $3",
        ("staff_id", "left_on"),
    ),
}
# An erased member of staff's name reads as the marker (whatever the row's version: the erasure
# is on the person's stream, not the staff member's).
_ERASE_STAFF = "UPDATE staff SET name = $2 WHERE staff_id = $1"


async def apply_organisation(conn: Conn, e: Envelope) -> None:
    person = erased_person(e)
    if person is not None:
        await conn.execute(_ERASE_STAFF, person, ERASED)
        return
    found = _ORGANISATION_SQL.get(e.type)
    if found is not None:
        sql, fields = found
        await conn.execute(sql, *(e.data[f] for f in fields), e.version)


# v2: an erased member of staff's name reads as the marker (issue 19).
ORGANISATION = Projection(
    "organisation", ORGANISATION_DDL, apply_organisation, types=ORGANISATION_TYPES, version=2
)
