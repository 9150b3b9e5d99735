"""Load -> decide -> append for the training commands (:mod:`shared.execution`).

Each handler takes its dependencies explicitly (:class:`Dependencies`: the plans and demerits,
and the trainees enrollment told training of), the command and the :class:`CommandContext` (who
asks, under which key, on which version, when), and returns the :class:`Outcome`. A plan's
events carry its trainee's branch; whose stage or plan it is (another trainer, another trainee)
is the plan's decider's ``Forbidden``, since only the plan knows.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

from shared.commands import CommandContext
from shared.decider import Conflict, Decider, Forbidden, InvalidCommand, NotFound, RuleViolation
from shared.execution import Aggregates, Outcome
from shared.policy_store import PolicyShelf

from .audiences import may_draft
from .coverage_view import latest_disposition
from .domain import demerit, plan
from .domain.commands import ApprovePlan, DraftPlan, PlanCommand, RecordDemerit
from .domain.concerns import HandleConcern
from .domain.demerit import TrainerRecord
from .domain.followups import FOLLOW_UPS, FollowUpCommand
from .domain.state import TrainingPlan
from .policy.plan_content import PlanLevel
from .upstream import WITHDRAWN, FindTrainee, KnownTrainee, in_training


@dataclass(frozen=True, slots=True)
class Dependencies:
    aggregates: Aggregates  # plans and trainers' demerits
    find_trainee: FindTrainee  # the trainees whose enrolment arrived (upstream.py)
    policies: PolicyShelf  # the app's books: what a command decides with (docs/policy.md)


async def draft_plan(
    deps: Dependencies, command: DraftPlan, context: CommandContext
) -> Outcome[TrainingPlan]:
    """Draft or re-draft the plan (R-8); production managers draft for production reserve
    trainees only."""
    known = await deps.find_trainee(command.trainee_id)
    if not may_draft(context.principal, known):
        raise Forbidden("a production manager drafts plans for production reserve trainees only")
    return await _change_plan(deps, command, context, known)


async def change_plan(
    deps: Dependencies, command: PlanCommand, context: CommandContext
) -> Outcome[TrainingPlan]:
    """Decide ``command`` on the trainee's plan (any plan command but the draft)."""
    known = await deps.find_trainee(command.trainee_id)
    return await _change_plan(deps, command, context, known)


async def follow_up(
    deps: Dependencies, command: FollowUpCommand, context: CommandContext
) -> Outcome[TrainingPlan]:
    """Decide a follow-up on the trainee's plan: a send-back's explanation or its acceptance
    (R-12a), a concern or its handling (R-12b); a withdrawn trainee's concern is still handled."""
    known = await deps.find_trainee(command.trainee_id)
    if isinstance(command, HandleConcern) and known is not None:
        # A concern noted before the trainee withdrew is still answered: the branch hears how it
        # ends (R-12b) and the manager's queue does not keep it open for ever.
        return await deps.aggregates.execute(
            FOLLOW_UPS,
            plan.stream_id(command.trainee_id),
            command,
            context.meta(known.branch_id),
            expected_version=context.expected,
        )
    return await _change_plan(deps, command, context, known, FOLLOW_UPS)


def new_concern_id(key: str | None) -> str:
    """From the idempotency key when there is one: a repeat names the same concern."""
    if key is None:
        return "c-" + uuid.uuid4().hex[:16]
    return "c-" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:16]


async def _change_plan(
    deps: Dependencies,
    command: Any,
    context: CommandContext,
    known: KnownTrainee | None,
    decider: Decider[Any, TrainingPlan] = plan.PLAN,
) -> Outcome[TrainingPlan]:
    stream = plan.stream_id(command.trainee_id)
    command = await with_upstream(command, known, deps.policies)
    if known is not None and known.status == WITHDRAWN:
        # Who may act comes first: someone the plan would refuse (another trainee's trainer,
        # say) gets that 403, and learns nothing of the withdrawal.
        state, _ = await deps.aggregates.load(decider, stream)
        with suppress(RuleViolation, InvalidCommand, Conflict, NotFound):
            decider.decide(command, state)
    trainee = in_training(known, command.trainee_id)
    return await deps.aggregates.execute(
        decider,
        stream,
        command,
        context.meta(trainee.branch_id),
        expected_version=context.expected,
    )


async def with_upstream(
    command: PlanCommand, known: KnownTrainee | None, policies: PolicyShelf
) -> PlanCommand:
    """The command with what its decision needs from outside the plan: the plan-content policy
    in force on its day (R-7a, R-8a; the one place training picks a version), the trainee's plan
    level (R-7) and latest disposition (R-18a)."""
    match command:
        case DraftPlan():
            return replace(
                command,
                content=await policies.in_force("plan_content", command.today),
                disposition=latest_disposition(known),
            )
        case ApprovePlan():
            level = known.plan_level if known is not None else None
            return replace(
                command,
                content=await policies.in_force("plan_content", command.today),
                plan_level=PlanLevel(level) if level else None,
            )
    return command


async def record_demerit(
    deps: Dependencies, command: RecordDemerit, context: CommandContext
) -> Outcome[TrainerRecord]:
    """R-13 on the trainer's stream; the event carries the branch of the trainee it concerns."""
    trainee = await _demerit_trainee(deps, command.trainee_id)
    return await deps.aggregates.execute(
        demerit.DEMERITS,
        demerit.stream_id(command.trainer_id),
        command,
        context.meta(trainee.branch_id if trainee else None),
        expected_version=context.expected,
    )


async def _demerit_trainee(deps: Dependencies, trainee_id: str | None) -> KnownTrainee | None:
    # A demerit names the trainee whose training was perfunctory: training trained it, so it
    # must know it; an unknown id is a typo to refuse rather than a branch-less demerit to keep.
    if trainee_id is None:
        return None
    trainee = await deps.find_trainee(trainee_id)
    if trainee is None:
        raise InvalidCommand("trainee_id", f"trainee {trainee_id} is not known to training", "R-13")
    return trainee
