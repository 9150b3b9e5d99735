"""R-13 trainer demerits: When RecordDemerit, Then TrainerDemeritRecorded (or the refusal)."""

from __future__ import annotations

import pytest

from services.training.domain.commands import RecordDemerit
from services.training.domain.demerit import DEMERITS, stream_id
from services.training.domain.events import TrainerDemeritRecorded
from shared.decider import InvalidCommand

from .plans import MANAGER, TODAY


def record(reason: str = "perfunctory daily records", trainee_id: str | None = "t-1"):
    return RecordDemerit(
        trainer_id="tr-tech", reason=reason, trainee_id=trainee_id, actor_id=MANAGER, today=TODAY
    )


def demerit(trainee_id: str | None = "t-1") -> TrainerDemeritRecorded:
    return TrainerDemeritRecorded(
        trainer_id="tr-tech",
        reason="perfunctory daily records",
        trainee_id=trainee_id,
        recorded_by=MANAGER,
        recorded_on=TODAY,
    )


def test_r13_a_verified_demerit_is_recorded_with_its_reason():
    assert DEMERITS.decide(record(" perfunctory daily records "), DEMERITS.initial()) == [demerit()]


def test_r13_a_demerit_needs_a_reason():
    with pytest.raises(InvalidCommand) as caught:
        DEMERITS.decide(record(reason="  "), DEMERITS.initial())
    assert (caught.value.field, caught.value.rule) == ("reason", "R-13")


@pytest.mark.parametrize("trainee_id", [None, "", "  "])
def test_a_demerit_need_not_name_a_trainee(trainee_id):
    (event,) = DEMERITS.decide(record(trainee_id=trainee_id), DEMERITS.initial())
    assert event == demerit(trainee_id=None)


def test_a_trainers_demerits_accumulate_in_its_own_stream():
    state = DEMERITS.fold([demerit(), demerit(None)])
    assert (state.trainer_id, len(state.demerits)) == ("tr-tech", 2)
    assert DEMERITS.decide(record(), state) == [demerit()]
    assert stream_id("tr-tech") == "trainer-tr-tech"
