"""The branch feed's read model (schema ``proj_branch_feed``), from the upstream events in the
inbox: every result and suggestion about a branch's trainees, newest first (R-2, R-12b).

Which entry an event makes is decided in domain/feed.py; here it is kept. An entry's branch is
the trainee's, from its enrolment (``TraineeEnrolled``); until that arrives (the bus may deliver a
grade first) the branch the event's envelope carries, which every producer sets to the trainee's.
When the enrolment arrives it settles the branch of the trainee's entries already kept, so the
feed does not depend on the order events arrive in.

Every category of trainee is in its branch's feed, not only the branch-commissioned: R-2 has a
branch see its own trainees, and R-12b has every result about them reach it. An entry carries
the trainee's category for a reader who wants the commissioned ones only.

Being a projection, it is built from the whole inbox when first deployed (the history consumed
before it is in the feed too), and ``gradeline rebuild compensation branch_feed`` rebuilds it.
"""

from __future__ import annotations

import orjson

from shared.db import Conn
from shared.events import Envelope
from shared.projections import Projection

from .domain.feed import FEED_TYPES, feed_entry

DDL = """
CREATE TABLE trainees (
    trainee_id  text PRIMARY KEY,
    branch_id   text NOT NULL,
    category    text
);
CREATE TABLE entries (
    event_id     uuid        PRIMARY KEY,
    seq          bigserial   NOT NULL,  -- arrival order: breaks ties of occurred_at
    trainee_id   text        NOT NULL,
    branch_id    text,
    kind         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    occurred_on  date,
    details      jsonb       NOT NULL
);
CREATE INDEX entries_branch_idx ON entries (branch_id, occurred_at DESC, seq DESC);
CREATE INDEX entries_trainee_idx ON entries (trainee_id);
"""

_ENROL = (
    "INSERT INTO trainees (trainee_id, branch_id, category) VALUES ($1, $2, $3)"
    " ON CONFLICT (trainee_id) DO UPDATE SET branch_id = EXCLUDED.branch_id,"
    " category = EXCLUDED.category"
)
_SETTLE_BRANCH = (
    "UPDATE entries SET branch_id = $2 WHERE trainee_id = $1 AND branch_id IS DISTINCT FROM $2"
)
_INSERT = (
    "INSERT INTO entries (event_id, trainee_id, branch_id, kind, occurred_at, occurred_on,"
    " details) VALUES ($1, $2, coalesce((SELECT branch_id FROM trainees WHERE trainee_id = $2),"
    " $3), $4, $5, $6, $7::text::jsonb) ON CONFLICT (event_id) DO NOTHING"
)


async def _enrolled(conn: Conn, e: Envelope) -> None:
    trainee_id, branch_id = e.data.get("trainee_id"), e.data.get("branch_id")
    if not isinstance(trainee_id, str) or not isinstance(branch_id, str):
        return
    await conn.execute(_ENROL, trainee_id, branch_id, e.data.get("category"))
    await conn.execute(_SETTLE_BRANCH, trainee_id, branch_id)


async def apply(conn: Conn, e: Envelope) -> None:
    if (e.service, e.type) == ("enrollment", "TraineeEnrolled"):
        await _enrolled(conn, e)
        return
    entry = feed_entry(e.service, e.type, e.data)
    if entry is None:
        return
    await conn.execute(
        _INSERT,
        e.event_id,
        entry.trainee_id,
        e.branch_id,
        entry.kind.value,
        e.occurred_at,
        entry.on,
        orjson.dumps(entry.details).decode(),
    )


BRANCH_FEED = Projection(
    "branch_feed",
    DDL,
    apply,
    sources=("inbox",),
    types=FEED_TYPES | {"TraineeEnrolled"},
)
