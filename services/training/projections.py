"""The training-progress board's read model (schema ``proj_progress``), from the plan events and
the enrollment events in the inbox.

The two sources reach ``apply_batch`` interleaved batch by batch, so nothing here depends on their
relative order: a trainee row is upserted by whichever source names it first, its branch taken
from the enrolment or, until that arrives, from the plan event's envelope (plan events carry the
branch). Within the events source the order holds, which lets a confirmation or a send-back find
the day or stage (and so the trainer) an earlier event recorded. Counts are tallies per branch
and per (trainer, branch), so the board can be read for one branch or for all.

``apply_batch`` takes a batch of one source, in order: it reads the rows the batch can touch
(three queries), applies each event's rule to them in memory (:data:`FOLD`), and writes the
result with one statement per table; tallies get the batch's increments in one upsert.
``apply`` (one event) is ``apply_batch([event])``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

from . import progress_summary
from .progress_summary import SUMMARY_DDL

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
DDL += SUMMARY_DDL

Row = dict[str, Any]
DayKey = tuple[str, int, date]
TRAINER_COUNTS = ("disputed_stages", "dissenting_days", "send_backs_received", "demerits")
BRANCH_COUNTS = ("disputes", "send_backs")
TRAINEE_COLUMNS = ("trainee_id", "branch_id", "enrolled", "withdrawn", "plan_status")
STAGE_COLUMNS = ("trainee_id", "no", "spec", "trainer_id", "planned_end", "signed_off")

_UPSERT_TRAINEES = """
INSERT INTO trainees SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::boolean[],
    $5::text[])
ON CONFLICT (trainee_id) DO UPDATE SET branch_id = EXCLUDED.branch_id,
    enrolled = EXCLUDED.enrolled, withdrawn = EXCLUDED.withdrawn,
    plan_status = EXCLUDED.plan_status
"""
_INSERT_STAGES = """
INSERT INTO stages SELECT * FROM unnest($1::text[], $2::integer[], $3::text[]::jsonb[],
    $4::text[], $5::date[], $6::boolean[])
"""
_INSERT_DAYS = """
INSERT INTO days SELECT * FROM unnest($1::text[], $2::integer[], $3::date[], $4::text[])
ON CONFLICT DO NOTHING
"""
_FIND_DAYS = """
SELECT d.trainee_id, d.stage_no, d.date, d.trainer_id FROM days d
JOIN unnest($1::text[], $2::integer[], $3::date[]) AS k(trainee_id, stage_no, date)
USING (trainee_id, stage_no, date)
"""
_ADD_BRANCH_TALLIES = """
INSERT INTO branch_tallies SELECT * FROM unnest($1::text[], $2::integer[], $3::integer[])
ON CONFLICT (branch_id) DO UPDATE SET disputes = branch_tallies.disputes + EXCLUDED.disputes,
    send_backs = branch_tallies.send_backs + EXCLUDED.send_backs
"""
_ADD_TRAINER_TALLIES = """
INSERT INTO trainer_tallies SELECT * FROM unnest($1::text[], $2::text[], $3::integer[],
    $4::integer[], $5::integer[], $6::integer[])
ON CONFLICT (trainer_id, branch_id) DO UPDATE SET
    disputed_stages = trainer_tallies.disputed_stages + EXCLUDED.disputed_stages,
    dissenting_days = trainer_tallies.dissenting_days + EXCLUDED.dissenting_days,
    send_backs_received = trainer_tallies.send_backs_received + EXCLUDED.send_backs_received,
    demerits = trainer_tallies.demerits + EXCLUDED.demerits
"""


def _day_key(d: dict[str, Any]) -> DayKey:
    return d["trainee_id"], d["stage_no"], date.fromisoformat(d["date"])


@dataclass
class Batch:
    """The rows a batch touches, as they stand after each event applied so far."""

    trainees: dict[str, Row]
    stages: dict[str, dict[int, Row]]  # trainee -> stage no -> row, for trainees loaded
    days: dict[DayKey, str]  # the days looked up, and those logged by the batch: -> trainer
    new_days: dict[DayKey, str] = field(default_factory=dict)
    changed_trainees: set[str] = field(default_factory=set)
    changed_stages: set[str] = field(default_factory=set)
    branch_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    trainer_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def trainee(self, trainee_id: str) -> Row:
        """The trainee's row; a new one is neither enrolled, withdrawn nor planned yet."""
        self.changed_trainees.add(trainee_id)
        return self.trainees.setdefault(
            trainee_id,
            {
                "trainee_id": trainee_id,
                "branch_id": None,
                "enrolled": False,
                "withdrawn": False,
                "plan_status": None,
            },
        )

    def mark_stage(self, trainee_id: str, no: int, *, signed_off: bool) -> Row | None:
        """Sets the stage's sign-off; nothing when the stage was never projected."""
        stage = self.stages[trainee_id].get(no)
        if stage is not None:
            stage["signed_off"] = signed_off
            self.changed_stages.add(trainee_id)
        return stage

    def branch_of(self, e: Envelope) -> str:
        if e.branch_id:
            return e.branch_id
        row = self.trainees.get(e.data.get("trainee_id") or "")
        return str((row or {}).get("branch_id") or "")

    def count_trainer(self, trainer_id: str | None, branch_id: str, column: str) -> None:
        if trainer_id is not None:  # the day or stage was never projected: nothing to count
            self.trainer_counts[trainer_id, branch_id, column] += 1


