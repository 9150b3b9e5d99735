"""R-7/R-7a: the plan level shapes the plan. Given a draft, When DraftPlan or ApprovePlan with the
plan-content policy and the trainee's level, Then the covers are checked and the approval needs
every item of the level covered (after R-8a's mandatory topics)."""

from __future__ import annotations

import pytest

from services.training.domain.coverage import missing_content
from services.training.domain.events import PlanApproved
from services.training.policy.plan_content import PLAN_CONTENT, PlanLevel
from shared.decider import InvalidCommand, RuleViolation

from .plans import CONTENT, STAGES, approve, approved, draft, drafted, items, when


def covering(codes) -> tuple:
    """The standard plan's stages 1-5, stage 5 covering ``codes`` only."""
    return (*STAGES[:4], STAGES[4].model_copy(update={"covers": tuple(codes)}))


def test_r7a_the_policy_holds_each_level_items_exactly():
    version = PLAN_CONTENT.in_force(CONTENT.effective_from)
    assert version.version == "plan_content-2026.1"
    assert version.items(PlanLevel.BASIC) == (
        "circuit_diagrams",
        "electrical_components",
        "power_tools",
        "assembly",
        "commissioning",
        "working_principle",
        "product_structure",
    )
    assert len(version.items(PlanLevel.INTERMEDIATE)) == 9
    assert "parts_repair" in version.items(PlanLevel.ADVANCED)
    assert [t.value for t in version.mandatory_topics] == [
        "company_processes",
        "department_responsibilities",
        "travel_policy",
        "appraisal_rules",
    ]


def test_r7a_drafting_keeps_each_stage_covers():
    (event,) = when(draft(covering(items(PlanLevel.BASIC))))
    assert event.stages[4].covers == items(PlanLevel.BASIC)


def test_r7a_drafting_strips_codes_and_lists_each_once():
    (event,) = when(draft(covering([" assembly", "assembly ", "commissioning"])))
    assert event.stages[4].covers == ("assembly", "commissioning")


def test_r7a_an_unknown_code_is_refused_naming_the_stage_and_the_code():
    # Given nothing drafted, When the fifth stage lists an unknown second code
    with pytest.raises(InvalidCommand) as caught:
        when(draft(covering(["assembly", "juggling"])))
    # Then 422 names stages[4].covers[1] under R-7a
    assert (caught.value.field, caught.value.rule) == ("stages[4].covers[1]", "R-7a")


def test_r7_approval_is_refused_while_the_placement_is_not_known():
    with pytest.raises(RuleViolation) as caught:
        when(approve(level=None), drafted())
    assert caught.value.rule == "R-7"
    assert "placement" in caught.value.detail


def test_r7_approval_is_refused_naming_the_one_item_missing():
    # Given a plan covering every intermediate item but fault_repair
    almost = [code for code in items(PlanLevel.INTERMEDIATE) if code != "fault_repair"]
    # When the executive vice-president approves it for an intermediate trainee
    with pytest.raises(RuleViolation) as caught:
        when(approve(), drafted(covering(almost)))
    # Then R-7 names fault_repair, and only it
    assert caught.value.rule == "R-7"
    assert caught.value.detail.endswith("intermediate items: fault_repair")


def test_r7_the_level_decides_what_is_missing():
    # Given a plan covering the basic items only: fine for a basic trainee, not for an advanced
    basic = drafted(covering(items(PlanLevel.BASIC)))
    (event,) = when(approve(level=PlanLevel.BASIC), basic)
    assert isinstance(event, PlanApproved) and event.plan_level == "basic"
    with pytest.raises(RuleViolation) as caught:
        when(approve(level=PlanLevel.ADVANCED), basic)
    assert "electrical_principles" in caught.value.detail
    assert "product_structure" not in caught.value.detail  # shared with basic: covered


def test_r7_every_item_covered_across_stages_is_approved_recording_level_and_policy():
    half = items(PlanLevel.INTERMEDIATE)[:4]
    rest = items(PlanLevel.INTERMEDIATE)[4:]
    stages = (*covering(half), STAGES[5].model_copy(update={"covers": rest}))
    (event,) = when(approve(), drafted(stages))
    assert event == approved()
    assert (event.plan_level, event.policy_version) == ("intermediate", "plan_content-2026.1")


def test_r8a_is_checked_before_r7():
    # Given a plan missing a mandatory topic and every content item, for an unknown placement
    with pytest.raises(RuleViolation) as caught:
        when(approve(level=None), drafted(STAGES[1:4]))
    # Then the refusal is R-8a's (the plan's own topics first), R-7 after it is fixed
    assert caught.value.rule == "R-8a"


def test_missing_content_keeps_the_policy_order():
    assert missing_content(STAGES[:4], PlanLevel.ADVANCED, CONTENT) == list(
        items(PlanLevel.ADVANCED)
    )
