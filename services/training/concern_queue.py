"""The after-sales manager's work queue of concerns (``GET /concerns``, R-12b): the concerns
trainers noted about trainees who cannot keep up, open or handled, in the order they were noted.

A read model (projection ``concerns``, schema ``proj_concerns``): one row per concern, keyed by
the store position of its note (the page cursor), its handling once recorded. The trainee's name
and category come from what enrollment told training (``known_trainees``) at the time of
reading; the branch is the plan event's. What is handled is decided on the plan's own stream.

The texts are the trainee's personal data (docs/privacy.md): ``PersonalDataErased``, from the
inbox, puts the erased marker in place of the concern and handling texts of the person's
concerns; a rebuild after the erasure reveals them as that marker, so it gives the same rows.
"""

from __future__ import annotations

import asyncpg

from shared.db import Conn
from shared.erasure import ERASED_TYPE, erased_person
from shared.events import Envelope
from shared.personal import ERASED
from shared.projections import Projection
from shared.requests import encode_cursor

from .followup_schemas import ConcernList

DDL = """
CREATE TABLE concerns (
    position   bigint PRIMARY KEY,
    concern_id text NOT NULL UNIQUE,
    trainee_id text NOT NULL,
    branch_id  text,
    stage_no   integer NOT NULL,
    text       text NOT NULL,
    noted_by   text NOT NULL,
    noted_on   date NOT NULL,
    handled    boolean NOT NULL DEFAULT false,
    verified   boolean,
    handling   text,
    handled_by text,
    handled_on date
);
CREATE INDEX concerns_handled_idx ON concerns (handled, position);
"""

_NOTED = """
INSERT INTO concerns (position, concern_id, trainee_id, branch_id, stage_no, text, noted_by,
    noted_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::date) ON CONFLICT DO NOTHING
"""
_HANDLED = """
UPDATE concerns SET handled = true, verified = $2, handling = $3, handled_by = $4,
    handled_on = $5::text::date
WHERE concern_id = $1
"""
_ERASED = """
UPDATE concerns SET text = $2, handling = CASE WHEN handling IS NULL THEN NULL ELSE $2 END
WHERE trainee_id = $1
"""


async def apply(conn: Conn, e: Envelope) -> None:
    d = e.data
    if e.type == "TraineeConcernNoted":
        await conn.execute(
            _NOTED,
            e.position,
            d["concern_id"],
            d["trainee_id"],
            e.branch_id,
            d["stage_no"],
            d["text"],
            d["noted_by"],
            d["noted_on"],
        )
    elif e.type == "ConcernHandled":
        await conn.execute(
            _HANDLED,
            d["concern_id"],
            d["verified"],
            d["handling"],
            d["handled_by"],
            d["handled_on"],
        )
    elif (person := erased_person(e)) is not None:
        await conn.execute(_ERASED, person, ERASED)


CONCERNS = Projection(
    "concerns",
    DDL,
    apply,
    sources=("events", "inbox"),
    types=frozenset({"TraineeConcernNoted", "ConcernHandled", ERASED_TYPE}),
    version=2,  # 2: the texts of an erased trainee are replaced with the marker
)

_PAGE = f"""
SELECT c.position, c.concern_id, c.trainee_id, coalesce(k.name, c.trainee_id) AS trainee_name,
       c.branch_id, k.category, c.stage_no, c.text, c.noted_by, c.noted_on, c.handled,
       c.verified, c.handling, c.handled_by, c.handled_on
FROM {CONCERNS.schema}.concerns c
LEFT JOIN known_trainees k ON k.trainee_id = c.trainee_id AND k.branch_id IS NOT NULL
WHERE ($1::boolean IS NULL OR c.handled = $1) AND ($2::bigint IS NULL OR c.position > $2)
ORDER BY c.position LIMIT $3
"""


async def concern_page(
    pool: asyncpg.Pool, *, handled: bool | None, after: int | None, limit: int
) -> ConcernList:
    """A page of concerns noted after store position ``after`` (open, handled, or both: None),
    and the cursor of the next page."""
    rows = await pool.fetch(_PAGE, handled, after, limit + 1)
    items = [dict(r) for r in rows[:limit]]
    cursor = encode_cursor(str(items[-1]["position"])) if len(rows) > limit else None
    return ConcernList.model_validate({"items": items, "next_cursor": cursor})
