"""R-12a: a send-back (R-12) also ends when the returned stage's trainer explains why its goal was
in fact reached and the later stage's trainer accepts: both texts are kept and the stage counts
as signed again, without a new sign-off."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from services.training.domain.events import TrainingCompleted
from services.training.domain.mastery import mastered_series
from services.training.domain.plan_table import plan_table
from services.training.domain.vocabulary import StageStatus
from services.training.export import plan_workbook
from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, RuleViolation

from .followups import accept, closed, explain, explained, when
from .plans import (
    ALL,
    TODAY,
    TRAINEE,
    countersign,
    drafted,
    given,
    in_force,
    logged,
    returned,
    sign_off,
    signed_off,
)
from .plans import when as when_plan

SIGNED_1_TO_5 = [*in_force(), logged(1), *signed_off(1, 2, 3, 4, 5)]
RETURNED = [*SIGNED_1_TO_5, returned(6, 5)]  # stage 6 (tr-prod) sends back to stage 5 (tr-tech)
EXPLAINED = [*RETURNED, explained(5)]


def test_the_returned_stages_trainer_explains():
    (event,) = when(explain(5, explanation=" taught twice, tested on day 1 "), *RETURNED)
    assert event == explained(5, "taught twice, tested on day 1")


def test_r12a_an_explanation_without_an_open_send_back_is_refused():
    with pytest.raises(RuleViolation) as caught:
        when(explain(5), *SIGNED_1_TO_5)
    assert caught.value.rule == "R-12a"


def test_r12a_a_send_back_ended_by_a_new_sign_off_is_no_longer_open():
    resigned = [*RETURNED, *signed_off(5)]
    with pytest.raises(RuleViolation) as caught:
        when(explain(5), *resigned)
    assert caught.value.rule == "R-12a"


def test_r12a_only_the_returned_stages_trainer_explains():
    with pytest.raises(Forbidden):
        when(explain(5, actor="tr-prod"), *RETURNED)  # the later stage's trainer
    with pytest.raises(Forbidden):
        when(explain(5, actor="tr-hr"), *RETURNED)


def test_an_explanation_names_an_existing_stage():
    with pytest.raises(NotFound):
        when(explain(9, actor="tr-tech"), *RETURNED)


def test_r12a_an_empty_explanation_is_refused():
    with pytest.raises(InvalidCommand) as caught:
        when(explain(5, explanation="  "), *RETURNED)
    assert (caught.value.field, caught.value.rule) == ("explanation", "R-12a")


def test_a_send_back_is_explained_once():
    with pytest.raises(Conflict):
        when(explain(5), *EXPLAINED)


def test_r9_no_explanation_while_a_changed_plan_awaits_approval():
    with pytest.raises(RuleViolation) as caught:
        when(explain(5), *RETURNED, drafted(revision=2))
    assert caught.value.rule == "R-9"


def test_the_later_stages_trainer_accepts_and_the_stage_counts_as_signed_again():
    (event,) = when(accept(5, "tr-prod", comment=" agreed "), *EXPLAINED)
    assert event == closed(5, returned_from=6, comment="agreed")
    stage = given(*EXPLAINED, event).stage(5)
    assert stage.status is StageStatus.SIGNED_OFF
    assert stage.sign_off is not None and stage.sign_off.assessment == "goal reached"


def test_r12a_accept_before_an_explanation_is_refused():
    with pytest.raises(RuleViolation) as caught:
        when(accept(5, "tr-prod"), *RETURNED)
    assert caught.value.rule == "R-12a"


def test_r12a_accept_without_an_open_send_back_is_refused():
    with pytest.raises(RuleViolation) as caught:
        when(accept(5, "tr-prod"), *SIGNED_1_TO_5)
    assert caught.value.rule == "R-12a"


@pytest.mark.parametrize("actor", ["tr-tech", "tr-hr", "tr-other"])
def test_r12a_only_the_trainer_of_the_stage_that_sent_back_accepts(actor):
    with pytest.raises(Forbidden):
        when(accept(5, actor), *EXPLAINED)


def test_without_an_open_send_back_a_trainer_of_no_later_stage_is_refused_first():
    with pytest.raises(Forbidden):
        when(accept(5, "tr-hr"), *SIGNED_1_TO_5)  # tr-hr trains stages 1 and 2 only


def test_accepting_the_last_open_stage_completes_the_training():
    everything_else = [*in_force(), *signed_off(*ALL), returned(7, 5), explained(5)]
    events = when(accept(5, "tr-tech"), *everything_else)
    assert events == [
        closed(5, returned_from=7),
        TrainingCompleted(trainee_id=TRAINEE, completed_on=TODAY),
    ]


def test_accepting_while_other_stages_are_open_does_not_complete():
    assert when(accept(5, "tr-prod"), *EXPLAINED) == [closed(5, returned_from=6)]


def test_r14_the_series_is_mastered_again_once_the_explanation_is_accepted():
    all_signed = [*in_force(), *signed_off(*ALL)]
    assert "X1" in mastered_series(given(*all_signed))
    assert "X1" not in mastered_series(given(*all_signed, returned(6, 5), explained(5)))
    assert "X1" in mastered_series(given(*all_signed, returned(6, 5), explained(5), closed(5, 6)))


def test_r12_a_sign_off_after_an_explanation_still_ends_the_send_back():
    (assessed,) = when_plan(sign_off(5, assessment="re-taught"), *EXPLAINED)
    signed_again = when_plan(countersign(5), *EXPLAINED, assessed)
    state = given(*EXPLAINED, assessed, *signed_again)
    assert state.stage(5).status is StageStatus.SIGNED_OFF
    with pytest.raises(RuleViolation) as caught:  # nothing left to accept
        when(accept(5, "tr-prod"), *EXPLAINED, assessed, *signed_again)
    assert caught.value.rule == "R-12a"
    (row,) = plan_table(state, 1)["stages"][4]["send_backs"]
    assert (row["status"], row["explanation"]) == ("signed_off", "the goal was reached: see day 1")


def test_the_plan_table_keeps_the_reason_the_explanation_and_the_acceptance():
    state = given(*EXPLAINED, closed(5, 6, comment="agreed"))
    (row,) = plan_table(state, 1)["stages"][4]["send_backs"]
    assert row == {
        "from_stage": 6,
        "reason": "cannot read diagrams",
        "returned_by": "tr-prod",
        "status": "accepted",
        "explanation": "the goal was reached: see day 1",
        "explained_by": "tr-tech",
        "explained_on": TODAY.isoformat(),
        "accepted_by": "tr-prod",
        "acceptance_comment": "agreed",
        "closed_on": TODAY.isoformat(),
    }


def test_an_open_send_back_shows_whether_it_is_explained():
    assert plan_table(given(*RETURNED), 1)["stages"][4]["send_backs"][0]["status"] == "open"
    assert plan_table(given(*EXPLAINED), 1)["stages"][4]["send_backs"][0]["status"] == "explained"


def test_a_stage_closed_by_acceptance_can_be_sent_back_again():
    again = [*EXPLAINED, closed(5, 6), returned(6, 5, reason="still cannot")]
    stage = given(*again).stage(5)
    assert stage.status is StageStatus.REOPENED
    assert [s.returned.reason for s in stage.send_backs] == ["cannot read diagrams", "still cannot"]


def test_the_spreadsheet_shows_the_send_back_with_its_explanation_and_acceptance():
    table = plan_table(given(*EXPLAINED, closed(5, 6, comment="agreed")), 1)
    sheet = load_workbook(BytesIO(plan_workbook(table))).active
    cell = sheet.cell(row=6, column=6).value  # stage 5, 培训人评估
    assert cell == (
        "goal reached\n[第6阶段退回（说明已接受）：cannot read diagrams；"
        "说明：the goal was reached: see day 1；tr-prod接受：agreed]"
    )
