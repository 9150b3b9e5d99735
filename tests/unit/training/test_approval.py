"""R-8a/R-9 approval: Given a draft, When ApprovePlan, Then PlanApproved (or the refusal)."""

from __future__ import annotations

import pytest

from services.training.domain.events import PlanApproved, TrainingCompleted
from services.training.domain.vocabulary import PlanStatus, Topic
from shared.decider import Conflict, NotFound, RuleViolation

from .plans import (
    ALL,
    STAGES,
    TODAY,
    TRAINEE,
    approve,
    approved,
    completed,
    drafted,
    given,
    signed_off,
    when,
)


def test_approving_a_draft_puts_its_revision_in_force():
    assert when(approve(), drafted()) == [approved()]
    state = given(drafted(), approved())
    assert (state.status, state.approved_revision) == (PlanStatus.APPROVED, 1)


def test_the_approval_carries_the_revision_approved_and_the_approver():
    (event,) = when(approve(actor="vp-2"), drafted(), approved(), drafted(STAGES[:6], revision=2))
    assert event == approved(revision=2, actor="vp-2")


def test_a_plan_with_the_four_mandatory_topics_and_the_level_content_is_approved():
    (event,) = when(approve(), drafted(STAGES[:5]))
    assert isinstance(event, PlanApproved)


@pytest.mark.parametrize(
    ("kept", "missing"),
    [
        (STAGES[1:], ["company_processes"]),
        ((STAGES[0], STAGES[1], STAGES[2], *STAGES[4:]), ["appraisal_rules"]),
        (
            STAGES[4:],
            [
                t.value
                for t in (
                    Topic.COMPANY_PROCESSES,
                    Topic.DEPARTMENT_RESPONSIBILITIES,
                    Topic.TRAVEL_POLICY,
                    Topic.APPRAISAL_RULES,
                )
            ],
        ),
    ],
)
def test_r8a_approval_is_refused_naming_the_missing_mandatory_topics(kept, missing):
    with pytest.raises(RuleViolation) as caught:
        when(approve(), drafted(kept))
    assert caught.value.rule == "R-8a"
    for topic in missing:
        assert topic in caught.value.detail
    assert "product" not in caught.value.detail


def test_approving_when_nothing_was_drafted_is_not_found():
    with pytest.raises(NotFound):
        when(approve())


def test_approving_an_already_approved_revision_is_a_conflict():
    with pytest.raises(Conflict):
        when(approve(), drafted(), approved())


def test_approving_a_completed_plan_is_a_conflict():
    with pytest.raises(Conflict):
        when(approve(), drafted(), approved(), *signed_off(*ALL), completed())


def test_approving_a_re_draft_that_only_dropped_the_open_stages_completes_the_training():
    history = [drafted(), approved(), *signed_off(1, 2, 3, 4, 5, 6), drafted(STAGES[:6], 2)]
    assert when(approve(), *history) == [
        approved(revision=2),
        TrainingCompleted(trainee_id=TRAINEE, completed_on=TODAY),
    ]
