"""The training-progress board's read model (schema ``proj_progress``), from the plan events and
the enrollment events in the inbox.

The two sources reach ``apply`` interleaved batch by batch, so nothing here depends on their
relative order: a trainee row is upserted by whichever source names it first, its branch taken
from the enrolment or, until that arrives, from the plan event's envelope (plan events carry the
branch). Within the events source the order holds, which lets a confirmation or a send-back find
the day or stage (and so the trainer) an earlier event recorded. Counts are tallies per branch
and per (trainer, branch), so the board can be read for one branch or for all.

``apply`` is the rule of each event; the runner applies whole batches with
:func:`.progress_batch.apply_batch`, which replays these rules in memory and writes set-wise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

from . import progress_batch

DDL = """
CREATE TABLE trainees (
    trainee_id  text PRIMARY KEY,
    branch_id   text,
    enrolled    boolean NOT NULL DEFAULT false,
    withdrawn   boolean NOT NULL DEFAULT false,
    plan_status text
);
CREATE TABLE stages (
    trainee_id  text NOT NULL,
    no          integer NOT NULL,
    spec        jsonb NOT NULL,
    trainer_id  text NOT NULL,
    planned_end date NOT NULL,
    signed_off  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (trainee_id, no)
);
CREATE TABLE days (
    trainee_id text NOT NULL,
    stage_no   integer NOT NULL,
    date       date NOT NULL,
    trainer_id text NOT NULL,
    PRIMARY KEY (trainee_id, stage_no, date)
);
CREATE TABLE branch_tallies (
    branch_id  text PRIMARY KEY,
    disputes   integer NOT NULL DEFAULT 0,
    send_backs integer NOT NULL DEFAULT 0
);
CREATE TABLE trainer_tallies (
    trainer_id          text NOT NULL,
    branch_id           text NOT NULL,  -- '' for a demerit that names no trainee
    disputed_stages     integer NOT NULL DEFAULT 0,
    dissenting_days     integer NOT NULL DEFAULT 0,
    send_backs_received integer NOT NULL DEFAULT 0,
    demerits            integer NOT NULL DEFAULT 0,
    PRIMARY KEY (trainer_id, branch_id)
);
"""


async def _plan_status(conn: Conn, e: Envelope, status: str) -> None:
    # The branch of the envelope until the enrolment (authoritative) says otherwise.
    await conn.execute(
        "INSERT INTO trainees (trainee_id, branch_id, plan_status) VALUES ($1, $2, $3)"
        " ON CONFLICT (trainee_id) DO UPDATE SET plan_status = EXCLUDED.plan_status,"
        " branch_id = coalesce(trainees.branch_id, EXCLUDED.branch_id)",
        e.data["trainee_id"], e.branch_id, status,
    )  # fmt: skip


async def _branch_of(conn: Conn, e: Envelope) -> str:
    """The branch an event counts for: its envelope's, else the trainee's, else ''."""
    if e.branch_id:
        return e.branch_id
    trainee_id = e.data.get("trainee_id")
    found = await conn.fetchval("SELECT branch_id FROM trainees WHERE trainee_id = $1", trainee_id)
    return str(found or "")


async def _count_branch(conn: Conn, branch_id: str, column: str) -> None:
    await conn.execute(
        f"INSERT INTO branch_tallies (branch_id, {column}) VALUES ($1, 1) ON CONFLICT (branch_id)"
        f" DO UPDATE SET {column} = branch_tallies.{column} + 1",
        branch_id,
    )


async def _count_trainer(conn: Conn, trainer_id: str | None, branch_id: str, column: str) -> None:
    if trainer_id is None:  # the day or stage was never projected: nothing to hold against
        return
    await conn.execute(
        f"INSERT INTO trainer_tallies (trainer_id, branch_id, {column}) VALUES ($1, $2, 1)"
        f" ON CONFLICT (trainer_id, branch_id) DO UPDATE"
        f" SET {column} = trainer_tallies.{column} + 1",
        trainer_id,
        branch_id,
    )


async def _enrolled(conn: Conn, e: Envelope) -> None:
    # The enrolment is authoritative for the branch, whatever a plan event said before it.
    await conn.execute(
        "INSERT INTO trainees (trainee_id, branch_id, enrolled) VALUES ($1, $2, true)"
        " ON CONFLICT (trainee_id) DO UPDATE SET branch_id = EXCLUDED.branch_id, enrolled = true",
        e.data["trainee_id"],
        e.data["branch_id"],
    )


async def _withdrawn(conn: Conn, e: Envelope) -> None:
    await conn.execute(
        "INSERT INTO trainees (trainee_id, withdrawn) VALUES ($1, true)"
        " ON CONFLICT (trainee_id) DO UPDATE SET withdrawn = true",
        e.data["trainee_id"],
    )


async def _drafted(conn: Conn, e: Envelope) -> None:
    trainee_id = e.data["trainee_id"]
    await _plan_status(conn, e, "draft")
    numbers = [stage["no"] for stage in e.data["stages"]]
    await conn.execute(
        "DELETE FROM stages WHERE trainee_id = $1 AND NOT no = ANY($2::int[])", trainee_id, numbers
    )
    for stage in e.data["stages"]:
        # As the plan's evolve does: a stage drafted exactly as before keeps its sign-off.
        await conn.execute(
            "INSERT INTO stages (trainee_id, no, spec, trainer_id, planned_end)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trainee_id, no) DO UPDATE"
            " SET spec = EXCLUDED.spec, trainer_id = EXCLUDED.trainer_id,"
            " planned_end = EXCLUDED.planned_end,"
            " signed_off = stages.signed_off AND stages.spec = EXCLUDED.spec",
            trainee_id, stage["no"], stage, stage["trainer_id"],
            date.fromisoformat(stage["planned_end"]),
        )  # fmt: skip


async def _approved(conn: Conn, e: Envelope) -> None:
    await _plan_status(conn, e, "approved")


async def _completed(conn: Conn, e: Envelope) -> None:
    await _plan_status(conn, e, "completed")


async def _day_logged(conn: Conn, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "INSERT INTO days VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        d["trainee_id"], d["stage_no"], date.fromisoformat(d["date"]), d["trainer_id"],
    )  # fmt: skip


async def _day_confirmed(conn: Conn, e: Envelope) -> None:
    d = e.data
    if d["agree"]:
        return
    trainer_id = await conn.fetchval(
        "SELECT trainer_id FROM days WHERE trainee_id = $1 AND stage_no = $2 AND date = $3",
        d["trainee_id"], d["stage_no"], date.fromisoformat(d["date"]),
    )  # fmt: skip
    await _count_trainer(conn, trainer_id, await _branch_of(conn, e), "dissenting_days")


async def _signed_off(conn: Conn, e: Envelope) -> None:
    d = e.data
    await conn.execute(
        "UPDATE stages SET signed_off = true WHERE trainee_id = $1 AND no = $2",
        d["trainee_id"],
        d["stage_no"],
    )
    if d["disputed"]:
        branch_id = await _branch_of(conn, e)
        await _count_branch(conn, branch_id, "disputes")
        await _count_trainer(conn, d["trainer_id"], branch_id, "disputed_stages")


async def _returned(conn: Conn, e: Envelope) -> None:
    d = e.data
    trainer_id = await conn.fetchval(
        "UPDATE stages SET signed_off = false WHERE trainee_id = $1 AND no = $2"
        " RETURNING trainer_id",
        d["trainee_id"],
        d["to_stage"],
    )
    branch_id = await _branch_of(conn, e)
    await _count_branch(conn, branch_id, "send_backs")
    await _count_trainer(conn, trainer_id, branch_id, "send_backs_received")


async def _demerit(conn: Conn, e: Envelope) -> None:
    await _count_trainer(conn, e.data["trainer_id"], e.branch_id or "", "demerits")


APPLY: dict[str, Callable[[Conn, Envelope], Awaitable[None]]] = {
    "TraineeEnrolled": _enrolled,
    "TraineeWithdrawn": _withdrawn,
    "PlanDrafted": _drafted,
    "PlanApproved": _approved,
    "TrainingCompleted": _completed,
    "TrainingDayLogged": _day_logged,
    "TrainingDayConfirmed": _day_confirmed,
    "StageSignedOff": _signed_off,
    "StageReturned": _returned,
    "TrainerDemeritRecorded": _demerit,
}


async def apply(conn: Conn, e: Envelope) -> None:
    handler = APPLY.get(e.type)
    if handler is not None:  # StageAssessed, PlacementExamScored: nothing the board shows
        await handler(conn, e)


PROGRESS = Projection(
    "progress", DDL, apply, sources=("events", "inbox"), apply_batch=progress_batch.apply_batch
)
