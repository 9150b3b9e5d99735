"""The follow-up handlers (R-12a, R-12b) on the in-memory store: the events carry the trainee's
branch; a withdrawn trainee's plan takes no new note, but a concern noted before is handled."""

from __future__ import annotations

import pytest

from services.training import handlers
from services.training.domain import plan
from shared.auth import Role
from shared.decider import Conflict
from tests.unit.fakes import caller, given, recorded, types
from tests.unit.training.followups import handle, note, noted
from tests.unit.training.plans import approved, drafted, trainer_of
from tests.unit.training.test_handlers import trainee, training

STREAM = plan.stream_id("t-1")
MANAGER = caller("mgr-1", Role.AFTER_SALES_MANAGER)


async def test_a_concern_and_its_handling_carry_the_trainees_branch():
    deps = training(trainee())
    await given(deps.aggregates, STREAM, drafted(), approved(), branch_id="dl-north")
    own = caller(trainer_of(5), Role.TRAINER)
    await handlers.follow_up(deps, note(5), own)
    await handlers.follow_up(deps, handle(), MANAGER)
    envelopes = (await deps.aggregates.store.read_stream(STREAM))[2:]
    assert [(e.type, e.branch_id) for e in envelopes] == [
        ("TraineeConcernNoted", "dl-north"),
        ("ConcernHandled", "dl-north"),
    ]


async def test_a_withdrawn_trainee_takes_no_new_concern_but_an_open_one_is_handled():
    deps = training(trainee(status="withdrawn"))
    await given(deps.aggregates, STREAM, drafted(), approved(), noted(5), branch_id="dl-north")
    own = caller(trainer_of(5), Role.TRAINER)
    with pytest.raises(Conflict):
        await handlers.follow_up(deps, note(5, concern_id="c-2"), own)
    await handlers.follow_up(deps, handle(), MANAGER)
    assert types(await recorded(deps.aggregates, STREAM))[-1] == "ConcernHandled"


def test_a_concern_id_follows_the_idempotency_key():
    assert handlers.new_concern_id("k-1") == handlers.new_concern_id("k-1")
    assert handlers.new_concern_id("k-1") != handlers.new_concern_id("k-2")
    assert handlers.new_concern_id(None) != handlers.new_concern_id(None)
