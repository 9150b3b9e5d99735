"""R-8 drafting: Given events, When DraftPlan, Then PlanDrafted (or a refusal naming the rule)."""

from __future__ import annotations

from datetime import date

import pytest

from services.training.domain.events import PlanDrafted
from services.training.domain.vocabulary import Department, PlanStatus, StageStatus, Topic
from shared.decider import InvalidCommand

from .plans import (
    MANAGER,
    STAGES,
    TRAINEE,
    approved,
    draft,
    drafted,
    given,
    logged,
    returned,
    signed_off,
    when,
)


def test_a_first_draft_is_revision_1_and_awaits_approval():
    assert when(draft()) == [drafted()]
    state = given(drafted())
    assert (state.trainee_id, state.status, state.revision) == (TRAINEE, PlanStatus.DRAFT, 1)
    assert [s.status for s in state.stages] == [StageStatus.OPEN] * len(STAGES)


def test_drafting_strips_text_and_turns_an_empty_product_series_into_none():
    messy = [
        STAGES[0].model_copy(update={"content": "  processes ", "trainer_id": " tr-hr "}),
        STAGES[1].model_copy(update={"product_series": "   "}),
        STAGES[4].model_copy(update={"product_series": " X1 "}),
    ]
    (event,) = when(draft(messy))
    assert isinstance(event, PlanDrafted)
    assert (event.stages[0].content, event.stages[0].trainer_id) == ("processes", "tr-hr")
    assert [s.product_series for s in event.stages] == [None, None, "X1"]


def test_a_stage_may_start_and_end_on_the_same_day():
    one_day = STAGES[0].model_copy(
        update={"planned_start": date(2026, 4, 1), "planned_end": date(2026, 4, 1)}
    )
    (event,) = when(draft([one_day]))
    assert event.stages == [one_day]


def test_a_plan_without_stages_is_refused():
    with pytest.raises(InvalidCommand) as caught:
        when(draft([]))
    assert (caught.value.field, caught.value.rule) == ("stages", "R-8")


@pytest.mark.parametrize(
    ("numbers", "bad_index"),
    [((1, 1), 1), ((2, 1), 1), ((1, 3, 2), 2), ((0, 1), 0), ((-1,), 0)],
)
def test_stage_numbers_must_be_unique_ascending_and_positive(numbers, bad_index):
    stages = [STAGES[0].model_copy(update={"no": n}) for n in numbers]
    with pytest.raises(InvalidCommand) as caught:
        when(draft(stages))
    assert (caught.value.field, caught.value.rule) == (f"stages[{bad_index}].no", "R-8")


def test_stage_numbers_may_have_gaps():
    stages = [STAGES[0].model_copy(update={"no": n}) for n in (1, 5, 10)]
    (event,) = when(draft(stages))
    assert [s.no for s in event.stages] == [1, 5, 10]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"content": "  "}, "stages[1].content"),
        ({"trainer_id": ""}, "stages[1].trainer_id"),
        ({"planned_start": date(2026, 3, 28)}, "stages[1].planned_end"),
    ],
)
def test_a_bad_stage_is_refused_naming_its_field(changes, field):
    stages = [STAGES[0], STAGES[1].model_copy(update=changes)]
    with pytest.raises(InvalidCommand) as caught:
        when(draft(stages))
    assert (caught.value.field, caught.value.rule) == (field, "R-8")


def test_drafting_does_not_need_the_mandatory_topics_only_approval_does():
    (event,) = when(draft([STAGES[4]]))
    assert isinstance(event, PlanDrafted)


def test_re_drafting_a_draft_replaces_it_as_the_next_revision():
    (event,) = when(draft(STAGES[:5]), drafted())
    assert event == drafted(STAGES[:5], revision=2)
    state = given(drafted(), event)
    assert (state.revision, [s.no for s in state.stages]) == (2, [1, 2, 3, 4, 5])


def test_drafting_the_same_plan_again_changes_nothing():
    assert when(draft(), drafted()) == []
    assert when(draft(), drafted(), approved()) == []


def test_re_drafting_an_approved_plan_needs_a_new_approval():
    state = given(drafted(), approved(), drafted(STAGES[:6], revision=2))
    assert (state.status, state.revision, state.approved_revision) == (PlanStatus.DRAFT, 2, 1)


def test_re_drafting_keeps_unchanged_stages_with_their_days_and_signatures():
    history = [drafted(), approved(), logged(1), *signed_off(1, 2)]
    changed = STAGES[1].model_copy(update={"content": "responsibilities, revised"})
    new_stage = STAGES[6].model_copy(update={"no": 8})
    stages = (STAGES[0], changed, *STAGES[2:], new_stage)
    (event,) = when(draft(stages), *history)
    state = given(*history, event)
    assert state.stage(1).status is StageStatus.SIGNED_OFF
    assert [d.logged.date for d in state.stage(1).days] == [logged(1).date]
    assert state.stage(2).status is StageStatus.OPEN  # changed: starts again
    assert state.stage(2).assessment is None
    assert state.stage(8).status is StageStatus.OPEN  # new


@pytest.mark.parametrize(
    "changes",
    [
        {"no": 9},
        {"department": Department.TECHNICAL},
        {"trainer_id": "tr-other"},
        {"product_series": "X9"},
        {"topic": Topic.OTHER},
        {"planned_start": date(2026, 3, 3)},
        {"planned_end": date(2026, 3, 28)},
    ],
)
def test_any_change_to_a_signed_stage_starts_it_open_again(changes):
    history = [drafted(), approved(), *signed_off(1)]
    stage = STAGES[0].model_copy(update=changes)
    stages = sorted((stage, *STAGES[1:]), key=lambda s: s.no)
    state = given(*history, *when(draft(stages), *history))
    assert state.stage(stage.no).status is StageStatus.OPEN
    assert state.stage(stage.no).sign_off is None


def test_a_reopened_stage_stays_reopened_when_it_is_redrafted_unchanged():
    history = [drafted(), approved(), *signed_off(1, 2, 3), returned(3, 1)]
    state = given(*history, *when(draft(STAGES[:6]), *history))
    assert state.stage(1).status is StageStatus.REOPENED


def test_the_drafting_manager_is_recorded():
    (event,) = when(draft(actor="prod-mgr"))
    assert event.drafted_by == "prod-mgr" != MANAGER
