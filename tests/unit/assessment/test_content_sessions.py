"""R-24 for a session held for one training content (an R-7a code or an R-8a mandatory topic):
Given events, When a command, Then events (or a refusal); the trainers held responsible are those
of the stages covering the content, by ``covers`` or by ``topic``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.assessment.domain.commands import CloseExamSession, OpenExamSession
from services.assessment.domain.events import ExamSessionOpened, TrainerPenaltyAssessed
from services.assessment.domain.session import EXAM_SESSION, assess_trainers
from services.assessment.domain.trainee_record import (
    PlanFacts,
    evolve_plan,
    trainers_covering,
)
from services.assessment.policy.grading import FINES
from shared.decider import InvalidCommand

from .builders import TODAY, given

CLOSING_DAY = date(2026, 3, 6)
SESSION = ExamSessionOpened(
    session_id="s-c", content="fault_repair", held_on=date(2026, 3, 2), opened_by="manager"
)

FINES_IN_FORCE = FINES.in_force(TODAY)  # R-24's tiers, a policy of their own


def open_for(series: str | None = None, content: str | None = None) -> OpenExamSession:
    return OpenExamSession("s-c", series, TODAY, "manager", TODAY, content=content)


def test_a_session_for_a_content_records_the_content_and_no_series():
    (event,) = EXAM_SESSION.decide(open_for(content=" fault_repair "), EXAM_SESSION.initial())
    assert event == ExamSessionOpened(
        session_id="s-c", product_series=None, content="fault_repair", held_on=TODAY,
        opened_by="manager",
    )  # fmt: skip


@pytest.mark.parametrize("topic", ["company_processes", "travel_policy", "appraisal_rules"])
def test_a_mandatory_topic_is_a_content_a_session_may_be_held_for_r8a(topic):
    (event,) = EXAM_SESSION.decide(open_for(content=topic), EXAM_SESSION.initial())
    assert isinstance(event, ExamSessionOpened) and event.content == topic


@pytest.mark.parametrize(
    ("series", "content", "field"),
    [
        ("X1", "fault_repair", "content"),  # both
        (None, None, "product_series"),  # neither
        (None, "wiring", "content"),  # no R-7a code nor R-8a topic
        (None, "product", "content"),  # a topic, but not a mandatory one
    ],
)
def test_a_session_is_for_exactly_one_series_or_one_known_content(series, content, field):
    with pytest.raises(InvalidCommand) as refused:
        EXAM_SESSION.decide(open_for(series, content), EXAM_SESSION.initial())
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("trainees", "failed", "fine"),
    [(1000, 299, 0), (1000, 300, 50), (10, 3, 50), (10, 4, 150), (10, 5, 200)],
)
def test_r24_tiers_for_a_content_session_at_their_boundaries(trainees, failed, fine):
    """29.9 % -> none; 30 % -> 50; 40 % -> 150; 50 % -> 200, as for a series session."""
    outcomes = {f"t-{n:04}": n >= failed for n in range(trainees)}
    (penalty,) = assess_trainers(
        SESSION, outcomes, {t: ["tr-1"] for t in outcomes}, policy=FINES_IN_FORCE
    )
    assert (penalty.fine, penalty.content, penalty.product_series) == (
        Decimal(fine), "fault_repair", None,
    )  # fmt: skip
    assert len(penalty.failed) == failed
    assert penalty.rule_trace[0] == (
        f"R-24: trainer tr-1, content fault_repair, session s-c: {trainees} trainees, "
        f"{failed} failed"
    )


def stage(no, trainer, topic="product", covers=()):
    return {
        "no": no,
        "content": f"stage {no}",
        "department": "technical",
        "trainer_id": trainer,
        "product_series": None,
        "topic": topic,
        "covers": list(covers),
        "planned_start": "2026-03-02",
        "planned_end": "2026-03-06",
    }


def approved(*stages):
    drafted = evolve_plan(PlanFacts(), "PlanDrafted", {"trainee_id": "t-1", "stages": stages})
    return evolve_plan(drafted, "PlanApproved", {"trainee_id": "t-1", "revision": 1}).in_force


PLAN = approved(
    stage(1, "tr-covers", covers=["fault_analysis", "fault_repair"]),
    stage(2, "tr-topic", topic="travel_policy"),
    stage(3, "tr-other", covers=["assembly"]),
)


def test_the_trainers_of_a_content_are_those_whose_stage_covers_it_or_teaches_it_as_topic():
    assert trainers_covering(PLAN, "fault_repair") == {"tr-covers"}
    assert trainers_covering(PLAN, "travel_policy") == {"tr-topic"}
    assert trainers_covering(PLAN, "program_modification") == set()


def test_a_stage_drafted_before_covers_existed_covers_its_topic_only():
    old = approved(
        {k: v for k, v in stage(1, "tr-old", "appraisal_rules").items() if k != "covers"}
    )
    assert trainers_covering(old, "appraisal_rules") == {"tr-old"}
    assert trainers_covering(old, "assembly") == set()


def test_closing_a_content_session_assesses_only_the_trainers_covering_it():
    """Given four trainees of one plan, two failing; When the session for fault_repair closes;
    Then tr-covers answers for them (50 % -> 200), tr-topic and tr-other are not assessed."""
    outcomes = {"t-1": False, "t-2": False, "t-3": True, "t-4": True}
    trainers = {t: trainers_covering(PLAN, "fault_repair") for t in outcomes}
    state = given(open_for(content="fault_repair"), decider=EXAM_SESSION)
    _closed, penalty = EXAM_SESSION.decide(
        CloseExamSession("s-c", CLOSING_DAY, outcomes, trainers), state
    )
    assert isinstance(penalty, TrainerPenaltyAssessed)
    assert (penalty.trainer_id, penalty.fine, penalty.failed) == ("tr-covers", 200, ["t-1", "t-2"])
    assert (penalty.content, penalty.assessed_on) == ("fault_repair", CLOSING_DAY)
