"""R-14 mastered series and R-24 trainers from upstream events: the pure fold the consumer and
the audit share."""

from __future__ import annotations

from decimal import Decimal

from services.assessment.domain.trainee_record import (
    PlanFacts,
    TraineeRecord,
    evolve_plan,
    evolve_record,
    mastered_series,
    trainers_on,
)
from services.assessment.domain.vocabulary import Education


def spec(no, series=None, trainer="tr-1", content="content"):
    return {
        "no": no,
        "content": content,
        "department": "technical",
        "trainer_id": trainer,
        "product_series": series,
        "topic": "product",
        "planned_start": "2026-03-01",
        "planned_end": "2026-03-05",
    }


NO_PLAN = PlanFacts()


def drafted(*specs, plan=NO_PLAN):
    """The stages in force once ``specs`` are drafted and approved (R-9)."""
    plan = evolve_plan(plan, "PlanDrafted", {"trainee_id": "t-1", "stages": list(specs)})
    return evolve_plan(plan, "PlanApproved", {"trainee_id": "t-1"})


def sign(plan, no):
    return evolve_plan(
        plan, "StageSignedOff", {"trainee_id": "t-1", "stage_no": no, "trainer_id": "tr-1"}
    )


def send_back(plan, to):
    return evolve_plan(
        plan, "StageReturned", {"trainee_id": "t-1", "from_stage": 9, "to_stage": to}
    )


def test_a_series_is_mastered_when_every_stage_covering_it_is_signed_off_r14():
    plan = drafted(spec(1, "X2"), spec(2, "X2"), spec(3, "X3"), spec(4))
    assert mastered_series([], sign(plan, 1).in_force) == []
    assert mastered_series([], sign(sign(plan, 1), 2).in_force) == ["X2"]


def test_a_send_back_unmasters_the_series_until_signed_again_r12():
    plan = sign(sign(drafted(spec(1, "X2"), spec(2, "X2")), 1), 2)
    reopened = send_back(plan, 1)
    assert mastered_series([], reopened.in_force) == []
    assert [s.reopened for s in reopened.in_force] == [True, False]
    assert mastered_series([], sign(reopened, 1).in_force) == ["X2"]


def close_return(plan, no):
    data = {"trainee_id": "t-1", "stage_no": no, "returned_from": 9, "accepted_by": "tr-9"}
    return evolve_plan(plan, "ReturnClosed", data)


def test_an_accepted_explanation_signs_the_returned_stage_again_r12a():
    plan = sign(sign(drafted(spec(1, "X2"), spec(2, "X2")), 1), 2)
    closed = close_return(send_back(plan, 1), 1)
    assert [(s.signed, s.reopened) for s in closed.in_force] == [(True, False), (True, False)]
    assert mastered_series([], closed.in_force) == ["X2"]
    assert mastered_series([], closed.drafted) == ["X2"]


def test_the_audit_replay_reads_an_accepted_explanation_as_the_consumer_does_r12a():
    record = TraineeRecord()
    events = [
        ("PlanDrafted", {"stages": [spec(1, "X2")]}),
        ("PlanApproved", {"revision": 1}),
        ("StageSignedOff", {"stage_no": 1, "trainer_id": "tr-1"}),
        ("StageReturned", {"from_stage": 9, "to_stage": 1}),
        ("ReturnExplained", {"stage_no": 1, "explanation": "reached"}),
        ("ReturnClosed", {"stage_no": 1, "returned_from": 9}),
    ]
    for event_type, data in events:
        record = evolve_record(record, event_type, data)
    assert mastered_series([], record.plan.in_force) == ["X2"]


def test_series_mastered_at_enrollment_stay_mastered_even_when_a_stage_reopens():
    plan = send_back(sign(drafted(spec(1, "X1")), 1), 1)
    assert mastered_series(["X1", "X9"], plan.in_force) == ["X1", "X9"]


def test_a_redraft_keeps_identical_rows_signed_and_resets_changed_ones():
    plan = sign(sign(drafted(spec(1, "X2"), spec(2, "X3")), 1), 2)
    redrafted = drafted(spec(1, "X2"), spec(2, "X3", content="new"), plan=plan)
    assert [s.signed for s in redrafted.in_force] == [True, False]
    assert mastered_series([], redrafted.in_force) == ["X2"]


def test_trainers_on_a_series_are_the_leads_of_its_stages_r24():
    plan = drafted(spec(1, "X1", "tr-1"), spec(2, "X1", "tr-2"), spec(3, "X2", "tr-3"))
    assert trainers_on(plan.drafted, "X1") == {"tr-1", "tr-2"}
    assert trainers_on(plan.drafted, "X9") == set()


