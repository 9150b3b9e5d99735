"""R-14 mastered series and R-24 trainers from upstream events: the pure fold the consumer and
the audit share."""

from __future__ import annotations

from decimal import Decimal

from services.assessment.domain.trainee_record import (
    TraineeRecord,
    evolve_record,
    evolve_stages,
    mastered_series,
    trainers_on,
)
from services.assessment.domain.vocabulary import Education


def spec(no, series=None, trainer="tr-1", content="content"):
    return {"no": no, "content": content, "department": "technical", "trainer_id": trainer,
            "product_series": series, "topic": "product", "planned_start": "2026-03-01",
            "planned_end": "2026-03-05"}  # fmt: skip


def drafted(*specs):
    return evolve_stages((), "PlanDrafted", {"trainee_id": "t-1", "stages": list(specs)})


def sign(stages, no):
    return evolve_stages(stages, "StageSignedOff", {"trainee_id": "t-1", "stage_no": no,
                                                    "trainer_id": "tr-1"})  # fmt: skip


def send_back(stages, to):
    return evolve_stages(stages, "StageReturned", {"trainee_id": "t-1", "from_stage": 9,
                                                   "to_stage": to})  # fmt: skip


def test_a_series_is_mastered_when_every_stage_covering_it_is_signed_off_r14():
    stages = drafted(spec(1, "X2"), spec(2, "X2"), spec(3, "X3"), spec(4))
    assert mastered_series([], sign(stages, 1)) == []
    assert mastered_series([], sign(sign(stages, 1), 2)) == ["X2"]


def test_a_send_back_unmasters_the_series_until_signed_again_r12():
    stages = sign(sign(drafted(spec(1, "X2"), spec(2, "X2")), 1), 2)
    reopened = send_back(stages, 1)
    assert mastered_series([], reopened) == []
    assert [s.reopened for s in reopened] == [True, False]
    assert mastered_series([], sign(reopened, 1)) == ["X2"]


def test_series_mastered_at_enrollment_stay_mastered_even_when_a_stage_reopens():
    stages = send_back(sign(drafted(spec(1, "X1")), 1), 1)
    assert mastered_series(["X1", "X9"], stages) == ["X1", "X9"]


def test_a_redraft_keeps_identical_rows_signed_and_resets_changed_ones():
    stages = sign(sign(drafted(spec(1, "X2"), spec(2, "X3")), 1), 2)
    redrafted = evolve_stages(stages, "PlanDrafted",
                              {"stages": [spec(1, "X2"), spec(2, "X3", content="new")]})  # fmt: skip
    assert [s.signed for s in redrafted] == [True, False]
    assert mastered_series([], redrafted) == ["X2"]


def test_trainers_on_a_series_are_the_leads_of_its_stages_r24():
    stages = drafted(spec(1, "X1", "tr-1"), spec(2, "X1", "tr-2"), spec(3, "X2", "tr-3"))
    assert trainers_on(stages, "X1") == {"tr-1", "tr-2"}
    assert trainers_on(stages, "X9") == set()


def test_the_record_folds_enrolment_and_plan_into_grading_facts():
    record = TraineeRecord()
    assert record.facts() is None
    enrolled = {"trainee_id": "t-1", "branch_id": "hq", "education": "high_school",
                "experience_years": "4", "certificates": ["licence"], "product_series": ["X1"],
                "unknown_future_field": 1}  # fmt: skip
    for event_type, data in [
        ("TraineeEnrolled", enrolled),
        ("PlanDrafted", {"stages": [spec(1, "X2")]}),
        ("TrainingDayLogged", {"stage_no": 1}),  # kept, changes nothing here
        ("StageSignedOff", {"stage_no": 1, "trainer_id": "tr-1"}),
    ]:
        record = evolve_record(record, event_type, data)
    facts = record.facts()
    assert facts is not None
    assert (facts.education, facts.experience_years) == (Education.HIGH_SCHOOL, Decimal(4))
    assert (facts.certificates, facts.mastered_series) == (["licence"], ["X1", "X2"])
