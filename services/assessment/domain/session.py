"""The ExamSession aggregate (stream ``session-<session_id>``) and trainer accountability (R-24).

A session is opened once, for one product series or for one training content (an R-7a content
code or an R-8a mandatory topic), and closed once. Closing assesses every trainer who trained any
of the session's assessed trainees on that series (or led a stage covering that content): the
outcomes and who trained whom come in the command (from the assessment read model and the
training service's plans).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date

from shared.decider import Conflict, Decider, InvalidCommand, NotFound, required_text
from shared.events import Event

from ..policy.grading import FINES, FinesPolicy, trainer_fine
from .commands import CloseExamSession, OpenExamSession, SessionCommand
from .events import ExamSessionClosed, ExamSessionOpened, TrainerPenaltyAssessed
from .vocabulary import SESSION_CONTENTS


def stream_id(session_id: str) -> str:
    return f"session-{session_id}"


@dataclass(frozen=True)
class ExamSession:
    opened: ExamSessionOpened | None = None
    closed: ExamSessionClosed | None = None

    @property
    def is_open(self) -> bool:
        return self.opened is not None and self.closed is None


def require_open(state: ExamSession, session_id: str) -> ExamSessionOpened:
    """For the handlers: scores are taken only in an open session."""
    if state.opened is None:
        raise NotFound(f"no exam session {session_id}")
    if state.closed is not None:
        raise Conflict(f"exam session {session_id} was closed on {state.closed.closed_on}")
    return state.opened


def initial() -> ExamSession:
    return ExamSession()


def evolve(state: ExamSession, event: Event) -> ExamSession:
    match event:
        case ExamSessionOpened():
            return replace(state, opened=event)
        case ExamSessionClosed():
            return replace(state, closed=event)
    return state


def decide(command: SessionCommand, state: ExamSession) -> list[Event]:
    match command:
        case OpenExamSession():
            return [_open(command, state)]
        case CloseExamSession():
            return _close(command, state)
    raise TypeError(f"unknown command {command!r}")


EXAM_SESSION = Decider(initial, evolve, decide)


def _open(c: OpenExamSession, state: ExamSession) -> ExamSessionOpened:
    if state.opened is not None:
        raise Conflict(f"exam session {c.session_id} is already open")
    if not c.session_id.strip():
        raise InvalidCommand("session_id", "must not be empty")
    series, content = _subject(c.product_series, c.content)
    return ExamSessionOpened(
        session_id=c.session_id,
        product_series=series,
        held_on=c.held_on,
        opened_by=c.opened_by,
        content=content,
    )


def _subject(series: str | None, content: str | None) -> tuple[str | None, str | None]:
    """R-24: a session is held for a product series or for one training content, never both."""
    if series is not None and content is not None:
        raise InvalidCommand("content", "a session is for a product series or a content, not both")
    if content is None:
        return required_text("product_series", series or "", "R-24"), None
    code = content.strip()
    if code not in SESSION_CONTENTS:
        detail = f"{code!r} is no R-7a content code nor R-8a mandatory topic"
        raise InvalidCommand("content", detail, "R-24")
    return None, code


def subject_text(session: ExamSessionOpened) -> str:
    """What the session examines, as rule traces name it."""
    if session.content is not None:
        return f"content {session.content}"
    return f"series {session.product_series}"


def _close(c: CloseExamSession, state: ExamSession) -> list[Event]:
    opened = require_open(state, c.session_id)
    closed = ExamSessionClosed(session_id=c.session_id, closed_on=c.today)
    penalties = assess_trainers(opened, c.outcomes, c.trainers, assessed_on=c.today, policy=c.fines)
    return [closed, *penalties]


def assess_trainers(
    session: ExamSessionOpened,
    outcomes: Mapping[str, bool],
    trainer_of: Mapping[str, Collection[str]],
    *,
    assessed_on: date | None = None,
    policy: FinesPolicy | None = None,
) -> list[TrainerPenaltyAssessed]:
    """R-24: one row per trainer with at least one assessed trainee on the session's series (or
    content).

    ``outcomes``: trainee id -> passed both exams (only trainees assessed in this session).
    ``trainer_of``: trainee id -> the trainers who trained them on it. The policy is the
    one in force on the day the session was held; the row is dated ``assessed_on`` (the closing
    day, R-33), by default the day it was held.
    """
    rules = policy or FINES.in_force(session.held_on)
    trained: dict[str, list[str]] = {}
    for trainee in sorted(outcomes):
        for trainer in sorted(set(trainer_of.get(trainee, ()))):
            trained.setdefault(trainer, []).append(trainee)
    return [
        _penalty(session, trainer, trained[trainer], outcomes, rules, assessed_on)
        for trainer in sorted(trained)
    ]


def _penalty(
    session: ExamSessionOpened,
    trainer: str,
    trainees: list[str],
    outcomes: Mapping[str, bool],
    policy: FinesPolicy,
    assessed_on: date | None,
) -> TrainerPenaltyAssessed:
    failed = [t for t in trainees if not outcomes[t]]
    result = trainer_fine(len(trainees), len(failed), policy)
    scope = (
        f"R-24: trainer {trainer}, {subject_text(session)}, session {session.session_id}: "
        f"{len(trainees)} trainees, {len(failed)} failed"
    )
    return TrainerPenaltyAssessed(
        session_id=session.session_id,
        trainer_id=trainer,
        product_series=session.product_series,
        content=session.content,
        trainees=trainees,
        failed=failed,
        failure_rate=result.failure_rate,
        fine=result.fine,
        policy_version=policy.version,
        rule_trace=[scope, *result.rule_trace],
        assessed_on=assessed_on or session.held_on,
    )
