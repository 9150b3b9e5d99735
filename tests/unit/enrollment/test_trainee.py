"""Trainee decider: Given events, When a command, Then events (or a refusal naming the rule)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.enrollment.domain.commands import (
    EnrollTrainee,
    RegisteredBranch,
    ScorePlacement,
    WithdrawTrainee,
)
from services.enrollment.domain.events import PlacementExamScored, TraineeWithdrawn
from services.enrollment.domain.trainee import TRAINEE
from services.enrollment.domain.vocabulary import (
    BranchKind,
    Category,
    Education,
    PlanLevel,
    Position,
    Status,
)
from shared.decider import Conflict, InvalidCommand, NotFound, RuleViolation

TODAY = date(2026, 3, 2)
# What the registry answers for each branch id; an id it lacks is not registered.
REGISTRY = {
    "hq": RegisteredBranch("hq", BranchKind.HQ),
    "dl-north": RegisteredBranch("dl-north", BranchKind.DEALER),
    "bo-gone": RegisteredBranch("bo-gone", BranchKind.BRANCH_OFFICE, closed_on=date(2026, 2, 27)),
    "head-office-2": RegisteredBranch("head-office-2", BranchKind.HQ),
}


def enroll(**changes) -> EnrollTrainee:
    """An enrolment, with the registry's answer for its branch unless ``branch`` is given."""
    fields = dict(
        trainee_id="t-1",
        name="王伟",
        category=Category.BRANCH_COMMISSIONED,
        branch_id="dl-north",
        education=Education.HIGH_SCHOOL,
        experience_years=Decimal(2),
        certificates=("electrician",),
        product_series=("X1",),
        enrolled_on=TODAY,
        today=TODAY,
    )
    fields.update(changes)
    fields.setdefault("branch", REGISTRY.get(str(fields["branch_id"])))
    return EnrollTrainee(**fields)


def given(*commands):
    """The events a sequence of accepted commands produces, folded into a state."""
    state = TRAINEE.initial()
    for command in commands:
        state = TRAINEE.fold(TRAINEE.decide(command, state), state)
    return state


def placement(written: str, practical: str | None = None) -> PlacementExamScored:
    command = ScorePlacement(
        "t-1", Decimal(written), Decimal(practical) if practical else None, TODAY
    )
    (event,) = TRAINEE.decide(command, given(enroll()))
    assert isinstance(event, PlacementExamScored)
    return event


def test_enrolment_records_the_profile():
    (event,) = TRAINEE.decide(enroll(name="  王伟 "), TRAINEE.initial())
    assert (event.name, event.branch_id, event.product_series) == ("王伟", "dl-north", ["X1"])
    assert (event.certificates, event.certificate_count) == (["electrician"], 1)  # v2, clear
    assert given(enroll()).status is Status.ENROLLED


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"name": "   "}, "name", "R-3"),
        ({"experience_years": Decimal("-0.1")}, "experience_years", "R-3"),
        ({"branch_id": "nowhere"}, "branch_id", "R-2"),
        ({"category": Category.HQ_FULL_TIME}, "category", "R-1"),  # HQ staff at a dealer
        ({"branch_id": "hq"}, "category", "R-1"),  # commissioned by the HQ itself
        ({"certificates": ("a", "a")}, "certificates", "R-3"),
        ({"product_series": ("",)}, "product_series", "R-3"),
        ({"enrolled_on": date(2026, 3, 3)}, "enrolled_on", "R-3"),
    ],
)
def test_enrolment_refuses_bad_values_naming_the_field(changes, field, rule):
    with pytest.raises(InvalidCommand) as caught:
        TRAINEE.decide(enroll(**changes), TRAINEE.initial())
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_experience_of_zero_years_and_hq_staff_at_hq_are_accepted():
    (event,) = TRAINEE.decide(
        enroll(category=Category.PRODUCTION_RESERVE, branch_id="hq", experience_years=Decimal(0)),
        TRAINEE.initial(),
    )
    assert event.experience_years == 0


