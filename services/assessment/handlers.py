"""Load -> decide -> append for the assessment commands (:mod:`shared.execution`), one function
per command.

Each handler takes its dependencies explicitly (:class:`Dependencies`), the command or the
request's values and the :class:`CommandContext` (who asks, under which key, on which version,
when), and returns the :class:`Outcome`. A command that needs facts from other aggregates or
from upstream (the trainee's R-21 facts, the session's outcomes, who trained whom, the grade a
dispute is about) is built here, where those are gathered. Assessment events carry the
trainee's branch; session events concern no one branch.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from shared.commands import CommandContext
from shared.decider import Conflict, Forbidden, NotFound, RuleViolation
from shared.events import Envelope
from shared.eventstore import ConcurrencyError
from shared.execution import Aggregates, Metadata, Outcome
from shared.policy_store import PolicyShelf

from .audiences import DISPUTE_FILING
from .domain import assessment, dispute, session
from .domain.assessment import TRAINEE_ASSESSMENT, TraineeAssessment
from .domain.commands import (
    AssessmentCommand,
    CloseExamSession,
    CorrectGrade,
    DecideDisposition,
    FileDispute,
    OpenExamSession,
    ResolveDispute,
    ScorePractical,
    ScoreWritten,
)
from .domain.dispute import GRADE_DISPUTE, GradeDispute
from .domain.events import ExamSessionOpened, GradeDisputed, GradeDisputeResolved
from .domain.scoring import check_department
from .domain.session import EXAM_SESSION, ExamSession
from .domain.vocabulary import Department, Disposition, DisputeOutcome
from .history import DECISIONS
from .upstream import FindTrainee, KnownTrainee, known_trainee, trainee_to_examine

# the written exam is graded by after-sales and HR (docs/http.md, "Conventions").
WRITTEN_GRADERS = frozenset({Department.AFTER_SALES, Department.HR})


# (trainees, series or content) -> for each trainee, the trainers who taught it that.
TrainersOf = Callable[[Collection[str], str], Awaitable[dict[str, set[str]]]]


@dataclass(frozen=True, slots=True)
class Dependencies:
    aggregates: Aggregates
    find_trainee: FindTrainee  # the trainees whose enrolment arrived, with their plan (upstream)
    # The service's own storage across aggregates (history.py, upstream.py):
    latest_decision: Callable[[str], Awaitable[Envelope | None]]  # by trainee
    session_outcomes: Callable[[str], Awaitable[dict[str, bool]]]  # by session: passed?
    trainers_of: TrainersOf  # by series
    trainers_covering: TrainersOf  # by content (R-7a code or R-8a topic)
    transaction: Callable[[], AbstractAsyncContextManager[Any]]  # yields the ``conn`` to use
    policies: PolicyShelf  # the app's books: what a command decides with (docs/policy.md)


def pinned(context: CommandContext, stream: str, version: int) -> None:
    """``If-Match`` on an aggregate the handler read but does not append to: 412 when stale."""
    if context.expected is not None and context.expected != version:
        raise ConcurrencyError(stream, context.expected, version)


# --- exam sessions --------------------------------------------------------------------------


async def open_session(
    deps: Dependencies, command: OpenExamSession, context: CommandContext
) -> Outcome[ExamSession]:
    """Open an exam session for one product series (ExamSessionOpened)."""
    stream = session.stream_id(command.session_id)
    return await deps.aggregates.execute(
        EXAM_SESSION, stream, command, context.meta(None), expected_version=context.expected
    )


async def close_session(
    deps: Dependencies, session_id: str, context: CommandContext
) -> Outcome[ExamSession]:
    """Close the session; R-24 assesses every trainer of its series or content
    (TrainerPenaltyAssessed)."""
    stream = session.stream_id(session_id)
    state, version = await deps.aggregates.load(EXAM_SESSION, stream)
    pinned(context, stream, version)
    opened = session.require_open(state, session_id)
    outcomes = await deps.session_outcomes(session_id)
    trainers = await _trainers(deps, opened, list(outcomes))
    fines = await deps.policies.in_force("fines", opened.held_on)
    command = CloseExamSession(session_id, context.today, outcomes, trainers, fines)
    return await deps.aggregates.execute(
        EXAM_SESSION, stream, command, context.meta(None), expected_version=context.expected
    )


async def _trainers(
    deps: Dependencies, opened: ExamSessionOpened, trainees: list[str]
) -> dict[str, set[str]]:
    """R-24: who trained each trainee on the session's series, or on its content."""
    if opened.content is not None:
        return await deps.trainers_covering(trainees, opened.content)
    return await deps.trainers_of(trainees, opened.product_series or "")


