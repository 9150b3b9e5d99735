"""The trainee directory: the read model behind ``GET /trainees`` (list by branch and category)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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


async def apply(conn: Conn, e: Envelope) -> None:
    d = e.data
    if e.type == "TraineeEnrolled":
        await conn.execute(
            "INSERT INTO trainees VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'enrolled',"
            " NULL, NULL, $10) ON CONFLICT (trainee_id) DO NOTHING",
            d["trainee_id"], d["name"], d["category"], d["branch_id"], d["education"],
            Decimal(d["experience_years"]), d["certificates"], d["product_series"],
            date.fromisoformat(d["enrolled_on"]), e.version,
        )  # fmt: skip
    elif e.type == "PlacementExamScored":
        await conn.execute(
            "UPDATE trainees SET status = 'placed', position = $2, plan_level = $3, version = $4"
            " WHERE trainee_id = $1",
            d["trainee_id"], d["position"], d["plan_level"], e.version,
        )  # fmt: skip
    elif e.type == "TraineeWithdrawn":
        await conn.execute(
            "UPDATE trainees SET status = 'withdrawn', version = $2 WHERE trainee_id = $1",
            d["trainee_id"],
            e.version,
        )


DIRECTORY = Projection(
    "directory", DDL, apply,
    types=frozenset({"TraineeEnrolled", "PlacementExamScored", "TraineeWithdrawn"}),
)  # fmt: skip
