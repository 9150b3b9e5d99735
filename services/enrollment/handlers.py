"""Load -> decide -> append for the enrollment commands (:mod:`shared.execution`), one function
per command.

Each takes its dependencies explicitly: the trainees' aggregates, the command, and the
:class:`CommandContext` (who asks, under which key, on which version, when). It checks who may
act on which trainee (R-2: the route's audience in :mod:`.audiences`), records the trainee's
branch on the events, and returns the :class:`Outcome`; the route answers it. The branches and
staff of the organisation have theirs in :mod:`.organisation`.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from shared.audience import Audience
from shared.auth import Principal
from shared.commands import CommandContext
from shared.decider import Forbidden
from shared.execution import Aggregates, Outcome

from . import audiences
from .domain.commands import EnrollTrainee, ScorePlacement, WithdrawTrainee
from .domain.trainee import TRAINEE, Trainee, stream_id
from .organisation import find_branch
from .reads import visible_trainee
from .schemas import EnrollRequest


def new_trainee_id() -> str:
    """The id of a trainee whose enrolment names none."""
    return f"t-{uuid.uuid4().hex[:12]}"


def enrolment(request: EnrollRequest, today: date) -> EnrollTrainee:
    """The command of an enrolment request (``POST /trainees``, a spreadsheet's row); a new
    trainee id where the request names none."""
    return EnrollTrainee(
        trainee_id=request.trainee_id or new_trainee_id(),
        name=request.name,
        category=request.category,
        branch_id=request.branch_id,
        education=request.education,
        experience_years=request.experience_years,
        certificates=tuple(request.certificates),
        product_series=tuple(request.product_series),
        enrolled_on=request.enrolled_on,
        today=today,
    )


async def enroll(
    trainees: Aggregates, command: EnrollTrainee, context: CommandContext, *, conn: Any = None
) -> Outcome[Trainee]:
    """Enrol a trainee (TraineeEnrolled). A branch clerk enrols into its own branch only; the
    branch must be registered and open (R-2): the registry's answer goes into the command.
    ``conn``: inside that transaction (a spreadsheet's rows, :mod:`.trainee_imports`)."""
    if not may_enrol(context.principal, command.branch_id):
        raise Forbidden(f"not permitted to enrol into branch {command.branch_id!r}")
    found = await find_branch(trainees, command.branch_id, conn=conn)
    command = replace(command, branch=found)
    # A new trainee, almost always: skip reading a stream that does not exist yet.
    return await trainees.execute(
        TRAINEE,
        stream_id(command.trainee_id),
        command,
        context.meta(command.branch_id),
        expected_version=context.expected,
        creates=True,
        conn=conn,
    )


def may_enrol(principal: Principal, branch_id: str) -> bool:
    """R-2: a branch clerk enrols into its own branch, an after-sales manager into any."""
    return audiences.ENROLMENT.sees(principal, branch_id=branch_id, person_id=None)


async def score_placement(
    trainees: Aggregates, command: ScorePlacement, context: CommandContext
) -> Outcome[Trainee]:
    """Record the placement exam (R-6): the starting position and the plan level."""
    return await _change(trainees, command, context, audiences.PLACEMENT)


async def withdraw(
    trainees: Aggregates, command: WithdrawTrainee, context: CommandContext
) -> Outcome[Trainee]:
    """Withdraw a trainee (TraineeWithdrawn)."""
    return await _change(trainees, command, context, audiences.WITHDRAWAL)


async def _change(
    trainees: Aggregates,
    command: ScorePlacement | WithdrawTrainee,
    context: CommandContext,
    audience: Audience,
) -> Outcome[Trainee]:
    """``command`` on an enrolled trainee the ``audience`` lets the caller see (404 otherwise)."""
    state, _ = await visible_trainee(trainees, context.principal, command.trainee_id, audience)
    assert state.profile is not None
    return await trainees.execute(
        TRAINEE,
        stream_id(command.trainee_id),
        command,
        context.meta(state.profile.branch_id),
        expected_version=context.expected,
    )
