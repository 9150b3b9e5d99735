"""Write routes of the assessment service (api-contract.md, "assessment"). Thin: role checks,
request -> command -> :mod:`.handlers` -> response; the rules live in ``domain/``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from shared.auth import Role
from shared.commands import Write, writer
from shared.decider import NotFound
from shared.problems import forbidden, not_found

from .audiences import DISPUTE_FILING
from .domain import dispute, session
from .domain.commands import (
    CloseExamSession,
    DecideDisposition,
    FileDispute,
    OpenExamSession,
    ResolveDispute,
    ScorePractical,
    ScoreWritten,
)
from .domain.events import TrainerPenaltyAssessed, registry
from .domain.scoring import check_department
from .domain.vocabulary import Department, DisputeOutcome
from .facts import find_trainee, known_trainee, trainee_to_examine, trainers_of
from .handlers import (
    assess,
    correct_grade,
    current_decision,
    dispute_state,
    disputed_grade,
    new_dispute_id,
    open_session,
    pinned,
    run,
    session_of_latest_decision,
    session_state,
)
from .history import session_outcomes
from .policy.grading import GRADING
from .schemas import (
    DispositionBody,
    DisputeBody,
    EmptyBody,
    IdPath,
    OpenSessionBody,
    PracticalBody,
    ResolveBody,
    WrittenBody,
    decision_json,
    dispute_json,
    penalty_json,
    session_json,
    sitting_json,
)

router = APIRouter(tags=["assessment"])
JsonDict = dict[str, Any]

MANAGER_ROLES = (Role.AFTER_SALES_MANAGER,)
# The role a dispute's actor is recorded under, first held first.
DISPUTANTS = (Role.TRAINEE, Role.BRANCH_CLERK, Role.AFTER_SALES_MANAGER)
# Each write resolves the caller with one of the roles, Idempotency-Key, If-Match and now as ONE
# dependency (handlers.writer): 401/403 before anything else, as before.
ManagerWrite = Annotated[Write, writer(*MANAGER_ROLES)]
ExaminerWrite = Annotated[Write, writer(Role.EXAMINER)]
DisputantWrite = Annotated[Write, writer(*DISPUTE_FILING.roles)]
# the written exam is graded by after-sales and HR (api-contract.md, "Conventions").
WRITTEN_GRADERS = frozenset({Department.AFTER_SALES, Department.HR})


@router.post("/sessions", status_code=201)
async def open_exam_session(body: OpenSessionBody, write: ManagerWrite) -> JsonDict:
    """Open an exam session for one product series (ExamSessionOpened)."""
    command = OpenExamSession(body.session_id, body.product_series, body.held_on,
                              write.principal.sub, write.today)  # fmt: skip
    outcome = await run(write, session.EXAM_SESSION, session.stream_id(body.session_id), command,
                        write.meta_as(None, MANAGER_ROLES), expected=write.expected)  # fmt: skip
    write.response.headers["Location"] = f"/sessions/{body.session_id}"
    return session_json(body.session_id, outcome.state, write.shown(outcome.version))


@router.post("/sessions/{session_id}/written", status_code=201)
async def score_written(session_id: IdPath, body: WrittenBody, write: ExaminerWrite) -> JsonDict:
    """R-15: the written score (ExamScored kind=written); with the sixth score, the decision."""
    principal = write.principal
    if principal.department not in WRITTEN_GRADERS:
        raise forbidden("the written exam is graded by after_sales or hr examiners (R-15)")
    await open_session(write, session_id)
    trainee = await trainee_to_examine(write.request.app.state, body.trainee_id)
    command = ScoreWritten(session_id, body.trainee_id, body.score, principal.sub, trainee.facts,
                           write.now)  # fmt: skip
    outcome = await assess(write, session_id, body.trainee_id, command, trainee.branch_id,
                           (Role.EXAMINER,))  # fmt: skip
    return sitting_json(session_id, body.trainee_id, outcome.state, outcome.version)


@router.post("/sessions/{session_id}/practical", status_code=201)
async def score_practical(
    session_id: IdPath, body: PracticalBody, write: ExaminerWrite
) -> JsonDict:
    """R-16: one department's practical score, posted by an examiner of that department."""
    principal = write.principal
    department = check_department("department", body.department, GRADING.in_force(write.today))
    if principal.department != department:
        raise forbidden(f"only an examiner of {department} posts its practical score (R-16)")
    await open_session(write, session_id)
    trainee = await trainee_to_examine(write.request.app.state, body.trainee_id)
    command = ScorePractical(session_id, body.trainee_id, department, body.score, principal.sub,
                             trainee.facts, write.now)  # fmt: skip
    outcome = await assess(write, session_id, body.trainee_id, command, trainee.branch_id,
                           (Role.EXAMINER,))  # fmt: skip
    return sitting_json(session_id, body.trainee_id, outcome.state, outcome.version)