# --- one trainee's sitting ------------------------------------------------------------------


async def score_written(
    deps: Dependencies, session_id: str, trainee_id: str, score: Decimal, context: CommandContext
) -> Outcome[TraineeAssessment]:
    """R-15: the written score (ExamScored kind=written); with the sixth score, the decision."""
    if context.principal.department not in WRITTEN_GRADERS:
        raise Forbidden("the written exam is graded by after_sales or hr examiners (R-15)")
    trainee = await _to_examine(deps, session_id, trainee_id)
    grading = await deps.policies.book("grading")
    command = ScoreWritten(
        session_id, trainee_id, score, context.actor_id, trainee.facts, context.now, grading
    )
    return await _assess(deps, command, trainee.branch_id, context)


async def score_practical(
    deps: Dependencies,
    session_id: str,
    trainee_id: str,
    department: str,
    score: Decimal,
    context: CommandContext,
) -> Outcome[TraineeAssessment]:
    """R-16: one department's practical score, posted by an examiner of that department."""
    grading = await deps.policies.book("grading")
    department = check_department("department", department, grading.in_force(context.today))
    if context.principal.department != department:
        raise Forbidden(f"only an examiner of {department} posts its practical score (R-16)")
    trainee = await _to_examine(deps, session_id, trainee_id)
    command = ScorePractical(
        session_id,
        trainee_id,
        department,
        score,
        context.actor_id,
        trainee.facts,
        context.now,
        grading,
    )
    return await _assess(deps, command, trainee.branch_id, context)


async def decide_disposition(
    deps: Dependencies,
    trainee_id: str,
    session_id: str | None,
    outcome: Disposition,
    reason: str,
    context: CommandContext,
) -> Outcome[TraineeAssessment]:
    """R-18: what becomes of a trainee who failed (DispositionDecided); without a session, the
    sitting of the trainee's latest decision."""
    trainee = known_trainee(await deps.find_trainee(trainee_id), trainee_id)
    if session_id is None:
        session_id = await _session_of_latest_decision(deps, trainee_id)
    command = DecideDisposition(
        session_id, trainee_id, outcome, reason, context.actor_id, context.today
    )
    return await _assess(deps, command, trainee.branch_id, context)


async def _to_examine(deps: Dependencies, session_id: str, trainee_id: str) -> KnownTrainee:
    """The trainee to score, in an open session (404 unknown, 409 closed)."""
    state, _ = await deps.aggregates.load(EXAM_SESSION, session.stream_id(session_id))
    session.require_open(state, session_id)
    return trainee_to_examine(await deps.find_trainee(trainee_id), trainee_id)


async def _assess(
    deps: Dependencies, command: AssessmentCommand, branch_id: str | None, context: CommandContext
) -> Outcome[TraineeAssessment]:
    stream = assessment.stream_id(command.session_id, command.trainee_id)
    return await deps.aggregates.execute(
        TRAINEE_ASSESSMENT,
        stream,
        command,
        context.meta(branch_id),
        expected_version=context.expected,
    )


async def _session_of_latest_decision(deps: Dependencies, trainee_id: str) -> str:
    decided = await deps.latest_decision(trainee_id)
    if decided is None:
        raise RuleViolation(
            "R-18", f"trainee {trainee_id} has no assessment decision: nothing to dispose of"
        )
    return str(decided.data["session_id"])


# --- disputes (R-23) ------------------------------------------------------------------------


