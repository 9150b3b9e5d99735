"""R-11 sign-off: the trainer signs with an assessment, the trainee countersigns; the last
countersign completes the training."""

from __future__ import annotations

import pytest

from services.training.domain.events import StageSignedOff, TrainingCompleted
from services.training.domain.vocabulary import PlanStatus, StageStatus
from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, RuleViolation

from .plans import (
    ALL,
    STAGES,
    TODAY,
    TRAINEE,
    approved,
    assessed,
    completed,
    countersign,
    drafted,
    given,
    in_force,
    sign_off,
    signed,
    signed_off,
    when,
)


def test_the_stages_trainer_signs_with_an_assessment():
    assert when(sign_off(5, assessment=" goal reached "), *in_force()) == [assessed(5)]
    stage = given(*in_force(), assessed(5)).stage(5)
    assert stage.status is StageStatus.OPEN  # awaits the countersign


def test_r11_the_assessment_must_not_be_empty():
    with pytest.raises(InvalidCommand) as caught:
        when(sign_off(5, assessment="  "), *in_force())
    assert (caught.value.field, caught.value.rule) == ("assessment", "R-11")


def test_r11_only_the_stages_trainer_signs_it():
    with pytest.raises(Forbidden):
        when(sign_off(5, actor="tr-prod"), *in_force())


def test_r9_no_stage_is_signed_or_countersigned_before_approval():
    for command, history in [
        (sign_off(5), [drafted()]),
        (countersign(5), [drafted()]),
        (sign_off(5), [*in_force(), drafted(STAGES[:6], revision=2)]),
        (countersign(5), [*in_force(), assessed(5), drafted(STAGES[:6], revision=2)]),
    ]:
        with pytest.raises(RuleViolation) as caught:
            when(command, *history)
        assert caught.value.rule == "R-9"


def test_signing_an_unknown_stage_is_not_found():
    with pytest.raises(NotFound):
        when(sign_off(9, actor="tr-tech"), *in_force())


def test_the_trainee_countersigns_and_the_stage_is_signed_off():
    assert when(countersign(5), *in_force(), assessed(5)) == [signed(5)]
    stage = given(*in_force(), *signed_off(5)).stage(5)
    assert stage.status is StageStatus.SIGNED_OFF


def test_the_sign_off_carries_the_series_the_trainer_and_the_assessment():
    (event,) = when(countersign(6), *in_force(), assessed(6, "knows the wiring"))
    assert isinstance(event, StageSignedOff)
    assert (event.product_series, event.trainer_id, event.assessment) == (
        "X1",
        "tr-prod",
        "knows the wiring",
    )
    assert (event.disputed, event.comment) == (False, None)


def test_r11_a_trainee_who_disagrees_still_closes_the_stage_flagged_disputed():
    (event,) = when(countersign(5, agree=False, comment=" rushed "), *in_force(), assessed(5))
    assert (event.disputed, event.comment) == (True, "rushed")
    state = given(*in_force(), assessed(5), event)
    assert state.stage(5).status is StageStatus.SIGNED_OFF


def test_r11_no_countersign_before_the_trainer_signed():
    with pytest.raises(RuleViolation) as caught:
        when(countersign(5), *in_force())
    assert caught.value.rule == "R-11"


def test_r11_only_the_trainee_countersigns():
    with pytest.raises(Forbidden):
        when(countersign(5, actor="tr-tech"), *in_force(), assessed(5))


def test_signing_an_already_signed_off_stage_is_a_conflict():
    history = [*in_force(), *signed_off(5)]
    with pytest.raises(Conflict):
        when(sign_off(5), *history)
    with pytest.raises(Conflict):
        when(countersign(5), *history)


def test_the_trainer_signs_once_before_the_countersign():
    with pytest.raises(Conflict):
        when(sign_off(5, assessment="second thoughts"), *in_force(), assessed(5))


def test_stages_may_be_signed_in_any_order():
    assert when(sign_off(7), *in_force()) == [assessed(7)]


def test_countersigning_a_stage_that_is_not_the_last_open_one_does_not_complete():
    history = [*in_force(), *signed_off(1, 2, 3, 4, 5), assessed(7)]
    assert when(countersign(7), *history) == [signed(7)]


def test_the_last_countersign_completes_the_training():
    history = [*in_force(), *signed_off(1, 2, 3, 4, 5, 6), assessed(7)]
    events = when(countersign(7), *history)
    assert events == [signed(7), TrainingCompleted(trainee_id=TRAINEE, completed_on=TODAY)]
    assert given(*history, *events).status is PlanStatus.COMPLETED


def test_a_disputed_last_countersign_also_completes_the_training():
    history = [*in_force(), *signed_off(1, 2, 3, 4, 5, 6), assessed(7)]
    events = when(countersign(7, agree=False), *history)
    assert events == [signed(7, disputed=True), completed()]


def test_a_completed_plan_refuses_further_signatures():
    history = [*in_force(), *signed_off(*ALL), completed()]
    with pytest.raises(Conflict):
        when(sign_off(1), *history)


def test_signatures_follow_the_approved_revision():
    history = [drafted(STAGES[:4]), approved(), *signed_off(1, 2, 3)]
    assert when(sign_off(4), *history) == [assessed(4)]
