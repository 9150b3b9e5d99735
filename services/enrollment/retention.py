"""Retention (issue 19): the people enrollment no longer works with, the day each left, and
``GET /people/erasure-proposals`` listing those the ``retention`` policy says are due for erasure.

The read model (projection ``retention``) keeps one row per withdrawn trainee (from
TraineeWithdrawn) and per member of staff who left (StaffLeft), and the people erased
(PersonalDataErased): an erased person is proposed no more. Only ids and days are kept:
nothing here is personal data.

A proposal is only that. An administrator approves it by erasing the person with the erasure
route, ``POST /people/{id}/erasure`` (``gradeline people retention --approve`` does it for each
proposal), which destroys the person's key and records PersonalDataErased with the reason.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from shared.audience import Audience
from shared.auth import Principal, Role
from shared.db import Conn
from shared.erasure import ERASED_TYPE, erased_person
from shared.events import Envelope
from shared.policy import UnknownPolicyVersion
from shared.policy_store import shelf_of
from shared.problems import validation_failed
from shared.projections import Projection
from shared.requests import Now

from .policy.retention import RetentionCategory, RetentionPolicy, due_on

DDL = """
CREATE TABLE people (
    person_id  text NOT NULL,
    category   text NOT NULL,
    since      date NOT NULL,  -- the day they left: the withdrawal's, the last working day
    PRIMARY KEY (category, person_id)
);
CREATE INDEX people_since_idx ON people (category, since);
CREATE TABLE erased (person_id text PRIMARY KEY);
"""
_LEFT = {
    "TraineeWithdrawn": (RetentionCategory.WITHDRAWN_TRAINEE, "trainee_id", "withdrawn_on"),
    "StaffLeft": (RetentionCategory.FORMER_STAFF, "staff_id", "left_on"),
}


async def apply(conn: Conn, e: Envelope) -> None:
    person = erased_person(e)
    if person is not None:  # whenever they left, before or after
        await conn.execute(
            "INSERT INTO erased (person_id) VALUES ($1) ON CONFLICT DO NOTHING", person
        )
        return
    category, id_field, day_field = _LEFT[e.type]
    await conn.execute(
        "INSERT INTO people (person_id, category, since) VALUES ($1, $2, $3)"
        " ON CONFLICT (category, person_id) DO NOTHING",  # the first leaving stands
        e.data[id_field],
        category.value,
        date.fromisoformat(e.data[day_field]),
    )


RETENTION = Projection("retention", DDL, apply, types=frozenset({*_LEFT, ERASED_TYPE}))

# --- the proposals -----------------------------------------------------------------------------

router = APIRouter(tags=["people"])
RETENTION_ADMIN = Audience(everything={Role.ADMIN})
Admin = Annotated[Principal, Depends(RETENTION_ADMIN.gate())]


class Proposal(BaseModel):
    person_id: str
    category: RetentionCategory
    since: date = Field(description="the day the person left (withdrawn, or left the staff)")
    due_on: date = Field(description="since + the category's years: erasure proposed from then")


class Proposals(BaseModel):
    as_of: date
    policy_version: str = Field(description="the retention version in force on as_of")
    approve_with: str = Field(description="the route that erases one person: the approval")
    proposals: list[Proposal]


# The people of a category who left by a day and are not erased (due or not: the policy decides).
_LEFT_BY = (
    "SELECT p.person_id, p.since FROM proj_retention.people p"
    " WHERE p.category = $1 AND p.since <= $2"
    " AND NOT EXISTS (SELECT FROM proj_retention.erased x WHERE x.person_id = p.person_id)"
)


@router.get("/people/erasure-proposals")
async def erasure_proposals(
    principal: Admin,
    request: Request,
    now: Now,
    as_of: Annotated[date | None, Query(description="the day to judge on (default: today)")] = None,
) -> Proposals:
    """The people whose personal data the ``retention`` policy in force on ``as_of`` says is
    due for erasure, oldest first; already erased people are left out. Approving one is
    erasing it: ``POST /people/{id}/erasure``."""
    day = as_of or now.date()
    try:
        policy: RetentionPolicy = await shelf_of(request.app.state).in_force("retention", day)
    except UnknownPolicyVersion as exc:  # a day before the first version (2000-01-01)
        error = {"field": "query.as_of", "message": str(exc), "type": "domain"}
        raise validation_failed(f"Invalid request: query.as_of: {exc}", [error]) from exc
    found: list[Proposal] = []
    for category in RetentionCategory:
        years = policy.years(category)
        for person_id, since in await request.app.state.pool.fetch(_LEFT_BY, category.value, day):
            due = due_on(since, years)
            if due <= day:
                found.append(
                    Proposal(person_id=person_id, category=category, since=since, due_on=due)
                )
    found.sort(key=lambda p: (p.due_on, p.person_id))
    return Proposals(
        as_of=day,
        policy_version=policy.version,
        approve_with="POST /people/{id}/erasure",
        proposals=found,
    )
