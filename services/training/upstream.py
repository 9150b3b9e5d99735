"""What training learnt from upstream events: the trainees enrollment told it of (table
``known_trainees``, filled by :mod:`.consumers`), looked up by the handlers and the reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.datastructures import State

from shared.batching import lookup
from shared.decider import Conflict
from shared.problems import not_arrived

PRODUCTION_RESERVE = "production_reserve"  # R-1: production draws up these trainees' plans
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class KnownTrainee:
    trainee_id: str
    name: str
    category: str
    branch_id: str
    status: str
    plan_level: str | None
    disposition: str | None = None  # the latest (R-18, from assessment; R-18a)
    disposition_on: dt.date | None = None


_FIND_SQL = (
    "SELECT trainee_id, name, category, branch_id, status, plan_level, outcome, decided_on"
    " FROM known_trainees LEFT JOIN trainee_dispositions USING (trainee_id)"
    " WHERE trainee_id = ANY($1::text[]) AND branch_id IS NOT NULL"
)


async def find_trainee(state: State, trainee_id: str) -> KnownTrainee | None:
    """The trainee once its enrolment arrived (a row made by a later event alone does not count).

    ``state`` is the app's (``request.app.state``): concurrent commands' lookups share one
    statement (:class:`shared.batching.Lookup`)."""
    row = await lookup(state, _FIND_SQL)(trainee_id)
    return None if row is None else KnownTrainee(*row)


FindTrainee = Callable[[str], Awaitable[KnownTrainee | None]]
"""``find_trainee`` of one app's state: what a handler is given to look a trainee up."""


def in_training(trainee: KnownTrainee | None, trainee_id: str) -> KnownTrainee:
    """The trainee a plan write is about (as :func:`find_trainee` found it): 404 until its
    enrolment arrived, 409 once withdrawn."""
    if trainee is None:
        raise not_arrived(
            f"trainee {trainee_id} is not known to training yet: its enrolment has not arrived"
        )
    if trainee.status == WITHDRAWN:
        raise Conflict(f"trainee {trainee_id} has withdrawn: its plan can no longer change")
    return trainee
