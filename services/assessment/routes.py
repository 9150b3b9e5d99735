"""Write routes of the assessment service (docs/http.md, "assessment"). Thin: role checks,
request -> command -> :mod:`.handlers` -> response; the rules live in ``domain/`` and who may
act on which trainee in the handlers."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter

from shared.auth import Role
from shared.commands import Write, writer
from shared.events import JsonDict
from shared.execution import transaction
from shared.policy_store import shelf_of

from . import handlers
from .domain.commands import OpenExamSession, ResolveDispute
from .domain.events import registry
from .history import latest_decision, session_outcomes
from .reads import current_decision, session_penalties
from .schemas import (
    ClosedSessionAnswer,
    DispositionAnswer,
    DispositionBody,
    DisputeAnswer,
    DisputeBody,
    EmptyBody,
    IdPath,
    OpenSessionBody,
    PracticalBody,
    ResolveBody,
    ResolvedDisputeAnswer,
    SessionAnswer,
    SittingAnswer,
    WrittenBody,
    decision_json,
    dispute_json,
    penalty_json,
    session_json,
    sitting_json,
)
from .upstream import find_trainee, trainers_covering_content, trainers_of

router = APIRouter(tags=["assessment"])

# Each write resolves the caller with one of the roles, Idempotency-Key, If-Match and now as ONE
# dependency (shared.commands.writer): 401/403 before anything else. A dispute admits the roles
# of audiences.DISPUTE_FILING, and records the first of them the caller holds.
ManagerWrite = Annotated[Write, writer(Role.AFTER_SALES_MANAGER)]
ExaminerWrite = Annotated[Write, writer(Role.EXAMINER)]
DISPUTANTS = (Role.TRAINEE, Role.BRANCH_CLERK, Role.AFTER_SALES_MANAGER)
DisputantWrite = Annotated[Write, writer(*DISPUTANTS)]


def dependencies(write: Write) -> handlers.Dependencies:
    """The handlers' dependencies, from the app the request came to."""
    state = write.app_state
    return handlers.Dependencies(
        aggregates=write.aggregates(registry),
        find_trainee=partial(find_trainee, state),
        latest_decision=partial(latest_decision, state.pool),
        session_outcomes=partial(session_outcomes, state.pool),
        trainers_of=partial(trainers_of, state.pool),
        trainers_covering=partial(trainers_covering_content, state.pool),
        transaction=partial(transaction, state.pool),
        policies=shelf_of(state),
    )


@router.post("/sessions", status_code=201, response_model=SessionAnswer)
async def open_exam_session(body: OpenSessionBody, write: ManagerWrite) -> JsonDict:
    """Open an exam session for one product series or one training content (ExamSessionOpened)."""
    command = OpenExamSession(
        body.session_id,
        body.product_series,
        body.held_on,
        write.actor_id,
        write.today,
        content=body.content,
    )
    outcome = await handlers.open_session(dependencies(write), command, write)
    write.located(f"/sessions/{body.session_id}")
    return session_json(body.session_id, outcome.state, write.shown(outcome.version))


@router.post("/sessions/{session_id}/written", status_code=201, response_model=SittingAnswer)
async def score_written(session_id: IdPath, body: WrittenBody, write: ExaminerWrite) -> JsonDict:
    """R-15: the written score (ExamScored kind=written); with the sixth score, the decision."""
    outcome = await handlers.score_written(
        dependencies(write), session_id, body.trainee_id, body.score, write
    )
    version = write.shown(outcome.version)
    return sitting_json(session_id, body.trainee_id, outcome.state, version)


@router.post("/sessions/{session_id}/practical", status_code=201, response_model=SittingAnswer)
async def score_practical(
    session_id: IdPath, body: PracticalBody, write: ExaminerWrite
) -> JsonDict:
    """R-16: one department's practical score, posted by an examiner of that department."""
    outcome = await handlers.score_practical(
        dependencies(write), session_id, body.trainee_id, body.department, body.score, write
    )
    version = write.shown(outcome.version)
    return sitting_json(session_id, body.trainee_id, outcome.state, version)


@router.post("/trainees/{trainee_id}/disposition", response_model=DispositionAnswer)
async def decide_disposition(
    trainee_id: IdPath, body: DispositionBody, write: ManagerWrite
) -> JsonDict:
    """R-18: what becomes of a trainee who failed (DispositionDecided)."""
    outcome = await handlers.decide_disposition(
        dependencies(write), trainee_id, body.session_id, body.outcome, body.reason, write
    )
    decided = outcome.state.disposition
    assert decided is not None
    return {
        "trainee_id": trainee_id,
        "session_id": outcome.state.session_id,
        "outcome": decided.outcome,
        "reason": decided.reason,
        "decided_on": decided.decided_on,
        "version": write.shown(outcome.version),
    }


@router.post("/sessions/{session_id}/close", response_model=ClosedSessionAnswer)
async def close_exam_session(
    session_id: IdPath, write: ManagerWrite, body: EmptyBody | None = None
) -> JsonDict:
    """Close the session; R-24 assesses every trainer of its series or content
    (TrainerPenaltyAssessed)."""
    deps = dependencies(write)
    outcome = await handlers.close_session(deps, session_id, write)
    penalties = await session_penalties(deps.aggregates, session_id)
    return {
        **session_json(session_id, outcome.state, write.shown(outcome.version)),
        "penalties": [penalty_json(p) for p in penalties],
    }


@router.post("/trainees/{trainee_id}/disputes", status_code=201, response_model=DisputeAnswer)
async def file_dispute(trainee_id: IdPath, body: DisputeBody, write: DisputantWrite) -> JsonDict:
    """R-23: dispute the trainee's current grade (GradeDisputed); answers the new dispute id."""
    outcome = await handlers.file_dispute(dependencies(write), trainee_id, body.reason, write)
    assert outcome.state.filed is not None
    dispute_id = outcome.state.filed.dispute_id
    write.located(f"/disputes/{dispute_id}")
    return dispute_json(dispute_id, outcome.state, write.shown(outcome.version))


@router.post("/disputes/{dispute_id}/resolve", response_model=ResolvedDisputeAnswer)
async def resolve_dispute(dispute_id: IdPath, body: ResolveBody, write: ManagerWrite) -> JsonDict:
    """R-23: uphold, or correct the scores: then a new decision supersedes the disputed grade,
    appended in the same transaction as the resolution (the first decision stays recorded)."""
    command = ResolveDispute(
        dispute_id, body.outcome, body.written, body.practical, write.actor_id, write.today
    )
    deps = dependencies(write)
    outcome = await handlers.resolve_dispute(deps, command, write)
    filed = outcome.state.filed
    assert filed is not None
    grade = await current_decision(deps.aggregates, filed.session_id, filed.trainee_id)
    return {
        **dispute_json(dispute_id, outcome.state, write.shown(outcome.version)),
        "grade": decision_json(grade),
    }
