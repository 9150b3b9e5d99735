"""R-12b: a trainer of the plan notes that the trainee cannot keep up; the after-sales manager
verifies it and records how it will be handled."""

from __future__ import annotations

import pytest

from services.training.domain.plan_table import plan_table
from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound

from .followups import handle, handled, note, noted, when
from .plans import TODAY, given, in_force

NOTED = [*in_force(), noted(5)]


def test_a_trainer_notes_a_concern_on_its_own_stage():
    (event,) = when(note(5, text=" cannot keep up with the wiring "), *in_force())
    assert event == noted(5)


def test_r12b_a_trainer_of_no_stage_of_the_plan_is_refused():
    with pytest.raises(Forbidden):
        when(note(5, actor="tr-elsewhere"), *in_force())


def test_r12b_a_trainer_notes_on_its_own_stages_only():
    with pytest.raises(Forbidden):
        when(note(5, actor="tr-hr"), *in_force())  # tr-hr trains stages 1 and 2


def test_r12b_the_stage_must_be_one_of_the_plan():
    with pytest.raises(InvalidCommand) as caught:
        when(note(9, actor="tr-tech"), *in_force())
    assert (caught.value.field, caught.value.rule) == ("stage_no", "R-12b")


def test_r12b_an_empty_text_is_refused():
    with pytest.raises(InvalidCommand) as caught:
        when(note(5, text=" \n "), *in_force())
    assert (caught.value.field, caught.value.rule) == ("text", "R-12b")


def test_no_concern_without_a_plan():
    with pytest.raises(NotFound):
        when(note(5))


def test_the_same_concern_id_is_noted_once():
    with pytest.raises(Conflict):
        when(note(5), *NOTED)


def test_the_manager_handles_a_concern():
    (event,) = when(handle(verified=False, handling=" watch one more week "), *NOTED)
    assert event == handled(verified=False, handling="watch one more week")


def test_r12b_a_concern_is_handled_once():
    with pytest.raises(Conflict):
        when(handle(), *NOTED, handled())


def test_r12b_an_unknown_concern_is_not_found():
    with pytest.raises(NotFound):
        when(handle(concern_id="c-404"), *NOTED)


def test_r12b_an_empty_handling_is_refused():
    with pytest.raises(InvalidCommand) as caught:
        when(handle(handling=""), *NOTED)
    assert (caught.value.field, caught.value.rule) == ("handling", "R-12b")


def test_the_plan_table_lists_concerns_with_their_handling():
    state_rows = plan_table(given_concerns(), 3)["concerns"]
    assert [(c["concern_id"], c["handled"], c["handling"]) for c in state_rows] == [
        ("c-1", True, "two more weeks on stage 5"),
        ("c-2", False, None),
    ]
    assert state_rows[0]["noted_on"] == state_rows[0]["handled_on"] == TODAY.isoformat()


def given_concerns():
    return given(*NOTED, handled(), noted(6, "slow on the bench", concern_id="c-2"))