def test_r2_an_enrolment_nobody_looked_the_branch_up_for_is_refused():
    with pytest.raises(InvalidCommand) as caught:
        TRAINEE.decide(enroll(branch=None), TRAINEE.initial())
    assert (caught.value.field, caught.value.rule) == ("branch_id", "R-2")
    answer_for_another = REGISTRY["hq"]
    with pytest.raises(InvalidCommand):
        TRAINEE.decide(enroll(branch=answer_for_another), TRAINEE.initial())


def test_r2_a_closed_branch_takes_no_new_enrolments():
    with pytest.raises(RuleViolation) as caught:
        TRAINEE.decide(enroll(branch_id="bo-gone"), TRAINEE.initial())
    assert caught.value.rule == "R-2"
    assert "takes no new enrolments" in caught.value.detail


def test_r1_is_judged_by_the_kind_the_branch_was_registered_with_not_its_id():
    (event,) = TRAINEE.decide(
        enroll(category=Category.HQ_FULL_TIME, branch_id="head-office-2"), TRAINEE.initial()
    )
    assert event.branch_id == "head-office-2"
    with pytest.raises(InvalidCommand) as caught:
        TRAINEE.decide(enroll(branch_id="head-office-2"), TRAINEE.initial())
    assert (caught.value.field, caught.value.rule) == ("category", "R-1")


def test_enrolling_twice_is_a_conflict():
    with pytest.raises(Conflict):
        TRAINEE.decide(enroll(), given(enroll()))


@pytest.mark.parametrize(
    ("written", "practical", "average", "position", "level"),
    [
        ("79.9", None, "79.9", Position.RESERVE, PlanLevel.BASIC),
        ("80", None, "80", Position.TECHNICIAN, PlanLevel.INTERMEDIATE),
        ("89.9", None, "89.9", Position.TECHNICIAN, PlanLevel.INTERMEDIATE),
        ("90", None, "90", Position.ENGINEER, PlanLevel.ADVANCED),
        ("79", "81", "80", Position.TECHNICIAN, PlanLevel.INTERMEDIATE),
        ("89.9", "90", "89.95", Position.TECHNICIAN, PlanLevel.INTERMEDIATE),
        ("0", "0", "0", Position.RESERVE, PlanLevel.BASIC),
        ("100", "100", "100", Position.ENGINEER, PlanLevel.ADVANCED),
    ],
)
def test_r6_placement_bands_at_their_boundaries(written, practical, average, position, level):
    event = placement(written, practical)
    assert event.average == Decimal(average)
    assert (event.position, event.plan_level) == (position, level)
    assert event.policy_version == "placement-2026.1"
    assert event.rule_trace[-1].startswith("R-6: ")


@pytest.mark.parametrize(
    ("written", "field"), [("100.1", "written"), ("-1", "written"), ("85.25", "written")]
)
def test_r17_placement_scores_are_0_to_100_with_one_decimal(written, field):
    with pytest.raises(InvalidCommand) as caught:
        TRAINEE.decide(ScorePlacement("t-1", Decimal(written), None, TODAY), given(enroll()))
    assert (caught.value.field, caught.value.rule) == (field, "R-17")


def test_placement_is_scored_once():
    state = given(enroll(), ScorePlacement("t-1", Decimal(85), None, TODAY))
    assert state.status is Status.PLACED
    with pytest.raises(RuleViolation) as caught:
        TRAINEE.decide(ScorePlacement("t-1", Decimal(95), None, TODAY), state)
    assert caught.value.rule == "R-6"


def test_unknown_trainee_cannot_be_placed_or_withdrawn():
    with pytest.raises(NotFound):
        TRAINEE.decide(ScorePlacement("t-1", Decimal(85), None, TODAY), TRAINEE.initial())
    with pytest.raises(NotFound):
        TRAINEE.decide(WithdrawTrainee("t-1", "moved", TODAY), TRAINEE.initial())


def test_withdrawal_needs_a_reason_and_ends_the_trainees_commands():
    with pytest.raises(InvalidCommand):
        TRAINEE.decide(WithdrawTrainee("t-1", " ", TODAY), given(enroll()))
    state = given(enroll(), WithdrawTrainee("t-1", "left the dealer", TODAY))
    assert state.status is Status.WITHDRAWN
    assert isinstance(state.withdrawal, TraineeWithdrawn)
    with pytest.raises(Conflict):
        TRAINEE.decide(ScorePlacement("t-1", Decimal(85), None, TODAY), state)