def test_the_record_folds_enrolment_and_plan_into_grading_facts():
    record = TraineeRecord()
    assert record.facts() is None
    enrolled = {
        "trainee_id": "t-1",
        "branch_id": "hq",
        "education": "high_school",
        "experience_years": "4",
        "certificates": ["licence"],
        "product_series": ["X1"],
        "unknown_future_field": 1,
    }
    for event_type, data in [
        ("TraineeEnrolled", enrolled),
        ("PlanDrafted", {"stages": [spec(1, "X2")]}),
        ("PlanApproved", {"revision": 1}),
        ("TrainingDayLogged", {"stage_no": 1}),  # kept, changes nothing here
        ("StageSignedOff", {"stage_no": 1, "trainer_id": "tr-1"}),
    ]:
        record = evolve_record(record, event_type, data)
    facts = record.facts()
    assert facts is not None
    assert (facts.education, facts.experience_years) == (Education.HIGH_SCHOOL, Decimal(4))
    assert (facts.certificate_count, facts.mastered_series) == (1, ["X1", "X2"])


def test_the_facts_count_certificates_from_the_clear_count_never_from_the_sealed_names():
    """Issue 19: enrollment's TraineeEnrolled v2 carries a clear ``certificate_count`` beside the
    sealed names, which read as one marker once the trainee is erased; a v1 enrolment's clear
    list is counted (distinct), so eligibility never depends on the names."""
    base = {"trainee_id": "t-1", "branch_id": "hq", "education": "high_school"}
    sealed = {**base, "certificate_count": 2, "certificates": "gl-enc:1:j:t-1:abc"}
    erased = {**base, "certificate_count": 2, "certificates": ["[erased]"]}
    v1 = {**base, "certificates": ["licence", "welder", "licence"]}
    counts = [
        evolve_record(TraineeRecord(), "TraineeEnrolled", d).facts() for d in (sealed, erased, v1)
    ]
    assert [f.certificate_count for f in counts if f is not None] == [2, 2, 2]


# --- R-9 with R-14 and R-21: only the approved revision of the plan counts -------------------

ENROLLED = {
    "trainee_id": "t-1",
    "branch_id": "hq",
    "education": "high_school",
    "experience_years": "4",
    "certificates": [],
    "product_series": ["X1"],
}


def record_of(*events):
    record = TraineeRecord()
    for event_type, data in [("TraineeEnrolled", ENROLLED), *events]:
        record = evolve_record(record, event_type, data)
    return record


def plan(revision, *specs):
    return ("PlanDrafted", {"trainee_id": "t-1", "revision": revision, "stages": list(specs)})


def approval(revision):
    return ("PlanApproved", {"trainee_id": "t-1", "revision": revision})


def signed(no):
    return ("StageSignedOff", {"trainee_id": "t-1", "stage_no": no, "trainer_id": "tr-1"})


def test_r9_r14_an_unapproved_redraft_dropping_an_open_stage_does_not_master_its_series():
    # Given an approved plan teaching X2 in stages 1 and 2, stage 1 signed off
    history = [plan(1, spec(1, "X2"), spec(2, "X2")), approval(1), signed(1)]
    # When a re-draft drops the open stage 2 and awaits approval
    history.append(plan(2, spec(1, "X2")))
    # Then X2 is not mastered (R-21 counts one series) until that revision is approved
    assert record_of(*history).facts().mastered_series == ["X1"]
    assert record_of(*history, approval(2)).facts().mastered_series == ["X1", "X2"]


def test_r9_r14_an_unapproved_stage_added_to_a_series_does_not_unmaster_it():
    # Given an approved plan whose one X2 stage is signed off: X2 mastered
    history = [plan(1, spec(1, "X2")), approval(1), signed(1)]
    assert record_of(*history).facts().mastered_series == ["X1", "X2"]
    # When a re-draft adds a second X2 stage and awaits approval
    history.append(plan(2, spec(1, "X2"), spec(2, "X2")))
    # Then X2 stays mastered until the new revision is approved
    assert record_of(*history).facts().mastered_series == ["X1", "X2"]
    assert record_of(*history, approval(2)).facts().mastered_series == ["X1"]


def test_r9_a_plan_drafted_but_never_approved_counts_for_nothing():
    assert record_of(plan(1, spec(1, "X2"))).facts().mastered_series == ["X1"]


# --- R-18a: a remedial revision keeps the completed stages ------------------------------------


def test_r18a_a_remedial_revision_keeps_the_completed_stages_signed_and_their_series_mastered():
    # Given a completed plan: its one X2 stage signed off (drafted before R-7a: no covers)
    history = [plan(1, spec(1, "X2")), approval(1), signed(1)]
    # When a remedial revision keeps it (now serialised with covers) and adds an X3 stage
    remedial = ("PlanDrafted", {**plan(2)[1], "remedial": True})
    remedial[1]["stages"] = [{**spec(1, "X2"), "covers": []}, {**spec(2, "X3"), "covers": ["x"]}]
    history += [remedial, approval(2)]
    # Then X2 stays mastered (R-14), X3 awaits its stage's sign-off
    assert record_of(*history).facts().mastered_series == ["X1", "X2"]
    assert record_of(*history, signed(2)).facts().mastered_series == ["X1", "X2", "X3"]
