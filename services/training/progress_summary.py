"""The progress board's counts, kept by the ``progress`` projection as it applies each batch, so
that ``GET /board/progress`` reads a few dozen rows instead of aggregating every trainee and stage
(issue 20: p99 <= 20 ms at 100,000 trainees).

Each trainee row, with its stages, *contributes* to two summary tables: ``branch_counts`` (one
row per branch: the trainee counted as enrolled, without plan, by plan status, withdrawn) and
``open_stage_ends`` (per branch and planned end day, the stages not signed off of trainees still
in training). A batch computes each touched trainee's contribution before and after its events
and adds the difference, so the tables always equal the aggregation over ``trainees`` and
``stages`` that the board used to run (the tests compare the two). "Overdue" depends on the day
of the reading: it is the sum of ``open_stage_ends`` before that day, a range of a small index.

A trainee without a branch (a plan event before its enrolment, with no branch on the envelope)
contributes nothing, as the aggregation left it out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from shared.db import Conn

SUMMARY_DDL = """
CREATE TABLE branch_counts (
    branch_id    text PRIMARY KEY,
    rows         integer NOT NULL DEFAULT 0,  -- trainee rows of the branch: shown when > 0
    trainees     integer NOT NULL DEFAULT 0,
    without_plan integer NOT NULL DEFAULT 0,
    draft        integer NOT NULL DEFAULT 0,
    approved     integer NOT NULL DEFAULT 0,
    completed    integer NOT NULL DEFAULT 0,
    withdrawn    integer NOT NULL DEFAULT 0
);
CREATE TABLE open_stage_ends (
    branch_id   text NOT NULL,
    planned_end date NOT NULL,
    stages      integer NOT NULL DEFAULT 0,  -- not signed off, trainee still in training
    PRIMARY KEY (branch_id, planned_end)
);
"""
COUNT_COLUMNS = ("rows", "trainees", "without_plan", "draft", "approved", "completed", "withdrawn")
PLAN_STATUSES = ("draft", "approved", "completed")

Row = dict[str, Any]
# (table, key, column) -> amount: ("counts", branch, column) or ("ends", (branch, day), "stages")
Tally = Counter[tuple[str, Any, str]]

_ADD_COUNTS = f"""
INSERT INTO branch_counts SELECT * FROM unnest($1::text[], {
    ", ".join(f"${n}::integer[]" for n in range(2, len(COUNT_COLUMNS) + 2))
})
ON CONFLICT (branch_id) DO UPDATE SET {
    ", ".join(f"{c} = branch_counts.{c} + EXCLUDED.{c}" for c in COUNT_COLUMNS)
}
"""
_ADD_ENDS = """
INSERT INTO open_stage_ends SELECT * FROM unnest($1::text[], $2::date[], $3::integer[])
ON CONFLICT (branch_id, planned_end) DO UPDATE SET
    stages = open_stage_ends.stages + EXCLUDED.stages
"""

_DROP_EMPTY_COUNTS = "DELETE FROM branch_counts WHERE branch_id = ANY($1::text[]) AND rows = 0"
_DROP_EMPTY_ENDS = """
DELETE FROM open_stage_ends e USING unnest($1::text[], $2::date[]) AS k(branch_id, planned_end)
WHERE e.branch_id = k.branch_id AND e.planned_end = k.planned_end AND e.stages = 0
"""


def contribution(trainee: Row | None, stages: Iterable[Row]) -> Tally:
    """What one trainee row and its stages add to the summary tables."""
    found: Tally = Counter()
    branch = None if trainee is None else trainee["branch_id"]
    if trainee is None or branch is None:
        return found
    enrolled, withdrawn, status = trainee["enrolled"], trainee["withdrawn"], trainee["plan_status"]
    found["counts", branch, "rows"] = 1
    found["counts", branch, "trainees"] = int(enrolled)
    found["counts", branch, "without_plan"] = int(enrolled and not withdrawn and status is None)
    for plan_status in PLAN_STATUSES:
        found["counts", branch, plan_status] = int(not withdrawn and status == plan_status)
    found["counts", branch, "withdrawn"] = int(withdrawn)
    if not withdrawn:
        for stage in stages:
            if not stage["signed_off"]:
                found["ends", (branch, stage["planned_end"]), "stages"] += 1
    return found


def contributions(
    trainees: Mapping[str, Row], stages: Mapping[str, Mapping[int, Row]]
) -> dict[str, Tally]:
    """Each trainee's contribution as the rows stand now (a snapshot: plain counters)."""
    return {t: contribution(row, stages.get(t, {}).values()) for t, row in trainees.items()}


def difference(before: Mapping[str, Tally], after: Mapping[str, Tally]) -> Tally:
    """What the summary tables must add so that ``before`` becomes ``after`` (keys: trainees)."""
    delta: Tally = Counter()
    for trainee in after:
        delta.update(after[trainee])
        delta.subtract(before.get(trainee, Counter()))
    return Counter({k: n for k, n in delta.items() if n})


async def add(conn: Conn, delta: Tally) -> None:
    """The increments, one upsert per table."""
    counts: dict[str, dict[str, int]] = {}
    ends: dict[tuple[str, date], int] = {}
    for (table, key, column), n in delta.items():
        if table == "counts":
            counts.setdefault(key, dict.fromkeys(COUNT_COLUMNS, 0))[column] += n
        else:
            ends[key] = ends.get(key, 0) + n
    # Rows that fall back to nothing go, so that the tables hold the same rows however the
    # events were batched (a batch may never write a row that event by event comes and goes).
    if counts:
        branches = list(counts)
        columns = [[counts[b][c] for b in branches] for c in COUNT_COLUMNS]
        await conn.execute(_ADD_COUNTS, branches, *columns)
        await conn.execute(_DROP_EMPTY_COUNTS, branches)
    if ends:
        keys = list(ends)
        days = [k[0] for k in keys], [k[1] for k in keys]
        await conn.execute(_ADD_ENDS, *days, list(ends.values()))
        await conn.execute(_DROP_EMPTY_ENDS, *days)
