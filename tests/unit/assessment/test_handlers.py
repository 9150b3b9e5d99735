"""The assessment handlers on the in-memory store, with upstream facts and the cross-aggregate
reads as fakes: Given events, When a command from a caller, Then events or the refusal."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal

import pytest

from services.assessment import handlers
from services.assessment.domain import dispute, session
from services.assessment.domain.assessment import stream_id as sitting_stream
from services.assessment.domain.commands import OpenExamSession, ResolveDispute
from services.assessment.domain.events import registry
from services.assessment.domain.trainee_record import Enrolment
from services.assessment.domain.vocabulary import Disposition, DisputeOutcome
from services.assessment.history import DECISIONS
from services.assessment.policies import POLICIES
from services.assessment.upstream import KnownTrainee
from shared.auth import Role
from shared.decider import Conflict, Forbidden, NotFound, RuleViolation
from shared.execution import Aggregates
from shared.policy_store import PolicyShelf
from tests.unit.assessment.builders import DEPARTMENTS, EXAMPLE_A_PRACTICAL, TODAY
from tests.unit.fakes import aggregates, caller, lookup, recorded, types

TRAINEE = KnownTrainee(
    "t-1",
    "placed",
    Enrolment("dl-north", "branch_commissioned", "high_school", Decimal(4), 0, ("X1",)),
    (),
)
MANAGER = caller("mgr-1", Role.AFTER_SALES_MANAGER)
HR_EXAMINER = caller("exam-hr", Role.EXAMINER, department="hr")


def assessment(*known: KnownTrainee) -> handlers.Dependencies:
    """The handlers' dependencies over one in-memory store; the reads across aggregates that
    PostgreSQL answers by query are answered here from the store's log."""
    store = aggregates(registry)

    async def latest_decision(trainee_id: str):  # type: ignore[no-untyped-def]
        log = await store.store.read_all(0, 100_000)
        mine = [e for e in log if e.type in DECISIONS and e.data["trainee_id"] == trainee_id]
        return mine[-1] if mine else None

    async def session_outcomes(session_id: str) -> dict[str, bool]:
        return {}

    async def trainers_of(trainee_ids, series: str) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
        return {}

    return handlers.Dependencies(
        store,
        lookup({t.trainee_id: t for t in known}),
        latest_decision,
        session_outcomes,
        trainers_of,
        trainers_of,
        nullcontext,
        PolicyShelf(store.store, {p.name: p for p in POLICIES}),
    )


async def opened(deps: handlers.Dependencies, session_id: str = "s-1") -> None:
    command = OpenExamSession(session_id, "X1", TODAY, "mgr-1", TODAY)
    await handlers.open_session(deps, command, MANAGER)


async def sat(deps: handlers.Dependencies, written: str = "95") -> None:
    """The trainee's six scores in session s-1."""
    await handlers.score_written(deps, "s-1", "t-1", Decimal(written), HR_EXAMINER)
    for department, score in zip(DEPARTMENTS, EXAMPLE_A_PRACTICAL, strict=True):
        examiner = caller(f"exam-{department}", Role.EXAMINER, department=department)
        await handlers.score_practical(deps, "s-1", "t-1", department, Decimal(score), examiner)


def of(deps: handlers.Dependencies) -> Aggregates:
    return deps.aggregates


async def test_r15_only_after_sales_and_hr_examiners_grade_the_written_exam():
    deps = assessment(TRAINEE)
    await opened(deps)
    technical = caller("exam-tech", Role.EXAMINER, department="technical")
    with pytest.raises(Forbidden):
        await handlers.score_written(deps, "s-1", "t-1", Decimal(90), technical)
    assert await recorded(of(deps), sitting_stream("s-1", "t-1")) == []


async def test_scores_are_taken_in_an_open_session_only():
    deps = assessment(TRAINEE)
    with pytest.raises(NotFound):
        await handlers.score_written(deps, "s-1", "t-1", Decimal(90), HR_EXAMINER)
    await opened(deps)
    await handlers.close_session(deps, "s-1", MANAGER)
    with pytest.raises(Conflict):
        await handlers.score_written(deps, "s-1", "t-1", Decimal(90), HR_EXAMINER)
    assert types(await recorded(of(deps), session.stream_id("s-1"))) == [
        "ExamSessionOpened",
        "ExamSessionClosed",
    ]


async def test_the_sixth_score_grades_the_trainee_under_its_branch():
    deps = assessment(TRAINEE)
    await opened(deps)
    await sat(deps)
    events = await of(deps).store.read_stream(sitting_stream("s-1", "t-1"))
    assert [e.type for e in events] == ["ExamScored"] * 6 + ["GradeAssigned"]
    assert {e.branch_id for e in events} == {"dl-north"}
    assert events[-1].policy_version is not None  # replayable under its policy


async def test_r18_a_disposition_needs_an_assessment_decision():
    deps = assessment(TRAINEE)
    with pytest.raises(RuleViolation) as caught:
        await handlers.decide_disposition(
            deps, "t-1", None, Disposition.CONTINUE_TRAINING, "retake", MANAGER
        )
    assert caught.value.rule == "R-18"


async def test_r23_a_corrected_dispute_supersedes_the_grade_beside_its_resolution():
    deps = assessment(TRAINEE)
    await opened(deps)
    await sat(deps, written="95")
    trainee = caller("t-1", Role.TRAINEE)
    filed = await handlers.file_dispute(deps, "t-1", "the written score is wrong", trainee)
    assert filed.state.filed is not None
    dispute_id = filed.state.filed.dispute_id
    resolve = ResolveDispute(
        dispute_id, DisputeOutcome.CORRECTED, Decimal(80), None, "mgr-1", TODAY
    )
    await handlers.resolve_dispute(deps, resolve, MANAGER)
    assert types(await recorded(of(deps), dispute.stream_id(dispute_id))) == [
        "GradeDisputed",
        "GradeDisputeResolved",
    ]
    sitting = await recorded(of(deps), sitting_stream("s-1", "t-1"))
    assert types(sitting)[-2:] == ["GradeAssigned", "GradeAssigned"]


async def test_r23_a_caller_who_may_not_see_the_trainee_learns_nothing_of_it():
    deps = assessment(TRAINEE)
    other_branch = caller("clerk-9", Role.BRANCH_CLERK, branch_id="sh-east")
    with pytest.raises(NotFound):
        await handlers.file_dispute(deps, "t-1", "unfair", other_branch)
    assert await of(deps).store.head_position() == 0
