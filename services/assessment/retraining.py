"""R-24's duty to retrain: a trainer held responsible "keeps training them until they pass".

A read model in the trainer board's projection (``proj_trainer_board.retraining``), from the
service's own events: a ``TrainerPenaltyAssessed`` that fines the trainer (a tier applied: the
trainer is held responsible) puts each of its ``failed`` trainees on that trainer's list, dated
the day it was assessed; a ``GradeAssigned`` of the trainee from another session, recorded after
the penalty, takes the trainee off every list it is on from another session (it passed a later
sitting: both exams). A later failure (``AssessmentFailed``) changes nothing, so the trainee
stays. Events are applied in store order, so "later" is "recorded after the penalty".

``GET /trainers/{trainer_id}/retraining`` lists the trainees one trainer owes; the trainer board
(``GET /board/trainers``) shows, on each penalty row, those of its failed still owed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from shared import directory
from shared.auth import Principal
from shared.db import Conn
from shared.events import Envelope, JsonDict
from shared.problems import forbidden

from . import audiences
from .schemas import IdPath

RETRAINING_DDL = """
CREATE TABLE retraining (
    trainer_id     text NOT NULL,
    trainee_id     text NOT NULL,
    session_id     text NOT NULL,  -- the session whose penalty put the trainee here
    product_series text,
    content        text,
    since          date NOT NULL,  -- the penalty's assessed_on
    PRIMARY KEY (trainer_id, trainee_id, session_id)
);
CREATE INDEX retraining_trainee_idx ON retraining (trainee_id);
"""
RETRAINING_TYPES = frozenset({"TrainerPenaltyAssessed", "GradeAssigned"})

_OWED = """
INSERT INTO retraining SELECT $1, t, $2, $3, $4, $5::text::date FROM unnest($6::text[]) AS t
ON CONFLICT DO NOTHING
"""


async def apply_retraining(conn: Conn, e: Envelope) -> None:
    """One assessment event on the lists (the projection's tables in the search path)."""
    d = e.data
    if e.service != "assessment":
        return
    if e.type == "TrainerPenaltyAssessed" and Decimal(d["fine"]) > 0 and d["failed"]:
        await conn.execute(
            _OWED,
            d["trainer_id"],
            d["session_id"],
            d.get("product_series"),
            d.get("content"),
            d["assessed_on"],
            list(d["failed"]),
        )
    elif e.type == "GradeAssigned":
        await conn.execute(
            "DELETE FROM retraining WHERE trainee_id = $1 AND session_id <> $2",
            d["trainee_id"],
            d["session_id"],
        )


# --- the route ----------------------------------------------------------------------------------

router = APIRouter(tags=["assessment: reads"])
RetrainingReader = Annotated[Principal, Depends(audiences.RETRAINING.gate())]


class Owed(BaseModel):
    trainee_id: str
    trainee_name: str
    session_id: str
    product_series: str | None
    content: str | None
    since: date


class Retraining(BaseModel):
    """R-24: the trainees ``trainer_id`` keeps training until they pass, oldest first."""

    trainer_id: str
    trainer_name: str
    items: list[Owed]


_LIST = """
SELECT r.trainee_id, coalesce(f.name, r.trainee_id) AS trainee_name, r.session_id,
       r.product_series, r.content, r.since
FROM proj_trainer_board.retraining r
LEFT JOIN trainee_facts f ON f.trainee_id = r.trainee_id
WHERE r.trainer_id = $1 ORDER BY r.since, r.session_id, r.trainee_id
"""


@router.get("/trainers/{trainer_id}/retraining", response_model=Retraining)
async def trainer_retraining(
    trainer_id: IdPath, principal: RetrainingReader, request: Request
) -> JsonDict:
    """R-24: the trainees a fined trainer keeps training until they pass a later sitting, with
    the session, its series or content, and since when. A trainer reads its own list only (403);
    the after-sales manager and management read any trainer's."""
    if not audiences.RETRAINING.sees(principal, branch_id=None, person_id=trainer_id):
        raise forbidden("a trainer reads its own retraining list only")
    pool = request.app.state.pool
    rows = await pool.fetch(_LIST, trainer_id)
    names = await directory.staff_names(pool, [trainer_id])
    return {
        "trainer_id": trainer_id,
        "trainer_name": directory.name_or_id(trainer_id, names),
        "items": [dict(row) for row in rows],
    }
