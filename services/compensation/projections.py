"""Payslips per employee across months: the read model behind ``GET /employees/{id}/payslips``.

The month views read the month's own stream; an employee's history spans every month's stream,
so it is kept here (schema ``proj_payslips``), from the service's own PayslipIssued events.

A payroll run issues a payslip per employee in one append; ``apply_batch`` writes a batch of them
with one insert and marks the payslips they supersede with one update.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

DDL = """
CREATE TABLE payslips (
    payslip_id   uuid PRIMARY KEY,
    position     bigint NOT NULL,
    month        text NOT NULL,
    employee_id  text NOT NULL,
    lines        jsonb NOT NULL,
    total        numeric NOT NULL,
    supersedes   uuid,
    difference   numeric,
    superseded   boolean NOT NULL DEFAULT false,
    issued_at    timestamptz NOT NULL
);
CREATE INDEX payslips_employee_idx ON payslips (employee_id, position);
"""


_COLUMNS = (
    "payslip_id, position, month, employee_id, lines, total, supersedes, difference, issued_at"
)
_INSERT = (
    f"INSERT INTO payslips ({_COLUMNS}) SELECT * FROM unnest($1::uuid[], $2::bigint[],"
    " $3::text[], $4::text[], $5::text[]::jsonb[], $6::numeric[], $7::uuid[], $8::numeric[],"
    " $9::timestamptz[]) ON CONFLICT (payslip_id) DO NOTHING"
)  # jsonb travels as text: asyncpg would read the list of lines as a second array dimension
_MARK_SUPERSEDED = "UPDATE payslips SET superseded = true WHERE payslip_id = ANY($1::uuid[])"


def _row(e: Envelope) -> tuple[Any, ...]:
    d = e.data
    supersedes = None if d.get("supersedes") is None else UUID(d["supersedes"])
    difference = None if d.get("difference") is None else Decimal(d["difference"])
    return (
        UUID(d["payslip_id"]),
        e.position,
        d["month"],
        d["employee_id"],
        orjson.dumps(d["lines"]).decode(),
        Decimal(d["total"]),
        supersedes,
        difference,
        e.recorded_at,
    )


async def apply_batch(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    rows = [_row(e) for e in envelopes if e.type == "PayslipIssued"]
    if not rows:
        return
    first_at: dict[UUID, int] = {}  # payslip -> the index of the first row issuing it
    for i, row in enumerate(rows):
        first_at.setdefault(row[0], i)
    if any(first_at.get(row[6], -1) > i for i, row in enumerate(rows)):
        # A payslip superseding one issued later in the batch (never made by the decider):
        # event by event, its UPDATE would find nothing, so apply them one by one.
        for i in range(len(rows)):
            await _write(conn, rows[i : i + 1])
        return
    await _write(conn, rows)


async def _write(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    await conn.execute(_INSERT, *(list(column) for column in zip(*rows, strict=True)))
    superseded = [row[6] for row in rows if row[6] is not None]
    if superseded:
        await conn.execute(_MARK_SUPERSEDED, superseded)


async def apply(conn: Conn, e: Envelope) -> None:
    await apply_batch(conn, [e])


PAYSLIPS = Projection(
    "payslips", DDL, apply, types=frozenset({"PayslipIssued"}), apply_batch=apply_batch
)
