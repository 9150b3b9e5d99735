"""R-12 send-back: a later stage's trainer returns the trainee to an earlier, signed-off stage;
training past it waits until it is signed off again."""

from __future__ import annotations

import pytest

from services.training.domain.events import StageReturned
from services.training.domain.vocabulary import StageStatus
from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, RuleViolation

from .plans import (
    ALL,
    STAGES,
    TRAINEE,
    approved,
    assessed,
    completed,
    confirm,
    countersign,
    drafted,
    given,
    in_force,
    log_day,
    logged,
    returned,
    send_back,
    sign_off,
    signed,
    signed_off,
    when,
)

SIGNED_1_TO_3 = [*in_force(), logged(1), *signed_off(1, 2, 3)]


def test_the_trainer_of_a_later_stage_sends_the_trainee_back():
    (event,) = when(send_back(5, 1, reason=" cannot read diagrams "), *SIGNED_1_TO_3)
    assert event == StageReturned(
        trainee_id=TRAINEE,
        from_stage=5,
        to_stage=1,
        reason="cannot read diagrams",
        returned_by="tr-tech",
    )


def test_a_returned_stage_reopens_without_signatures_but_with_its_days():
    stage = given(*SIGNED_1_TO_3, returned(5, 1)).stage(1)
    assert stage.status is StageStatus.REOPENED
    assert (stage.assessment, stage.sign_off) == (None, None)
    assert [d.logged for d in stage.days] == [logged(1)]


def test_r12_only_the_trainer_of_the_later_stage_sends_back():
    with pytest.raises(Forbidden):
        when(send_back(5, 1, actor="tr-prod"), *SIGNED_1_TO_3)


@pytest.mark.parametrize("to_stage", [5, 6])
def test_r12_the_stage_sent_back_to_must_be_earlier(to_stage):
    with pytest.raises(RuleViolation) as caught:
        when(send_back(5, to_stage), *SIGNED_1_TO_3, *signed_off(5, 6))
    assert caught.value.rule == "R-12"


def test_r12_the_stage_sent_back_to_must_be_signed_off():
    with pytest.raises(RuleViolation) as caught:
        when(send_back(5, 4), *SIGNED_1_TO_3)
    assert caught.value.rule == "R-12"
    with pytest.raises(RuleViolation) as caught:  # reopened already
        when(send_back(6, 1), *SIGNED_1_TO_3, returned(5, 1))
    assert caught.value.rule == "R-12"


def test_r12_a_stage_only_assessed_by_its_trainer_is_not_yet_signed_off():
    with pytest.raises(RuleViolation) as caught:
        when(send_back(5, 4), *SIGNED_1_TO_3, assessed(4))
    assert caught.value.rule == "R-12"


def test_sending_back_needs_a_reason_and_an_existing_stage():
    with pytest.raises(InvalidCommand) as caught:
        when(send_back(5, 1, reason=" "), *SIGNED_1_TO_3)
    assert (caught.value.field, caught.value.rule) == ("reason", "R-12")
    gapped = [STAGES[0].model_copy(update={"no": n}) for n in (1, 3)]
    with pytest.raises(InvalidCommand) as caught:
        when(send_back(3, 2, actor="tr-hr"), drafted(gapped), approved(), *signed_off(1))
    assert caught.value.field == "to_stage"
    with pytest.raises(NotFound):
        when(send_back(9, 1, actor="tr-tech"), *SIGNED_1_TO_3)


def test_r9_no_send_back_before_approval():
    with pytest.raises(RuleViolation) as caught:
        when(send_back(5, 1), *SIGNED_1_TO_3, drafted(STAGES[:6], revision=2))
    assert caught.value.rule == "R-9"


def test_a_completed_plan_cannot_be_sent_back():
    with pytest.raises(Conflict):
        when(send_back(7, 1), *in_force(), *signed_off(*ALL), completed())


def test_r12_no_stage_after_a_reopened_one_is_logged_signed_or_countersigned():
    history = [*SIGNED_1_TO_3, assessed(4), returned(5, 1)]
    for command in (log_day(3), sign_off(5), countersign(4)):
        with pytest.raises(RuleViolation) as caught:
            when(command, *history)
        assert caught.value.rule == "R-12"


def test_r12_stage_3_waits_while_stage_1_is_reopened_but_stage_1_itself_goes_on():
    history = [*in_force(), *signed_off(1, 2), returned(3, 1)]
    with pytest.raises(RuleViolation) as caught:
        when(sign_off(3), *history)
    assert caught.value.rule == "R-12"
    assert when(log_day(1), *history) == [logged(1)]
    assert when(sign_off(1), *history) == [assessed(1)]
    assert when(countersign(1), *history, assessed(1)) == [signed(1)]


def test_r12_days_already_logged_after_the_reopened_stage_can_still_be_confirmed():
    history = [*in_force(), *signed_off(1), logged(3), returned(3, 1)]
    assert len(when(confirm(3), *history)) == 1


def test_r12_training_continues_once_the_reopened_stage_is_signed_off_again():
    history = [*SIGNED_1_TO_3, returned(5, 1), *signed_off(1)]
    assert given(*history).stage(1).status is StageStatus.SIGNED_OFF
    assert when(sign_off(5), *history) == [assessed(5)]


def test_signing_the_reopened_stage_last_completes_the_training():
    history = [*in_force(), *signed_off(*ALL[1:]), *signed_off(1), returned(7, 1), assessed(1)]
    assert when(countersign(1), *history) == [signed(1), completed()]
