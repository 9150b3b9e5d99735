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

Erasure (docs/privacy.md): ``PersonalDataErased`` of a trainee replaces the texts about it in its
entries with the marker (``domain/feed.py``: :func:`erased_details`), and an entry about it made
later (a late event) is kept so too. The feed keeps the people it erased (``erased``), so a rebuild,
applying the same events in the same order, gives the same tables as the live scrub, whether the
texts came sealed (revealed as the marker) or, from before sealing, in clear.
"""

from __future__ import annotations

import orjson

from shared.db import Conn
from shared.erasure import ERASED_TYPE, erased_person
from shared.events import Envelope
from shared.personal import ERASED
from shared.projections import Projection

from .domain.feed import FEED_TYPES, PERSONAL_DETAILS, erased_details, feed_entry

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
CREATE TABLE erased (
    trainee_id  text PRIMARY KEY
);
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
# Each text of ``PERSONAL_DETAILS`` ($2) that an entry holds (not null) becomes the marker ($3).
_SCRUB = """
UPDATE entries SET details = coalesce((
    SELECT jsonb_object_agg(k, CASE WHEN k = ANY($2::text[]) AND jsonb_typeof(v) <> 'null'
                                    THEN to_jsonb($3::text) ELSE v END)
    FROM jsonb_each(details) AS x(k, v)), details)
WHERE trainee_id = $1
"""


async def _erased(conn: Conn, trainee_id: str) -> None:
    await conn.execute(
        "INSERT INTO erased (trainee_id) VALUES ($1) ON CONFLICT DO NOTHING", trainee_id
    )
    await conn.execute(_SCRUB, trainee_id, list(PERSONAL_DETAILS), ERASED)


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
    person = erased_person(e)
    if person is not None:
        await _erased(conn, person)
        return
    entry = feed_entry(e.service, e.type, e.data)
    if entry is None:
        return
    details = entry.details
    if await conn.fetchval("SELECT true FROM erased WHERE trainee_id = $1", entry.trainee_id):
        details = erased_details(details)
    await conn.execute(
        _INSERT,
        e.event_id,
        entry.trainee_id,
        e.branch_id,
        entry.kind.value,
        e.occurred_at,
        entry.on,
        orjson.dumps(details).decode(),
    )


BRANCH_FEED = Projection(
    "branch_feed",
    DDL,
    apply,
    sources=("inbox",),
    types=FEED_TYPES | {"TraineeEnrolled", ERASED_TYPE},
    version=2,  # 2: erased trainees' texts read as erased
)
