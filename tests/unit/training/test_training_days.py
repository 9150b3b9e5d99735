"""R-9/R-10 daily records: Given a plan, When a day is logged or confirmed, Then the record."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.training.domain.events import TrainingDayLogged
from shared.decider import Conflict, Forbidden, InvalidCommand, NotFound, RuleViolation

from .plans import (
    ALL,
    STAGES,
    TODAY,
    YESTERDAY,
    approved,
    completed,
    confirm,
    confirmed,
    drafted,
    given,
    in_force,
    log_day,
    logged,
    signed_off,
    when,
)


def test_the_stages_trainer_logs_a_training_day():
    assert when(log_day(5), *in_force()) == [logged(5)]
    (day,) = given(*in_force(), logged(5)).stage(5).days
    assert (day.logged.hours, day.logged.method, day.confirmation) == (Decimal(8), "hands-on", None)


def test_r9_no_day_is_logged_on_a_plan_awaiting_its_first_approval():
    with pytest.raises(RuleViolation) as caught:
        when(log_day(5), drafted())
    assert caught.value.rule == "R-9"


def test_r9_no_day_is_logged_on_a_changed_plan_awaiting_its_new_approval():
    with pytest.raises(RuleViolation) as caught:
        when(log_day(5), *in_force(), drafted(STAGES[:6], revision=2))
    assert caught.value.rule == "R-9"
    assert when(log_day(5), *in_force(), drafted(STAGES[:6], 2), approved(2)) == [logged(5)]


def test_no_day_is_logged_without_a_plan_or_on_a_stage_it_does_not_have():
    with pytest.raises(NotFound):
        when(log_day(5))
    with pytest.raises(NotFound):
        when(log_day(8, actor="tr-tech"), *in_force())


def test_r10_another_trainer_cannot_log_a_day_on_the_stage():
    with pytest.raises(Forbidden):
        when(log_day(5, actor="tr-prod"), *in_force())
    with pytest.raises(Forbidden):
        when(log_day(5, actor="t-1"), *in_force())


def test_r10_one_record_per_stage_and_date():
    with pytest.raises(Conflict):
        when(log_day(5), *in_force(), logged(5))
    assert when(log_day(7), *in_force(), logged(5)) == [logged(7)]  # same day, another stage
    assert when(log_day(5, on=TODAY), *in_force(), logged(5)) == [logged(5, on=TODAY)]


@pytest.mark.parametrize("hours", ["0.1", "1", "7.5", "23.9", "24"])
def test_r10_hours_above_0_up_to_24_are_accepted(hours):
    (event,) = when(log_day(5, hours=hours), *in_force())
    assert event.hours == Decimal(hours)


@pytest.mark.parametrize("hours", ["0", "-1", "24.5", "24.01", "NaN", "Infinity"])
def test_r10_hours_of_0_or_more_than_24_are_refused(hours):
    with pytest.raises(InvalidCommand) as caught:
        when(log_day(5, hours=hours), *in_force())
    assert (caught.value.field, caught.value.rule) == ("hours", "R-10")


def test_r10_a_day_is_logged_today_or_earlier_never_in_the_future():
    (event,) = when(log_day(5, on=TODAY), *in_force())
    assert isinstance(event, TrainingDayLogged)
    with pytest.raises(InvalidCommand) as caught:
        when(log_day(5, on=TODAY + timedelta(days=1)), *in_force())
    assert (caught.value.field, caught.value.rule) == ("date", "R-10")


def test_r10_a_day_needs_its_content():
    with pytest.raises(InvalidCommand) as caught:
        when(log_day(5, content="  "), *in_force())
    assert (caught.value.field, caught.value.rule) == ("content", "R-10")


def test_days_are_kept_in_date_order():
    earlier = YESTERDAY - timedelta(days=3)
    state = given(*in_force(), logged(5), logged(5, on=earlier))
    assert [d.logged.date for d in state.stage(5).days] == [earlier, YESTERDAY]


def test_days_may_still_be_logged_on_a_signed_off_stage_before_completion():
    """A stage signed off while others are open may still take a late day's record."""
    history = [*in_force(), *signed_off(5)]
    assert when(log_day(5, on=TODAY), *history) == [logged(5, on=TODAY)]


def test_r18a_after_completion_further_days_wait_for_an_approved_remedial_revision():
    """R-19 continued training is logged against a remedial revision (R-18a), never the old plan."""
    history = [*in_force(), *signed_off(*ALL), completed()]
    with pytest.raises(RuleViolation) as caught:
        when(log_day(5, on=TODAY), *history)
    assert caught.value.rule == "R-18a"


def test_the_trainee_confirms_a_day():
    assert when(confirm(5), *in_force(), logged(5)) == [confirmed(5)]
    (day,) = given(*in_force(), logged(5), confirmed(5)).stage(5).days
    assert day.confirmation == confirmed(5)


def test_r10_a_disagreement_is_kept_with_its_comment():
    (event,) = when(confirm(5, agree=False, comment=" only 4 hours "), *in_force(), logged(5))
    assert event == confirmed(5, agree=False, comment="only 4 hours")
    (day,) = given(*in_force(), logged(5), event).stage(5).days
    assert day.confirmation is not None and day.confirmation.agree is False


def test_a_blank_comment_is_recorded_as_none():
    assert when(confirm(5, comment="  "), *in_force(), logged(5)) == [confirmed(5)]


def test_r10_only_the_trainee_confirms_its_days():
    with pytest.raises(Forbidden):
        when(confirm(5, actor="tr-tech"), *in_force(), logged(5))


def test_a_day_is_confirmed_once():
    with pytest.raises(Conflict):
        when(confirm(5, agree=False), *in_force(), logged(5), confirmed(5))


def test_a_day_never_logged_cannot_be_confirmed():
    with pytest.raises(NotFound):
        when(confirm(5, on=TODAY), *in_force(), logged(5))


def test_r9_no_day_is_confirmed_while_a_changed_plan_awaits_approval():
    with pytest.raises(RuleViolation) as caught:
        when(confirm(5), *in_force(), logged(5), drafted(STAGES[:6], revision=2))
    assert caught.value.rule == "R-9"