async def file_dispute(
    deps: Dependencies, trainee_id: str, reason: str, context: CommandContext
) -> Outcome[GradeDispute]:
    """R-23: dispute the trainee's current grade (GradeDisputed), as the trainee, its branch's
    clerk or the after-sales manager; 404 for a trainee the caller may not see."""
    trainee = await deps.find_trainee(trainee_id)
    if trainee is None or not DISPUTE_FILING.sees(
        context.principal, branch_id=trainee.branch_id, person_id=trainee_id
    ):
        raise NotFound(f"no trainee {trainee_id}")
    session_id, grade_event_id = await _disputed_grade(deps, trainee_id, context)
    dispute_id = new_dispute_id(context.idempotency_key)
    command = FileDispute(
        dispute_id,
        trainee_id,
        session_id,
        grade_event_id,
        reason,
        context.actor_id,
        context.today,
    )
    return await deps.aggregates.execute(
        GRADE_DISPUTE, dispute.stream_id(dispute_id), command, context.meta(trainee.branch_id)
    )


def new_dispute_id(key: str | None) -> str:
    """From the idempotency key when there is one, so that two concurrent repeats of one request
    name the same dispute (and the store's key makes one of them a replay)."""
    if key is None:
        return "d-" + uuid.uuid4().hex[:16]
    return "d-" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:16]


async def _disputed_grade(
    deps: Dependencies, trainee_id: str, context: CommandContext
) -> tuple[str | None, uuid.UUID | None]:
    """(session id, event id) of the trainee's current grade, (None, None) without one.
    ``If-Match`` names the version of that grade's sitting the client saw (``GET .../grade``)."""
    decided = await deps.latest_decision(trainee_id)
    if decided is None or decided.type != "GradeAssigned":
        return None, None
    version = await deps.aggregates.store.stream_version(decided.stream_id)
    pinned(context, decided.stream_id, version)
    return str(decided.data["session_id"]), decided.event_id


async def resolve_dispute(
    deps: Dependencies, command: ResolveDispute, context: CommandContext
) -> Outcome[GradeDispute]:
    """R-23: uphold, or correct the scores: then a new decision supersedes the disputed grade,
    appended in the same transaction as the resolution (the first decision stays recorded)."""
    stream = dispute.stream_id(command.dispute_id)
    command = replace(command, grading=await deps.policies.book("grading"))
    state, _ = await deps.aggregates.load(GRADE_DISPUTE, stream)
    filed = state.filed
    if filed is None:
        raise NotFound(f"no dispute {command.dispute_id}")
    trainee = await deps.find_trainee(filed.trainee_id)
    meta = context.meta(trainee.branch_id if trainee else None)
    async with deps.transaction() as conn:
        outcome = await deps.aggregates.execute(
            GRADE_DISPUTE, stream, command, meta, expected_version=context.expected, conn=conn
        )
        resolution = outcome.state.resolution
        if outcome.events and resolution and resolution.outcome is DisputeOutcome.CORRECTED:
            await _correct_grade(deps, conn, filed, resolution, meta, context)
    return outcome


async def _correct_grade(
    deps: Dependencies,
    conn: Any,
    filed: GradeDisputed,
    resolution: GradeDisputeResolved,
    meta: Metadata,
    context: CommandContext,
) -> None:
    """R-23: the corrected scores decide again, as a new event superseding the disputed one;
    appended in the caller's transaction, beside the dispute's resolution."""
    stream = assessment.stream_id(filed.session_id, filed.trainee_id)
    recorded = await deps.aggregates.store.read_stream(stream, conn=conn)
    decisions = [e for e in recorded if e.type in DECISIONS]
    if not decisions or decisions[-1].event_id != filed.grade_event_id:
        raise Conflict(
            f"the grade disputed by {filed.dispute_id} was superseded since: "
            "file a new dispute against the current grade"
        )
    command = CorrectGrade(
        session_id=filed.session_id,
        trainee_id=filed.trainee_id,
        dispute_id=filed.dispute_id,
        supersedes=filed.grade_event_id,
        written=resolution.written,
        practical={d.value: v for d, v in (resolution.practical or {}).items()},
        now=context.now,
        grading=await deps.policies.book("grading"),
    )
    # A second append under the same key would be taken for a repeat of the first.
    key = None if meta.idempotency_key is None else meta.idempotency_key + ":correction"
    await deps.aggregates.execute(
        TRAINEE_ASSESSMENT, stream, command, replace(meta, idempotency_key=key), conn=conn
    )
