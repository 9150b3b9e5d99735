"""The boards management reads: grades (per branch, position, level) and trainer accountability.

Grade board (``proj_grade_board``), from the service's own events only: the latest decision of
each trainee replaces any earlier one, so a dispute's corrected grade replaces the first on the
board, and a failure or a grade without a position (R-21: passed but not eligible, reserve) takes
the trainee off it. Events come in store order, so the latest applied is the latest decided. The
branch is the event envelope's (every assessment event carries the trainee's branch). Every
decision is also kept in ``grade_history`` (trainee, store position, recorded time), from which
the board as of a past moment is one query. The counts by cell, now and as each day began, are
kept beside them (``board_cells.py``), so that the board answers in the same time at any size.

Trainer board (``proj_trainer_board``): R-24 penalties from ``TrainerPenaltyAssessed``, plus the
R-13 demerits training records (inbox), and the trainees each fined trainer keeps training until
they pass (``retraining.py``, from the service's own events only). The two sources only ever touch
rows of their own events, so their interleaving does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

from .board_cells import CELLS_DDL, by_day, open_closings, shift_cells
from .retraining import RETRAINING_DDL, RETRAINING_TYPES, apply_retraining
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
-- A cell's trainees in id order: the board's drill-down pages (keyset on trainee_id).
CREATE INDEX grades_board_idx ON grades (branch_id, position, level, trainee_id);
-- Every decision ever recorded, so the board as of a past moment is a query, not a replay.
CREATE TABLE grade_history (
    trainee_id  text        NOT NULL,
    seq         bigint      NOT NULL,  -- the decision's position in the store
    recorded_at timestamptz NOT NULL,
    branch_id   text,
    position    text,
    level       text,
    PRIMARY KEY (trainee_id, seq)
);
CREATE INDEX grade_history_recorded_idx ON grade_history (recorded_at);
CREATE INDEX grade_history_cell_idx ON grade_history (branch_id, position, level, trainee_id);
"""
DECISIONS = frozenset({"GradeAssigned", "AssessmentFailed"})

# One statement per table for a whole batch: the rows travel as one array per column.
_UPSERT_GRADES = """
INSERT INTO grades SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
    $5::text[], $6::numeric[], $7::uuid[], $8::timestamptz[])
ON CONFLICT (trainee_id) DO UPDATE SET branch_id = EXCLUDED.branch_id,
    session_id = EXCLUDED.session_id, position = EXCLUDED.position, level = EXCLUDED.level,
    grade_score = EXCLUDED.grade_score, event_id = EXCLUDED.event_id,
    decided_at = EXCLUDED.decided_at
"""
_INSERT_HISTORY = """
INSERT INTO grade_history SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[],
    $4::text[], $5::text[], $6::text[])
ON CONFLICT DO NOTHING
"""


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def _grade_row(e: Envelope) -> tuple[Any, ...]:
    d = e.data
    score = d.get("grade_score")
    return (
        d["trainee_id"],
        e.branch_id,
        d["session_id"],
        d.get("position"),
        d.get("level"),
        None if score is None else Decimal(score),
        e.event_id,
        e.occurred_at,
    )


def _history_row(e: Envelope) -> tuple[Any, ...]:
    d = e.data
    return (
        d["trainee_id"],
        e.position,
        e.recorded_at,
        e.branch_id,
        d.get("position"),
        d.get("level"),
    )


