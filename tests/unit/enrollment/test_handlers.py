"""The enrollment handlers on the in-memory store: Given events, When a command from a caller,
Then the events recorded (with branch and actor), or the refusal (R-2: who acts on which trainee)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.enrollment import audiences, handlers, organisation, organisation_routes, routes
from services.enrollment.domain import staff
from services.enrollment.domain.commands import (
    CloseBranch,
    EnrollTrainee,
    RecordLeaving,
    RegisterBranch,
    RegisteredBranch,
    RegisterStaff,
    ScorePlacement,
    WithdrawTrainee,
)
from services.enrollment.domain.events import TraineeEnrolled, registry
from services.enrollment.domain.trainee import TRAINEE, stream_id
from services.enrollment.domain.vocabulary import (
    BranchKind,
    Category,
    Department,
    Education,
    StaffRole,
    Status,
)
from shared.auth import Role
from shared.decider import Forbidden, InvalidCommand, NotFound, RuleViolation
from shared.eventstore import ConcurrencyError
from tests.support import given_branches
from tests.unit.fakes import aggregates, caller, given, recorded, types

TODAY = date(2026, 3, 2)
CLERK = caller("clerk-1", Role.BRANCH_CLERK, branch_id="dl-north")
OTHER_CLERK = caller("clerk-9", Role.BRANCH_CLERK, branch_id="sh-east")
EXAMINER = caller("exam-1", Role.EXAMINER, Role.AFTER_SALES_MANAGER)


def enrolment(trainee_id: str = "t-1", branch_id: str = "dl-north") -> EnrollTrainee:
    return EnrollTrainee(
        trainee_id=trainee_id,
        name="王伟",
        category=Category.BRANCH_COMMISSIONED,
        branch_id=branch_id,
        education=Education.HIGH_SCHOOL,
        experience_years=Decimal(2),
        certificates=(),
        product_series=("X1",),
        enrolled_on=TODAY,
        today=TODAY,
    )


def enrolled(trainee_id: str = "t-1") -> TraineeEnrolled:
    """What the enrolment of ``trainee_id`` records (its decider's event: dl-north, a dealer)."""
    command = replace(enrolment(trainee_id), branch=RegisteredBranch("dl-north", BranchKind.DEALER))
    [event] = TRAINEE.decide(command, TRAINEE.initial())
    assert isinstance(event, TraineeEnrolled)
    return event


async def test_an_enrolment_records_the_trainee_under_its_branch_and_the_clerk():
    trainees = aggregates(registry)
    await given_branches(trainees.store)
    outcome = await handlers.enroll(trainees, enrolment(), CLERK)
    assert (outcome.version, outcome.state.status) == (1, Status.ENROLLED)
    [envelope] = await trainees.store.read_stream(stream_id("t-1"))
    assert (envelope.type, envelope.branch_id) == ("TraineeEnrolled", "dl-north")
    assert (envelope.actor.sub, envelope.actor.role) == ("clerk-1", Role.BRANCH_CLERK)


async def test_r2_a_branch_clerk_enrols_into_its_own_branch_only():
    trainees = aggregates(registry)
    with pytest.raises(Forbidden):
        await handlers.enroll(trainees, enrolment(branch_id="dl-north"), OTHER_CLERK)
    assert await trainees.store.head_position() == 0


async def test_r6_placement_records_the_policy_version_it_was_decided_under():
    trainees = aggregates(registry)
    await given(trainees, stream_id("t-1"), enrolled(), branch_id="dl-north")
    command = ScorePlacement("t-1", Decimal("82.5"), Decimal(90), TODAY)
    outcome = await handlers.score_placement(trainees, command, EXAMINER)
    assert types(await recorded(trainees, stream_id("t-1"))) == [
        "TraineeEnrolled",
        "PlacementExamScored",
    ]
    placed = (await trainees.store.read_stream(stream_id("t-1")))[-1]
    assert outcome.state.placement is not None
    assert placed.policy_version == outcome.state.placement.policy_version is not None
    assert (placed.branch_id, placed.actor.role) == ("dl-north", Role.EXAMINER)


async def test_r2_another_branch_clerk_cannot_withdraw_a_trainee_it_cannot_see():
    trainees = aggregates(registry)
    await given(trainees, stream_id("t-1"), enrolled())
    with pytest.raises(NotFound):
        await handlers.withdraw(trainees, WithdrawTrainee("t-1", "moved", TODAY), OTHER_CLERK)
    assert types(await recorded(trainees, stream_id("t-1"))) == ["TraineeEnrolled"]


async def test_a_withdrawal_decided_on_a_stale_version_is_refused():
    trainees = aggregates(registry)
    await given(trainees, stream_id("t-1"), enrolled())
    stale = caller("clerk-1", Role.BRANCH_CLERK, branch_id="dl-north", expected=0)
    with pytest.raises(ConcurrencyError):
        await handlers.withdraw(trainees, WithdrawTrainee("t-1", "moved", TODAY), stale)
    outcome = await handlers.withdraw(trainees, WithdrawTrainee("t-1", "moved", TODAY), CLERK)
    assert (outcome.version, outcome.state.status) == (2, Status.WITHDRAWN)


async def test_r2_an_enrolment_at_a_branch_the_registry_lacks_is_refused_naming_it():
    trainees = aggregates(registry)
    with pytest.raises(InvalidCommand) as caught:
        await handlers.enroll(trainees, enrolment(), CLERK)
    assert (caught.value.field, caught.value.rule) == ("branch_id", "R-2")
    assert await trainees.store.head_position() == 0


async def test_r2_a_branch_registered_a_moment_ago_takes_the_next_enrolment_and_closed_refuses():
    trainees = aggregates(registry)
    with pytest.raises(InvalidCommand):  # folded into the cache as "not registered"
        await handlers.enroll(trainees, enrolment(), CLERK)
    admin = caller("admin-1", Role.ADMIN)
    register = RegisterBranch("dl-north", BranchKind.DEALER, "北方经销商", "North dealer")
    await organisation.register_branch(trainees, register, admin)
    assert (await handlers.enroll(trainees, enrolment("t-1"), CLERK)).version == 1
    close = CloseBranch("dl-north", TODAY, "contract ended", TODAY)
    await organisation.close_branch(trainees, close, admin)
    with pytest.raises(RuleViolation) as caught:
        await handlers.enroll(trainees, enrolment("t-2"), CLERK)
    assert caught.value.rule == "R-2"
    assert types(await recorded(trainees, stream_id("t-1"))) == ["TraineeEnrolled"]


def test_each_write_admits_exactly_the_roles_of_its_audience():
    assert set(routes.CLERK_FIRST) == audiences.ENROLMENT.roles == audiences.WITHDRAWAL.roles
    assert set(routes.EXAMINER_FIRST) == audiences.PLACEMENT.roles
    assert set(organisation_routes.ADMIN_ONLY) == audiences.ORGANISATION_ADMIN.roles


async def test_staff_events_record_the_members_branch_and_the_admin():
    aggregates_ = aggregates(registry)
    await given_branches(aggregates_.store)
    admin = caller("admin-1", Role.ADMIN)
    member = RegisterStaff("tr-1", "刘芳", Department.HR, (StaffRole.TRAINER,), "bo-east")
    await organisation.register_staff(aggregates_, member, admin)
    await organisation.record_leaving(aggregates_, RecordLeaving("tr-1", TODAY, TODAY), admin)
    stream = await aggregates_.store.read_stream(staff.stream_id("tr-1"))
    assert [(e.type, e.branch_id, e.actor.role) for e in stream] == [
        ("StaffRegistered", "bo-east", Role.ADMIN),
        ("StaffLeft", "bo-east", Role.ADMIN),
    ]
