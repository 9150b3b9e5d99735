"""Payslips per employee across months: the read model behind ``GET /employees/{id}/payslips``.

The month views read the month's own stream; an employee's history spans every month's stream,
so it is kept here (schema ``proj_payslips``), from the service's own PayslipIssued events.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

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


async def apply(conn: Conn, e: Envelope) -> None:
    if e.type != "PayslipIssued":
        return
    d = e.data
    supersedes = None if d.get("supersedes") is None else UUID(d["supersedes"])
    difference = None if d.get("difference") is None else Decimal(d["difference"])
    await conn.execute(
        "INSERT INTO payslips (payslip_id, position, month, employee_id, lines, total,"
        " supersedes, difference, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (payslip_id) DO NOTHING",
        UUID(d["payslip_id"]), e.position, d["month"], d["employee_id"], d["lines"],
        Decimal(d["total"]), supersedes, difference, e.recorded_at,
    )  # fmt: skip
    if supersedes is not None:
        await conn.execute(
            "UPDATE payslips SET superseded = true WHERE payslip_id = $1", supersedes
        )


PAYSLIPS = Projection("payslips", DDL, apply, types=frozenset({"PayslipIssued"}))