async def apply_grades(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """A batch of events: each trainee's latest decision in it replaces the board's row (store
    order, so the later wins, as event by event), and every decision joins the history."""
    decisions = [e for e in envelopes if e.type in DECISIONS]
    if not decisions:
        return
    for day in by_day(decisions):  # a day's closing is the counts as the day's first arrives
        closings = await open_closings(conn, day)
        await upsert_latest(conn, day)
        await conn.execute(_INSERT_HISTORY, *_columns([_history_row(e) for e in day]))
        await shift_cells(conn, day, closings)


async def upsert_latest(conn: Conn, decisions: Sequence[Envelope]) -> None:
    """The board's rows: each trainee's latest decision among ``decisions`` (in store order)."""
    latest = {e.data["trainee_id"]: e for e in decisions}
    await conn.execute(_UPSERT_GRADES, *_columns([_grade_row(e) for e in latest.values()]))


async def apply_grade(conn: Conn, e: Envelope) -> None:
    await apply_grades(conn, [e])


GRADE_BOARD = Projection(
    "grade_board",
    GRADES_DDL + CELLS_DDL,
    apply_grade,
    types=DECISIONS,
    apply_batch=apply_grades,
    version=3,  # 2: grade_history, for as-of reads; 3: counts by cell, daily closings
)
PENDING = (sorted(DECISIONS), GRADE_BOARD.checkpoint("events"))  # for board_cells' reads

_BOARD = """
SELECT branch_id, position, level, count(*) AS count,
       array_agg(trainee_id ORDER BY trainee_id) AS trainee_ids
FROM {source} WHERE position IS NOT NULL AND ($1::text IS NULL OR branch_id = $1)
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
# As of a moment: each trainee's latest decision recorded by then. The history holds what the
# projection has applied; decisions stored after its checkpoint are read from the store in the
# same statement (one snapshot), so the answer is exact however far the projection lags.
_LATEST_AS_OF = """(
SELECT DISTINCT ON (trainee_id) trainee_id, branch_id, position, level FROM (
    SELECT trainee_id, seq, branch_id, position, level FROM {schema}.grade_history
    WHERE recorded_at <= $2
    UNION ALL
    SELECT data ->> 'trainee_id', position, branch_id, data ->> 'position', data ->> 'level'
    FROM events WHERE recorded_at <= $2 AND type = ANY ($3::text[]) AND position > coalesce(
        (SELECT position FROM checkpoints WHERE name = $4), 0)
) decided ORDER BY trainee_id, seq DESC) latest"""


async def grade_rows(
    conn: Any, schema: str, branch_id: str | None, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Counts by branch x position x level, with the trainees behind them; ``as_of``: the board
    as it stood at that moment (what had been recorded by then)."""
    if as_of is None:
        rows = await conn.fetch(_BOARD.format(source=f"{schema}.grades"), branch_id)
    else:
        latest = _LATEST_AS_OF.format(schema=schema)
        rows = await conn.fetch(
            _BOARD.format(source=latest),
            branch_id,
            as_of,
            sorted(DECISIONS),
            GRADE_BOARD.checkpoint("events"),
        )
    return [dict(row) for row in rows]


TRAINERS_DDL = """
CREATE TABLE penalties (
    session_id     text    NOT NULL,
    trainer_id     text    NOT NULL,
    product_series text,   -- a series session's; NULL for a content session
    trainees       jsonb   NOT NULL,
    failed         jsonb   NOT NULL,
    failure_rate   numeric NOT NULL,
    fine           numeric NOT NULL,
    policy_version text    NOT NULL,
    assessed_on    date    NOT NULL,
    content        text,   -- a content session's (R-7a code or R-8a topic)
    PRIMARY KEY (session_id, trainer_id)  -- a session is for one series or one content
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
    if e.type in RETRAINING_TYPES:
        await apply_retraining(conn, e)
    if e.type == "TrainerPenaltyAssessed" and e.service == "assessment":
        await conn.execute(
            "INSERT INTO penalties VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::date, $10)"
            " ON CONFLICT DO NOTHING",
            d["session_id"],
            d["trainer_id"],
            d.get("product_series"),
            d["trainees"],
            d["failed"],
            Decimal(d["failure_rate"]),
            Decimal(d["fine"]),
            d["policy_version"],
            d["assessed_on"],
            d.get("content"),
        )
    elif e.type == "TrainerDemeritRecorded" and e.service == "training":
        await conn.execute(
            "INSERT INTO demerits VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            e.event_id,
            d["trainer_id"],
            d.get("trainee_id"),
        )


TRAINER_BOARD = Projection(
    "trainer_board",
    TRAINERS_DDL + RETRAINING_DDL,
    apply_trainer,
    sources=("events", "inbox"),
    types=frozenset({"TrainerPenaltyAssessed", "TrainerDemeritRecorded"}) | RETRAINING_TYPES,
    version=2,  # 2: content sessions and the trainees owed retraining (retraining.py)
)


async def trainer_rows(
    conn: Any,
    session_id: str | None,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """R-24 per trainer x session (its product series or content), by session then trainer;
    ``trainees``/``failed`` are counts, the ids are in ``trainee_ids``/``failed_ids``;
    ``demerits`` counts the trainer's R-13 demerits; ``retraining`` the failed still owed
    retraining. A page: the ``limit`` rows after the (session, trainer) ``after`` (the primary
    key's order, so a page reads only its own rows)."""
    first, second = after or (None, None)
    rows = await conn.fetch(
        "SELECT p.*, (SELECT count(*) FROM proj_trainer_board.demerits m"
        " WHERE m.trainer_id = p.trainer_id) AS demerits, ARRAY(SELECT r.trainee_id"
        " FROM proj_trainer_board.retraining r WHERE r.trainer_id = p.trainer_id"
        " AND r.session_id = p.session_id ORDER BY r.trainee_id) AS retraining"
        " FROM proj_trainer_board.penalties p"
        " WHERE ($1::text IS NULL OR p.session_id = $1)"
        " AND ($2::text IS NULL OR (p.session_id, p.trainer_id) > ($2, $3))"
        " ORDER BY p.session_id, p.trainer_id LIMIT $4",
        session_id,
        first,
        second,
        limit,
    )
    return [_trainer_row(r) for r in rows]


def _trainer_row(r: Any) -> dict[str, Any]:
    return {
        "trainer_id": r["trainer_id"],
        "session_id": r["session_id"],
        "product_series": r["product_series"],
        "content": r["content"],
        "trainees": len(r["trainees"]),
        "failed": len(r["failed"]),
        "failure_rate": str(r["failure_rate"]),
        "fine": money(r["fine"]),
        "trainee_ids": r["trainees"],
        "failed_ids": r["failed"],
        "demerits": r["demerits"],
        "retraining": r["retraining"],  # of failed_ids, those still owed retraining
        "policy_version": r["policy_version"],
        "assessed_on": r["assessed_on"],
    }
