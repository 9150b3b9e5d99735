"""Load -> decide -> append for the training commands, around ``shared.decider.execute``.

A route gets its :class:`Write` as one dependency (:func:`writer`) and builds the command; these
functions find the trainee (its branch goes on every event), run the decider with the request's
``If-Match`` and ``Idempotency-Key``, and set the ETag.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from fastapi import Request

from shared.commands import Write
from shared.decider import Conflict, InvalidCommand, NotFound, RuleViolation
from shared.execution import execute, load

from .domain import demerit, plan
from .domain.commands import PlanCommand, RecordDemerit
from .domain.events import registry
from .domain.plan_table import plan_table
from .domain.state import TrainingPlan
from .trainees import WITHDRAWN, KnownTrainee, find_trainee, in_training

JsonDict = dict[str, Any]


async def change_plan(
    write: Write, trainee_id: str, command: PlanCommand, roles: tuple[str, ...]
) -> JsonDict:
    """Decide ``command`` on the trainee's plan; the plan table after it, with its ETag."""
    known = await find_trainee(write.request.app.state, trainee_id)
    if known is not None and known.status == WITHDRAWN:
        # Who may act comes first: someone the plan would refuse (another trainee's trainer,
        # say) gets that 403, and learns nothing of the withdrawal.
        state, _ = await load(write.store, registry, plan.PLAN, plan.stream_id(trainee_id),
                              cache=write.states)  # fmt: skip
        with suppress(RuleViolation, InvalidCommand, Conflict, NotFound):
            plan.PLAN.decide(command, state)
    trainee = in_training(known, trainee_id)
    outcome = await execute(
        write.store, registry, plan.PLAN, plan.stream_id(trainee_id), command,
        write.meta_as(trainee.branch_id, roles), expected_version=write.expected,
        cache=write.states,
    )  # fmt: skip
    return plan_table(outcome.state, write.shown(outcome.version))


async def record_demerit(write: Write, command: RecordDemerit, roles: tuple[str, ...]) -> JsonDict:
    """R-13 on the trainer's stream; the event carries the branch of the trainee it concerns."""
    trainee = await _demerit_trainee(write, command.trainee_id)
    outcome = await execute(
        write.store, registry, demerit.DEMERITS, demerit.stream_id(command.trainer_id), command,
        write.meta_as(trainee.branch_id if trainee else None, roles),
        expected_version=write.expected,
        cache=write.states,
    )  # fmt: skip
    return {
        "trainer_id": command.trainer_id,
        "demerits": len(outcome.state.demerits),
        "version": write.shown(outcome.version),
    }


async def _demerit_trainee(write: Write, trainee_id: str | None) -> KnownTrainee | None:
    # A demerit names the trainee whose training was perfunctory: training trained it, so it
    # must know it; an unknown id is a typo to refuse rather than a branch-less demerit to keep.
    if trainee_id is None:
        return None
    trainee = await find_trainee(write.request.app.state, trainee_id)
    if trainee is None:
        raise InvalidCommand("trainee_id", f"trainee {trainee_id} is not known to training", "R-13")
    return trainee


async def current_plan(request: Request, trainee_id: str) -> tuple[TrainingPlan, int]:
    state, version = await load(
        request.app.state.store, registry, plan.PLAN, plan.stream_id(trainee_id),
        cache=request.app.state.states,
    )  # fmt: skip
    return state, version