@router.post("/trainees/{trainee_id}/disposition")
async def decide_disposition(
    trainee_id: IdPath, body: DispositionBody, write: ManagerWrite
) -> JsonDict:
    """R-18: what becomes of a trainee who failed (DispositionDecided)."""
    trainee = await known_trainee(write.request.app.state, trainee_id)
    session_id = body.session_id or await session_of_latest_decision(write, trainee_id)
    command = DecideDisposition(session_id, trainee_id, body.outcome, body.reason,
                                write.principal.sub, write.today)  # fmt: skip
    outcome = await assess(write, session_id, trainee_id, command, trainee.branch_id,
                           MANAGER_ROLES)  # fmt: skip
    decided = outcome.state.disposition
    assert decided is not None
    return {
        "trainee_id": trainee_id, "session_id": session_id, "outcome": decided.outcome,
        "reason": decided.reason, "decided_on": decided.decided_on, "version": outcome.version,
    }  # fmt: skip


@router.post("/sessions/{session_id}/close")
async def close_exam_session(
    session_id: IdPath, write: ManagerWrite, body: EmptyBody | None = None
) -> JsonDict:
    """Close the session; R-24 assesses every trainer of its series (TrainerPenaltyAssessed)."""
    stream = session.stream_id(session_id)
    state, version = await session_state(write, session_id)
    pinned(write, stream, version)
    opened = session.require_open(state, session_id)
    outcomes = await session_outcomes(write.pool, session_id)
    trainers = await trainers_of(write.pool, list(outcomes), opened.product_series)
    command = CloseExamSession(session_id, write.today, outcomes, trainers)
    outcome = await run(write, session.EXAM_SESSION, stream, command,
                        write.meta_as(None, MANAGER_ROLES), expected=write.expected)  # fmt: skip
    recorded = registry.decode_all(await write.store.read_stream(stream))
    penalties = [e for e in recorded if isinstance(e, TrainerPenaltyAssessed)]
    return {
        **session_json(session_id, outcome.state, write.shown(outcome.version)),
        "penalties": [penalty_json(p) for p in penalties],
    }


@router.post("/trainees/{trainee_id}/disputes", status_code=201)
async def file_dispute(trainee_id: IdPath, body: DisputeBody, write: DisputantWrite) -> JsonDict:
    """R-23: dispute the trainee's current grade (GradeDisputed); answers the new dispute id."""
    principal = write.principal
    trainee = await find_trainee(write.request.app.state, trainee_id)
    if trainee is None or not DISPUTE_FILING.sees(
        principal, branch_id=trainee.branch_id, person_id=trainee_id
    ):
        raise not_found(f"no trainee {trainee_id}")
    session_id, grade_event_id = await disputed_grade(write, trainee_id)
    dispute_id = new_dispute_id(write.idempotency_key)
    command = FileDispute(dispute_id, trainee_id, session_id, grade_event_id, body.reason,
                          principal.sub, write.today)  # fmt: skip
    outcome = await run(write, dispute.GRADE_DISPUTE, dispute.stream_id(dispute_id), command,
                        write.meta_as(trainee.branch_id, DISPUTANTS))  # fmt: skip
    write.response.headers["Location"] = f"/disputes/{dispute_id}"
    return dispute_json(dispute_id, outcome.state, write.shown(outcome.version))


@router.post("/disputes/{dispute_id}/resolve")
async def resolve_dispute(dispute_id: IdPath, body: ResolveBody, write: ManagerWrite) -> JsonDict:
    """R-23: uphold, or correct the scores: then a new decision supersedes the disputed grade,
    appended in the same transaction as the resolution (the first decision stays recorded)."""
    state, _ = await dispute_state(write, dispute_id)
    filed = state.filed
    if filed is None:
        raise NotFound(f"no dispute {dispute_id}")
    trainee = await find_trainee(write.request.app.state, filed.trainee_id)
    meta = write.meta_as(trainee.branch_id if trainee else None, MANAGER_ROLES)
    command = ResolveDispute(dispute_id, body.outcome, body.written, body.practical,
                             write.principal.sub, write.today)  # fmt: skip
    async with write.pool.acquire() as conn, conn.transaction():
        outcome = await run(write, dispute.GRADE_DISPUTE, dispute.stream_id(dispute_id), command,
                            meta, expected=write.expected, conn=conn)  # fmt: skip
        resolution = outcome.state.resolution
        if outcome.events and resolution.outcome is DisputeOutcome.CORRECTED:
            await correct_grade(write, conn, filed, resolution, meta)
    grade = await current_decision(write, filed.session_id, filed.trainee_id)
    return {
        **dispute_json(dispute_id, outcome.state, write.shown(outcome.version)),
        "grade": decision_json(grade),
    }
