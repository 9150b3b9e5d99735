"""The boards management reads: grades (per branch, position, level) and trainer accountability.

Grade board (``proj_grade_board``), from the service's own events only: the latest decision of
each trainee replaces any earlier one, so a dispute's corrected grade replaces the first on the
board, and a failure or a grade without a position (R-21: passed but not eligible, reserve) takes
the trainee off it. Events come in store order, so the latest applied is the latest decided. The
branch is the event envelope's (every assessment event carries the trainee's branch).

Trainer board (``proj_trainer_board``): R-24 penalties from ``TrainerPenaltyAssessed``, plus the
R-13 demerits training records (inbox). The two sources only ever insert rows keyed by their own
event, so their interleaving does not matter.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

from .schemas import money

GRADES_DDL = """
CREATE TABLE grades (
    trainee_id  text        PRIMARY KEY,
    branch_id   text,
    session_id  text        NOT NULL,
    position    text,       -- NULL: no grade (failed, or reserve)
    level       text,
    grade_score numeric,
    event_id    uuid        NOT NULL,
    decided_at  timestamptz NOT NULL
);
CREATE INDEX grades_board_idx ON grades (branch_id, position, level);
"""


async def apply_grade(conn: Conn, e: Envelope) -> None:
    if e.type not in ("GradeAssigned", "AssessmentFailed"):
        return
    d = e.data
    score = d.get("grade_score")
    await conn.execute(
        "INSERT INTO grades VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (trainee_id)"
        " DO UPDATE SET branch_id = EXCLUDED.branch_id, session_id = EXCLUDED.session_id,"
        " position = EXCLUDED.position, level = EXCLUDED.level,"
        " grade_score = EXCLUDED.grade_score, event_id = EXCLUDED.event_id,"
        " decided_at = EXCLUDED.decided_at",
        d["trainee_id"], e.branch_id, d["session_id"], d.get("position"), d.get("level"),
        None if score is None else Decimal(score), e.event_id, e.occurred_at,
    )  # fmt: skip


GRADE_BOARD = Projection(
    "grade_board", GRADES_DDL, apply_grade,
    types=frozenset({"GradeAssigned", "AssessmentFailed"}),
)  # fmt: skip


async def grade_rows(conn: Any, schema: str, branch_id: str | None) -> list[dict[str, Any]]:
    """Counts by branch x position x level, with the trainees behind them."""
    rows = await conn.fetch(
        "SELECT branch_id, position, level, count(*) AS count,"
        " array_agg(trainee_id ORDER BY trainee_id) AS trainee_ids"
        f" FROM {schema}.grades WHERE position IS NOT NULL"
        " AND ($1::text IS NULL OR branch_id = $1) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        branch_id,
    )
    return [dict(row) for row in rows]


TRAINERS_DDL = """
CREATE TABLE penalties (
    session_id     text    NOT NULL,
    trainer_id     text    NOT NULL,
    product_series text    NOT NULL,
    trainees       jsonb   NOT NULL,
    failed         jsonb   NOT NULL,
    failure_rate   numeric NOT NULL,
    fine           numeric NOT NULL,
    policy_version text    NOT NULL,
    assessed_on    date    NOT NULL,
    PRIMARY KEY (session_id, trainer_id, product_series)
);
CREATE TABLE demerits (
    event_id   uuid PRIMARY KEY,
    trainer_id text NOT NULL,
    trainee_id text
);
CREATE INDEX demerits_trainer_idx ON demerits (trainer_id);
"""


async def apply_trainer(conn: Conn, e: Envelope) -> None:
    d = e.data
    if e.type == "TrainerPenaltyAssessed" and e.service == "assessment":
        await conn.execute(
            "INSERT INTO penalties VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::date)"
            " ON CONFLICT DO NOTHING",
            d["session_id"], d["trainer_id"], d["product_series"], d["trainees"], d["failed"],
            Decimal(d["failure_rate"]), Decimal(d["fine"]), d["policy_version"],
            d["assessed_on"],
        )  # fmt: skip
    elif e.type == "TrainerDemeritRecorded" and e.service == "training":
        await conn.execute(
            "INSERT INTO demerits VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            e.event_id, d["trainer_id"], d.get("trainee_id"),
        )  # fmt: skip


TRAINER_BOARD = Projection(
    "trainer_board", TRAINERS_DDL, apply_trainer, sources=("events", "inbox"),
    types=frozenset({"TrainerPenaltyAssessed", "TrainerDemeritRecorded"}),
)  # fmt: skip


async def trainer_rows(conn: Any, session_id: str | None) -> list[dict[str, Any]]:
    """R-24 per trainer x product series x session; ``trainees``/``failed`` are counts, the ids
    are in ``trainee_ids``/``failed_ids``; ``demerits`` counts the trainer's R-13 demerits."""
    rows = await conn.fetch(
        "SELECT p.*, (SELECT count(*) FROM proj_trainer_board.demerits m"
        " WHERE m.trainer_id = p.trainer_id) AS demerits FROM proj_trainer_board.penalties p"
        " WHERE ($1::text IS NULL OR p.session_id = $1)"
        " ORDER BY p.session_id, p.trainer_id, p.product_series",
        session_id,
    )
    return [_trainer_row(r) for r in rows]


def _trainer_row(r: Any) -> dict[str, Any]:
    return {
        "trainer_id": r["trainer_id"], "session_id": r["session_id"],
        "product_series": r["product_series"], "trainees": len(r["trainees"]),
        "failed": len(r["failed"]), "failure_rate": str(r["failure_rate"]),
        "fine": money(r["fine"]), "trainee_ids": r["trainees"], "failed_ids": r["failed"],
        "demerits": r["demerits"], "policy_version": r["policy_version"],
        "assessed_on": r["assessed_on"],
    }  # fmt: skip