# --- the rules, one function per event type ----------------------------------------------------


def _plan_status(b: Batch, e: Envelope, status: str) -> None:
    row = b.trainee(e.data["trainee_id"])
    row["plan_status"] = status
    if row["branch_id"] is None:  # coalesce: the envelope's branch until the enrolment's
        row["branch_id"] = e.branch_id


def _enrolled(b: Batch, e: Envelope) -> None:
    b.trainee(e.data["trainee_id"]).update(branch_id=e.data["branch_id"], enrolled=True)


def _withdrawn(b: Batch, e: Envelope) -> None:
    b.trainee(e.data["trainee_id"])["withdrawn"] = True


def _drafted(b: Batch, e: Envelope) -> None:
    trainee_id = e.data["trainee_id"]
    _plan_status(b, e, "draft")
    numbers = {stage["no"] for stage in e.data["stages"]}
    old = {no: row for no, row in b.stages[trainee_id].items() if no in numbers}
    for stage in e.data["stages"]:
        before = old.get(stage["no"])
        old[stage["no"]] = {
            "trainee_id": trainee_id,
            "no": stage["no"],
            "spec": stage,
            "trainer_id": stage["trainer_id"],
            "planned_end": date.fromisoformat(stage["planned_end"]),
            # A stage drafted exactly as before keeps its sign-off.
            "signed_off": before is not None and before["signed_off"] and before["spec"] == stage,
        }
    b.stages[trainee_id] = old
    b.changed_stages.add(trainee_id)


def _day_logged(b: Batch, e: Envelope) -> None:
    key = _day_key(e.data)
    if key not in b.days:  # a day logged twice keeps the trainer of its first record
        b.days[key] = b.new_days[key] = e.data["trainer_id"]


def _day_confirmed(b: Batch, e: Envelope) -> None:
    if not e.data["agree"]:
        b.count_trainer(b.days.get(_day_key(e.data)), b.branch_of(e), "dissenting_days")


def _signed_off(b: Batch, e: Envelope) -> None:
    d = e.data
    b.mark_stage(d["trainee_id"], d["stage_no"], signed_off=True)
    if d["disputed"]:
        branch_id = b.branch_of(e)
        b.branch_counts[branch_id, "disputes"] += 1
        b.count_trainer(d["trainer_id"], branch_id, "disputed_stages")


def _returned(b: Batch, e: Envelope) -> None:
    d = e.data
    stage = b.mark_stage(d["trainee_id"], d["to_stage"], signed_off=False)
    branch_id = b.branch_of(e)
    b.branch_counts[branch_id, "send_backs"] += 1
    trainer_id = None if stage is None else stage["trainer_id"]
    b.count_trainer(trainer_id, branch_id, "send_backs_received")


def _return_closed(b: Batch, e: Envelope) -> None:
    """R-12a: the explanation accepted, the returned stage counts as signed again."""
    b.mark_stage(e.data["trainee_id"], e.data["stage_no"], signed_off=True)


def _demerit(b: Batch, e: Envelope) -> None:
    b.count_trainer(e.data["trainer_id"], e.branch_id or "", "demerits")


FOLD: dict[str, Callable[[Batch, Envelope], None]] = {
    "TraineeEnrolled": _enrolled,
    "TraineeWithdrawn": _withdrawn,
    "PlanDrafted": _drafted,
    "PlanApproved": lambda b, e: _plan_status(b, e, "approved"),
    "TrainingCompleted": lambda b, e: _plan_status(b, e, "completed"),
    "TrainingDayLogged": _day_logged,
    "TrainingDayConfirmed": _day_confirmed,
    "StageSignedOff": _signed_off,
    "StageReturned": _returned,
    "ReturnClosed": _return_closed,
    "TrainerDemeritRecorded": _demerit,
}
STAGE_TYPES = frozenset({"PlanDrafted", "StageSignedOff", "StageReturned", "ReturnClosed"})
# The events that change a trainee's row or stages, and so its share of the summary tables
# (progress_summary.py): the batch loads the stages of the trainees they name.
SUMMARY_TYPES = STAGE_TYPES | {
    "TraineeEnrolled",
    "TraineeWithdrawn",
    "PlanApproved",
    "TrainingCompleted",
}


