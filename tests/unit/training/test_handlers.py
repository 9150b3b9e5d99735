"""The training handlers on the in-memory store, with the trainees enrollment told training of
as a fake lookup: Given events, When a command from a caller, Then events or the refusal."""

from __future__ import annotations

import pytest

from services.training import handlers
from services.training.domain import demerit, plan
from services.training.domain.commands import RecordDemerit
from services.training.domain.events import registry
from services.training.policies import POLICIES
from services.training.upstream import PRODUCTION_RESERVE, KnownTrainee
from shared.auth import Role
from shared.decider import Conflict, Forbidden, InvalidCommand
from shared.policy_store import PolicyShelf
from shared.problems import Problem
from tests.unit.fakes import aggregates, caller, given, lookup, recorded, types
from tests.unit.training.plans import TODAY, TRAINEE, approved, draft, drafted, log_day, trainer_of

MANAGER = caller("mgr-1", Role.AFTER_SALES_MANAGER, Role.PRODUCTION_MANAGER)
PRODUCTION = caller("prod-1", Role.PRODUCTION_MANAGER)
STREAM = plan.stream_id(TRAINEE)


def trainee(category: str = "branch_commissioned", status: str = "placed") -> KnownTrainee:
    return KnownTrainee(TRAINEE, "王伟", category, "dl-north", status, "junior")


def training(*known: KnownTrainee) -> handlers.Dependencies:
    store = aggregates(registry)
    shelf = PolicyShelf(store.store, {p.name: p for p in POLICIES})  # the shipped versions
    return handlers.Dependencies(store, lookup({t.trainee_id: t for t in known}), shelf)


async def test_a_drafted_plan_records_the_trainees_branch_and_the_drafter():
    deps = training(trainee())
    outcome = await handlers.draft_plan(deps, draft(), MANAGER)
    assert outcome.version == 1
    [envelope] = await deps.aggregates.store.read_stream(STREAM)
    assert (envelope.type, envelope.branch_id) == ("PlanDrafted", "dl-north")
    assert envelope.actor.role == Role.AFTER_SALES_MANAGER


async def test_r8_a_production_manager_drafts_only_for_production_reserve_trainees():
    deps = training(trainee(category="branch_commissioned"))
    with pytest.raises(Forbidden):
        await handlers.draft_plan(deps, draft(actor="prod-1"), PRODUCTION)
    assert await deps.aggregates.store.head_position() == 0
    reserve = training(trainee(category=PRODUCTION_RESERVE))
    outcome = await handlers.draft_plan(reserve, draft(actor="prod-1"), PRODUCTION)
    assert outcome.state.status is not None


async def test_a_plan_write_before_the_enrolment_arrived_asks_to_retry():
    deps = training()
    with pytest.raises(Problem) as caught:
        await handlers.draft_plan(deps, draft(), MANAGER)
    assert caught.value.status == 404 and "Retry-After" in caught.value.headers


async def test_a_withdrawn_trainees_plan_no_longer_changes_and_strangers_learn_nothing_of_it():
    deps = training(trainee(status="withdrawn"))
    await given(deps.aggregates, STREAM, drafted(), approved(), branch_id="dl-north")
    own = caller(trainer_of(5), Role.TRAINER)
    with pytest.raises(Conflict):
        await handlers.change_plan(deps, log_day(5, actor=own.actor_id), own)
    stranger = caller("tr-other", Role.TRAINER)
    with pytest.raises(Forbidden):
        await handlers.change_plan(deps, log_day(5, actor="tr-other"), stranger)
    assert types(await recorded(deps.aggregates, STREAM)) == ["PlanDrafted", "PlanApproved"]


async def test_r13_a_demerit_names_a_trainee_training_knows_and_carries_its_branch():
    deps = training(trainee())
    manager = caller("mgr-1", Role.AFTER_SALES_MANAGER)
    with pytest.raises(InvalidCommand) as caught:
        await handlers.record_demerit(
            deps, RecordDemerit("tr-as", "perfunctory", "t-typo", "mgr-1", TODAY), manager
        )
    assert caught.value.rule == "R-13"
    await handlers.record_demerit(
        deps, RecordDemerit("tr-as", "perfunctory", TRAINEE, "mgr-1", TODAY), manager
    )
    [envelope] = await deps.aggregates.store.read_stream(demerit.stream_id("tr-as"))
    assert (envelope.type, envelope.branch_id) == ("TrainerDemeritRecorded", "dl-north")
