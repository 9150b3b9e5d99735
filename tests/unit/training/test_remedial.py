"""R-18a: the remedial revision of a completed plan. Given a completed plan and the trainee's
latest disposition, When DraftPlan / ApprovePlan / LogTrainingDay / CountersignStage, Then a
remedial PlanDrafted kept to the completed stages, approved before any remedial day (R-9), and
completed again once its new stages are signed off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.training.domain.events import TrainingCompleted
from services.training.domain.mastery import mastered_series
from services.training.domain.vocabulary import PlanStatus
from shared.decider import RuleViolation

from .plans import (
    ALL,
    REMEDIAL,
    STAGES,
    TODAY,
    approve,
    approved,
    assessed,
    completed,
    countersign,
    disposed,
    draft,
    drafted,
    given,
    log_day,
    signed,
    signed_off,
    when,
)

COMPLETED = [drafted(), approved(), *signed_off(*ALL), completed()]
REVISED = (*STAGES, REMEDIAL)
CONTINUE = disposed("continue_training")


@pytest.mark.parametrize("outcome", [None, "reserve", "workshop"])
def test_r18a_a_completed_plan_is_not_redrafted_without_continue_training(outcome):
    disposition = disposed(outcome) if outcome else None
    with pytest.raises(RuleViolation) as caught:
        when(draft(REVISED, disposition=disposition), *COMPLETED)
    assert caught.value.rule == "R-18a"


def test_r18a_continue_training_allows_a_remedial_revision_keeping_the_completed_stages():
    (event,) = when(draft(REVISED, disposition=CONTINUE), *COMPLETED)
    assert event == drafted(REVISED, revision=2, remedial=True)
    state = given(*COMPLETED, event)
    # The completed stages keep their signatures (R-14: X2 stays mastered), the new one is open
    assert state.status is PlanStatus.DRAFT and state.remedial
    assert [s.sign_off is not None for s in state.stages] == [True] * len(ALL) + [False]
    assert mastered_series(state) == {"X1", "X2"}


def test_r18a_a_disposition_older_than_the_completion_was_already_answered():
    stale = disposed("continue_training", on=TODAY - timedelta(days=1))
    with pytest.raises(RuleViolation) as caught:
        when(draft(REVISED, disposition=stale), *COMPLETED)
    assert caught.value.rule == "R-18a"


@pytest.mark.parametrize(
    "stages",
    [
        (*STAGES[:6], REMEDIAL),  # stage 7 dropped
        (STAGES[0].model_copy(update={"trainer_id": "tr-x"}), *STAGES[1:], REMEDIAL),  # changed
        STAGES,  # nothing new
    ],
)
def test_r18a_a_remedial_revision_keeps_every_completed_stage_and_adds_one(stages):
    with pytest.raises(RuleViolation) as caught:
        when(draft(stages, disposition=CONTINUE), *COMPLETED)
    assert caught.value.rule == "R-18a"


def test_r18a_redrafting_the_remedial_draft_stays_remedial():
    other = REMEDIAL.model_copy(update={"planned_end": date(2026, 4, 30)})
    history = [*COMPLETED, drafted(REVISED, revision=2, remedial=True)]
    (event,) = when(draft((*STAGES, other)), *history)
    assert (event.revision, event.remedial) == (3, True)


def test_r18a_no_day_is_logged_on_a_completed_plan_without_a_remedial_revision():
    # The training is over: any further day is remedial and needs its approved revision first.
    with pytest.raises(RuleViolation) as caught:
        when(log_day(1, on=TODAY), *COMPLETED)
    assert caught.value.rule == "R-18a"


def test_r9_no_remedial_day_is_logged_before_the_approval():
    history = [*COMPLETED, drafted(REVISED, revision=2, remedial=True)]
    with pytest.raises(RuleViolation) as caught:
        when(log_day(8, on=TODAY), *history)
    assert caught.value.rule == "R-9"


def test_r18a_the_approved_remedial_revision_takes_days_and_completes_again():
    history = [*COMPLETED, drafted(REVISED, revision=2, remedial=True)]
    # The approval checks the whole plan (R-8a, R-7) and completes nothing yet
    assert when(approve(), *history) == [approved(revision=2)]
    history.append(approved(revision=2))
    (day,) = when(log_day(8, on=TODAY), *history)
    assert day.stage_no == 8
    # The trainee's countersign of the last new stage completes the training again
    events = when(countersign(8), *history, day, assessed(8))
    assert events[-1] == TrainingCompleted(trainee_id="t-1", completed_on=TODAY)
    assert events[0] == signed(8)
    done = given(*history, day, assessed(8), *events)
    assert (done.status, done.completed_on) == (PlanStatus.COMPLETED, TODAY)
    assert len(done.completed_specs) == len(REVISED)
