"""Load -> decide -> append for the assessment commands, around ``shared.decider.execute``.

A route gets its :class:`Write` as one dependency (:func:`writer`: roles checked) and builds the
command; these functions gather what the deciders need from
other aggregates and from the inbox facts (the trainee's R-21 facts, the session's outcomes, who
trained whom), run the decider with the request's ``If-Match`` and ``Idempotency-Key``, and set
the ETag. Assessment events carry the trainee's branch; session events concern no one branch.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from shared.commands import Write
from shared.decider import Conflict, Decider, RuleViolation
from shared.eventstore import ConcurrencyError
from shared.execution import Metadata, Outcome, execute, load

from .domain import assessment, dispute, session
from .domain.assessment import TRAINEE_ASSESSMENT, TraineeAssessment
from .domain.commands import AssessmentCommand, CorrectGrade
from .domain.events import ExamSessionOpened, GradeDisputed, GradeDisputeResolved, registry
from .domain.session import EXAM_SESSION, ExamSession
from .history import DECISIONS, latest_decision

JsonDict = dict[str, Any]


async def run(
    write: Write, decider: Decider[Any, Any], stream: str, command: Any, meta: Metadata,
    *, expected: int | None = None, conn: Any = None,
) -> Outcome[Any]:  # fmt: skip
    """``conn``: decide and append inside the caller's transaction (reads included)."""
    return await execute(
        write.store, registry, decider, stream, command, meta,
        expected_version=expected, conn=conn, cache=write.states,
    )  # fmt: skip


def pinned(write: Write, stream: str, version: int) -> None:
    """``If-Match`` on an aggregate the handler read but does not append to: 412 when stale."""
    if write.expected is not None and write.expected != version:
        raise ConcurrencyError(stream, write.expected, version)


# --- exam sessions --------------------------------------------------------------------------


async def session_state(write: Write, session_id: str) -> tuple[ExamSession, int]:
    state, version = await load(write.store, registry, EXAM_SESSION, session.stream_id(session_id),
                                cache=write.states)  # fmt: skip
    return state, version


async def open_session(write: Write, session_id: str) -> ExamSessionOpened:
    """The session scores are taken in: 404 unknown, 409 closed."""
    state, _ = await session_state(write, session_id)
    return session.require_open(state, session_id)


# --- one trainee's sitting ------------------------------------------------------------------


async def assess(
    write: Write, session_id: str, trainee_id: str, command: AssessmentCommand,
    branch_id: str | None, roles: tuple[str, ...],
) -> Outcome[TraineeAssessment]:  # fmt: skip
    stream = assessment.stream_id(session_id, trainee_id)
    outcome = await run(
        write, TRAINEE_ASSESSMENT, stream, command, write.meta_as(branch_id, roles),
        expected=write.expected,
    )  # fmt: skip
    write.shown(outcome.version)
    return outcome


async def session_of_latest_decision(write: Write, trainee_id: str) -> str:
    """The sitting a disposition is about when the request names none (R-18)."""
    decided = await latest_decision(write.pool, trainee_id)
    if decided is None:
        raise RuleViolation(
            "R-18", f"trainee {trainee_id} has no assessment decision: nothing to dispose of"
        )
    return str(decided.data["session_id"])


# --- disputes (R-23) ------------------------------------------------------------------------


def new_dispute_id(key: str | None) -> str:
    """From the idempotency key when there is one, so that two concurrent repeats of one request
    name the same dispute (and the store's key makes one of them a replay)."""
    if key is None:
        return "d-" + uuid.uuid4().hex[:16]
    return "d-" + uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:16]


async def disputed_grade(write: Write, trainee_id: str) -> tuple[str | None, uuid.UUID | None]:
    """(session id, event id) of the trainee's current grade, (None, None) without one.
    ``If-Match`` names the version of that grade's sitting the client saw (``GET .../grade``)."""
    decided = await latest_decision(write.pool, trainee_id)
    if decided is None or decided.type != "GradeAssigned":
        return None, None
    pinned(write, decided.stream_id, await write.store.stream_version(decided.stream_id))
    return str(decided.data["session_id"]), decided.event_id


async def correct_grade(
    write: Write, conn: Any, filed: GradeDisputed, resolution: GradeDisputeResolved, meta: Metadata
) -> None:
    """R-23: the corrected scores decide again, as a new event superseding the disputed one;
    appended in the caller's transaction, beside the dispute's resolution."""
    stream = assessment.stream_id(filed.session_id, filed.trainee_id)
    decisions = [e for e in await write.store.read_stream(stream, conn=conn) if e.type in DECISIONS]
    if not decisions or decisions[-1].event_id != filed.grade_event_id:
        raise Conflict(
            f"the grade disputed by {filed.dispute_id} was superseded since: "
            "file a new dispute against the current grade"
        )
    command = CorrectGrade(
        session_id=filed.session_id, trainee_id=filed.trainee_id, dispute_id=filed.dispute_id,
        supersedes=filed.grade_event_id, written=resolution.written,
        practical={d.value: v for d, v in (resolution.practical or {}).items()}, now=write.now,
    )  # fmt: skip
    # A second append under the same key would be taken for a repeat of the first.
    key = None if meta.idempotency_key is None else meta.idempotency_key + ":correction"
    await run(write, TRAINEE_ASSESSMENT, stream, command, replace(meta, idempotency_key=key),
              conn=conn)  # fmt: skip


async def dispute_state(write: Write, dispute_id: str) -> tuple[dispute.GradeDispute, int]:
    state, version = await load(write.store, registry, dispute.GRADE_DISPUTE,
                                dispute.stream_id(dispute_id), cache=write.states)  # fmt: skip
    return state, version


async def current_decision(write: Write, session_id: str, trainee_id: str) -> Any:
    state, _ = await load(write.store, registry, TRAINEE_ASSESSMENT,
                          assessment.stream_id(session_id, trainee_id),
                          cache=write.states)  # fmt: skip
    return state.decision