# --- reading what the batch touches, writing what it changed -----------------------------------


async def _load(conn: Conn, wanted: Sequence[Envelope]) -> Batch:
    named = sorted({e.data["trainee_id"] for e in wanted if e.data.get("trainee_id")})
    with_stages = sorted({e.data["trainee_id"] for e in wanted if e.type in SUMMARY_TYPES})
    dissents = [
        _day_key(e.data) for e in wanted if e.type == "TrainingDayConfirmed" and not e.data["agree"]
    ]
    # Named columns: a statement cached by its text must not read another projection's table.
    trainees = await conn.fetch(
        f"SELECT {', '.join(TRAINEE_COLUMNS)} FROM trainees WHERE trainee_id = ANY($1::text[])",
        named,
    )
    stages: dict[str, dict[int, Row]] = {t: {} for t in with_stages}
    if with_stages:
        found = await conn.fetch(
            f"SELECT {', '.join(STAGE_COLUMNS)} FROM stages WHERE trainee_id = ANY($1::text[])",
            with_stages,
        )
        for row in found:
            stages[row["trainee_id"]][row["no"]] = dict(row)
    days = []
    if dissents:
        days = await conn.fetch(_FIND_DAYS, *([k[i] for k in dissents] for i in range(3)))
    return Batch(
        trainees={r["trainee_id"]: dict(r) for r in trainees},
        stages=stages,
        days={(r[0], r[1], r[2]): r[3] for r in days},
    )


async def _save(conn: Conn, b: Batch) -> None:
    if b.changed_trainees:
        rows = [b.trainees[t] for t in sorted(b.changed_trainees)]
        await conn.execute(_UPSERT_TRAINEES, *([r[c] for r in rows] for c in TRAINEE_COLUMNS))
    if b.changed_stages:
        touched = sorted(b.changed_stages)
        await conn.execute("DELETE FROM stages WHERE trainee_id = ANY($1::text[])", touched)
        stages = [
            {**row, "spec": orjson.dumps(row["spec"]).decode()}  # jsonb as text
            for t in touched
            for row in b.stages[t].values()
        ]
        await conn.execute(_INSERT_STAGES, *([r[c] for r in stages] for c in STAGE_COLUMNS))
    if b.new_days:
        keys = list(b.new_days)
        await conn.execute(
            _INSERT_DAYS, *([k[i] for k in keys] for i in range(3)), list(b.new_days.values())
        )
    if b.branch_counts:
        await conn.execute(_ADD_BRANCH_TALLIES, *_tallies(b.branch_counts, 1, BRANCH_COUNTS))
    if b.trainer_counts:
        await conn.execute(_ADD_TRAINER_TALLIES, *_tallies(b.trainer_counts, 2, TRAINER_COUNTS))


def _tallies(counts: Counter[Any], width: int, columns: Sequence[str]) -> list[list[Any]]:
    """Increments keyed by (key parts..., column) as arrays: the key parts, then one per column."""
    rows: dict[tuple[str, ...], dict[str, int]] = {}
    for (*key, column), n in counts.items():
        rows.setdefault(tuple(key), dict.fromkeys(columns, 0))[column] += n
    keys = list(rows)
    return [
        *([k[i] for k in keys] for i in range(width)),
        *([rows[k][c] for k in keys] for c in columns),
    ]


async def apply_batch(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    wanted = [e for e in envelopes if e.type in FOLD]
    if not wanted:
        return
    batch = await _load(conn, wanted)
    before = progress_summary.contributions(batch.trainees, batch.stages)
    for e in wanted:
        FOLD[e.type](batch, e)
    await _save(conn, batch)
    touched = batch.changed_trainees | batch.changed_stages
    after = progress_summary.contributions(
        {t: batch.trainees[t] for t in touched if t in batch.trainees}, batch.stages
    )
    await progress_summary.add(conn, progress_summary.difference(before, after))


async def apply(conn: Conn, e: Envelope) -> None:
    await apply_batch(conn, [e])


PROGRESS = Projection(
    "progress",
    DDL,
    apply,
    sources=("events", "inbox"),
    version=3,  # 3: the summary tables of progress_summary.py
    apply_batch=apply_batch,
)
