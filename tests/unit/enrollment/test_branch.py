"""Branch decider (R-2: the branches trainees belong to are registered, renamed and closed as
events): Given events, When a command, Then events or a refusal naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from services.enrollment.domain.branch import BRANCH, registered
from services.enrollment.domain.commands import CloseBranch, RegisterBranch, RenameBranch
from services.enrollment.domain.events import BranchClosed, BranchRegistered, BranchRenamed
from services.enrollment.domain.vocabulary import BranchKind, BranchStatus
from shared.decider import Conflict, InvalidCommand, NotFound

TODAY = date(2026, 3, 2)
REGISTER = RegisterBranch("bo-east", BranchKind.BRANCH_OFFICE, " 华东办事处 ", "East branch office")


def given(*commands):
    state = BRANCH.initial()
    for command in commands:
        state = BRANCH.fold(BRANCH.decide(command, state), state)
    return state


def close(closed_on=TODAY, reason="merged into bo-west"):
    return CloseBranch("bo-east", closed_on, reason, TODAY)


def test_a_registered_branch_is_open_with_its_trimmed_names():
    (event,) = BRANCH.decide(REGISTER, BRANCH.initial())
    assert event == BranchRegistered(
        branch_id="bo-east",
        kind="branch_office",
        name_zh="华东办事处",
        name_en="East branch office",
    )
    state = given(REGISTER)
    assert (state.status, state.name_zh, state.name_en) == (
        BranchStatus.OPEN,
        "华东办事处",
        "East branch office",
    )


def test_registering_an_existing_id_again_is_a_conflict():
    with pytest.raises(Conflict):
        BRANCH.decide(REGISTER, given(REGISTER))


@pytest.mark.parametrize("field", ["name_zh", "name_en"])
def test_a_blank_name_is_refused_naming_it(field):
    command = RegisterBranch(**{**REGISTER.__dict__, field: "  "})
    with pytest.raises(InvalidCommand) as caught:
        BRANCH.decide(command, BRANCH.initial())
    assert caught.value.field == field


def test_a_rename_records_both_names_after_the_change():
    (event,) = BRANCH.decide(RenameBranch("bo-east", None, "East China office"), given(REGISTER))
    assert event == BranchRenamed(
        branch_id="bo-east", name_zh="华东办事处", name_en="East China office"
    )
    state = given(REGISTER, RenameBranch("bo-east", "华东分公司", None))
    assert (state.name_zh, state.name_en) == ("华东分公司", "East branch office")


def test_renaming_to_the_names_it_has_records_nothing():
    assert BRANCH.decide(RenameBranch("bo-east", "华东办事处", None), given(REGISTER)) == []


def test_a_rename_naming_neither_name_is_refused():
    with pytest.raises(InvalidCommand) as caught:
        BRANCH.decide(RenameBranch("bo-east", None, None), given(REGISTER))
    assert caught.value.field == "name_zh"


def test_an_unregistered_branch_cannot_be_renamed_or_closed():
    with pytest.raises(NotFound):
        BRANCH.decide(RenameBranch("bo-east", "x", None), BRANCH.initial())
    with pytest.raises(NotFound):
        BRANCH.decide(close(), BRANCH.initial())


def test_r2_a_closed_branch_records_when_and_why_and_keeps_its_names():
    (event,) = BRANCH.decide(close(date(2026, 2, 28)), given(REGISTER))
    assert event == BranchClosed(
        branch_id="bo-east", closed_on=date(2026, 2, 28), reason="merged into bo-west"
    )
    state = given(REGISTER, close())
    assert (state.status, state.closed_on, state.name_zh) == (
        BranchStatus.CLOSED,
        TODAY,
        "华东办事处",
    )


def test_closing_twice_is_a_conflict_and_a_closed_branch_is_not_renamed():
    closed = given(REGISTER, close())
    with pytest.raises(Conflict):
        BRANCH.decide(close(), closed)
    with pytest.raises(Conflict):
        BRANCH.decide(RenameBranch("bo-east", "新名", None), closed)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (close(reason=" "), "reason"),
        (close(closed_on=date(2026, 3, 3)), "closed_on"),  # a closure is recorded once it happened
    ],
)
def test_a_closure_needs_a_reason_and_a_date_not_in_the_future(command, field):
    with pytest.raises(InvalidCommand) as caught:
        BRANCH.decide(command, given(REGISTER))
    assert caught.value.field == field


def test_what_other_deciders_see_of_a_branch():
    assert registered(BRANCH.initial()) is None
    open_branch = registered(given(REGISTER))
    assert open_branch is not None
    assert (open_branch.kind, open_branch.closed_on) == (BranchKind.BRANCH_OFFICE, None)
    closed = registered(given(REGISTER, close()))
    assert closed is not None and closed.closed_on == TODAY
