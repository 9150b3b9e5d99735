"""What assessment knows of a trainee (services/assessment/upstream.py): its enrolment facts and
current plan stages, read together for concurrent commands."""

from __future__ import annotations

import asyncio

from services.assessment.domain.trainee_record import PlanStage
from services.assessment.upstream import find_trainee


async def test_facts_and_stages_come_together_in_stage_order_for_concurrent_lookups(svc):
    await svc.enrol("t-1", series=("X1",), certificates=("welder",))
    await svc.plan("t-1", [(2, "X2", "tr-b"), (1, "X1", "tr-a"), (3, None, "tr-c")])
    await svc.sign("t-1", 1, "tr-a", "X1")
    await svc.enrol("t-2", branch="dl-south")  # no plan yet
    state = svc.service.app.state

    one, two, nobody, again = await asyncio.gather(
        find_trainee(state, "t-1"),
        find_trainee(state, "t-2"),
        find_trainee(state, "t-unknown"),
        find_trainee(state, "t-1"),
    )

    assert one is not None and two is not None
    assert (one.trainee_id, one.status, one.branch_id) == ("t-1", "enrolled", "dl-north")
    assert one.enrolment.certificate_count == 1  # a count: the names are never kept here
    assert one.enrolment.product_series == ("X1",)
    assert [(s.no, s.trainer_id, s.product_series, s.signed) for s in one.stages] == [
        (1, "tr-a", "X1", True),
        (2, "tr-b", "X2", False),
        (3, "tr-c", None, False),
    ]
    assert all(isinstance(s, PlanStage) and s.spec.startswith("{") for s in one.stages)
    assert (two.branch_id, two.stages) == ("dl-south", ())
    assert nobody is None
    assert again == one


async def test_r9_r21_an_unapproved_redraft_dropping_an_open_stage_lifts_no_cap(svc):
    """Assessment learns the plan from training's events: a re-draft awaiting approval that
    drops X3's open stage does not make X3 mastered, so the R-21 engineer cap (3 series) holds."""
    await svc.enrol("t-1", series=("X1", "X2"))
    await svc.plan("t-1", [(1, "X3", "tr-a"), (2, "X3", "tr-b")])
    await svc.sign("t-1", 1, "tr-a", "X3")
    await svc.plan("t-1", [(1, "X3", "tr-a")], revision=2, approve=False)
    assert (await svc.open_session("s-1", "X1")).status_code == 201
    await svc.sit("s-1", "t-1")  # worked example A's scores: 95.5, an engineer's band

    grade = await svc.grade("t-1")
    assert grade.status_code == 200, grade.text
    assert (grade.json()["position"], grade.json()["level"]) == ("technician", "senior")

    await svc.upstream("training", "plan-t-1", "PlanApproved", {"trainee_id": "t-1", "revision": 2})
    known = await find_trainee(svc.service.app.state, "t-1")
    assert known is not None and known.facts.mastered_series == ["X1", "X2", "X3"]


async def test_r9_r14_an_unapproved_stage_added_unmasters_nothing(svc):
    await svc.enrol("t-1", series=("X1",))
    await svc.plan("t-1", [(1, "X2", "tr-a")])
    await svc.sign("t-1", 1, "tr-a", "X2")
    await svc.plan("t-1", [(1, "X2", "tr-a"), (2, "X2", "tr-b")], revision=2, approve=False)
    known = await find_trainee(svc.service.app.state, "t-1")
    assert known is not None and known.facts.mastered_series == ["X1", "X2"]
