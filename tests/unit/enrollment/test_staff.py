"""Staff decider (R-5: the people of a department who train and examine, at a registered branch):
Given events, When a command, Then events or a refusal naming the field or the rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.enrollment.domain.commands import RecordLeaving, RegisteredBranch, RegisterStaff
from services.enrollment.domain.events import StaffLeft, StaffRegistered
from services.enrollment.domain.staff import STAFF
from services.enrollment.domain.vocabulary import BranchKind, Department, StaffRole, StaffStatus
from shared.decider import Conflict, InvalidCommand, NotFound, RuleViolation

TODAY = date(2026, 3, 2)
HQ = RegisteredBranch("hq", BranchKind.HQ)
REGISTER = RegisterStaff(
    "tr-liu",
    " 刘芳 ",
    Department.HR,
    (StaffRole.TRAINER, StaffRole.EXAMINER),
    "hq",
    branch=HQ,
)


def given(*commands):
    state = STAFF.initial()
    for command in commands:
        state = STAFF.fold(STAFF.decide(command, state), state)
    return state


def test_a_registered_member_of_staff_is_active_at_its_branch():
    (event,) = STAFF.decide(REGISTER, STAFF.initial())
    assert event == StaffRegistered(
        staff_id="tr-liu",
        name="刘芳",
        department="hr",
        roles=["trainer", "examiner"],
        branch_id="hq",
    )
    assert given(REGISTER).status is StaffStatus.ACTIVE


def test_registering_an_existing_id_again_is_a_conflict():
    with pytest.raises(Conflict):
        STAFF.decide(REGISTER, given(REGISTER))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"roles": ()}, "roles"),
        ({"roles": (StaffRole.TRAINER, StaffRole.TRAINER)}, "roles"),
        ({"branch": None}, "branch_id"),  # not in the registry
        ({"branch_id": "bo-east"}, "branch_id"),  # the registry's answer is about another branch
    ],
)
def test_bad_values_are_refused_naming_the_field(changes, field):
    with pytest.raises(InvalidCommand) as caught:
        STAFF.decide(replace(REGISTER, **changes), STAFF.initial())
    assert caught.value.field == field


def test_r2_staff_are_not_registered_at_a_closed_branch():
    closed = replace(HQ, closed_on=date(2026, 1, 31))
    with pytest.raises(RuleViolation) as caught:
        STAFF.decide(replace(REGISTER, branch=closed), STAFF.initial())
    assert caught.value.rule == "R-2"


def test_a_member_of_staff_leaves_once():
    (event,) = STAFF.decide(RecordLeaving("tr-liu", TODAY, TODAY), given(REGISTER))
    assert event == StaffLeft(staff_id="tr-liu", left_on=TODAY)
    gone = given(REGISTER, RecordLeaving("tr-liu", TODAY, TODAY))
    assert (gone.status, gone.left_on) == (StaffStatus.LEFT, TODAY)
    with pytest.raises(Conflict):
        STAFF.decide(RecordLeaving("tr-liu", TODAY, TODAY), gone)


def test_leaving_needs_a_registered_member_and_a_day_not_in_the_future():
    with pytest.raises(NotFound):
        STAFF.decide(RecordLeaving("tr-liu", TODAY, TODAY), STAFF.initial())
    with pytest.raises(InvalidCommand) as caught:
        STAFF.decide(RecordLeaving("tr-liu", date(2026, 3, 3), TODAY), given(REGISTER))
    assert caught.value.field == "left_on"
