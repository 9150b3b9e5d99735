"""Read routes of the assessment service: a trainee's grade, the boards, the audit, and the
session and dispute aggregates (with the ETag a write's ``If-Match`` names).

A trainee's grade is read from the event store (never behind its writes); the boards from their
projections, and ``as_of`` from the grade decisions recorded up to that moment (the board
projection's history table), without replaying anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from shared import directory
from shared.audience import Audience
from shared.auth import Principal
from shared.events import JsonDict
from shared.execution import Aggregates, app_aggregates
from shared.personal import is_token
from shared.policy_store import shelf_of
from shared.problems import not_found
from shared.requests import (
    KeyCursor,
    Now,
    PairCursor,
    encode_cursor,
    encode_pair_cursor,
    etag,
    pair_of,
)

from . import audiences, board_drill
from .audit import audit_trainee
from .domain import dispute, session
from .domain.assessment import TRAINEE_ASSESSMENT
from .domain.assessment import stream_id as sitting_stream
from .domain.events import AssessmentFailed, GradeAssigned, TrainerPenaltyAssessed, registry
from .history import latest_decision
from .projections import trainer_rows
from .schemas import (
    ID_PATTERN,
    AuditReport,
    DisputeAnswer,
    DisputePage,
    GradeAnswer,
    GradeBoard,
    IdPath,
    IsoDateTime,
    SessionAnswer,
    SessionPage,
    SessionSittings,
    TrainerBoard,
    decision_json,
    dispute_json,
    grade_json,
    session_json,
)
from .upstream import find_trainee

router = APIRouter(tags=["assessment: reads"])
router.include_router(board_drill.router)  # the board's cells, paged


def _gate(audience: Audience) -> Any:
    return Depends(audience.gate())


GradeReader = Annotated[Principal, _gate(audiences.GRADE)]
BoardReader = Annotated[Principal, _gate(audiences.GRADE_BOARD)]
DisputeReader = Annotated[Principal, _gate(audiences.DISPUTE)]
TrainerBoardGate = _gate(audiences.TRAINER_BOARD)
OptionalId = Annotated[str | None, Query(pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/trainees/{trainee_id}/grade", response_model=GradeAnswer)
async def get_grade(
    trainee_id: IdPath, principal: GradeReader, request: Request, response: Response
) -> JsonDict:
    """The trainee's current grade (the latest decision; a correction replaces the first)."""
    decided = await latest_decision(request.app.state.pool, trainee_id)
    if decided is None or not audiences.GRADE.sees(
        principal, branch_id=decided.branch_id, person_id=trainee_id
    ):
        raise not_found(f"trainee {trainee_id} has no grade: not examined yet")
    if decided.type != "GradeAssigned":
        raise not_found(f"trainee {trainee_id} has no grade: failed the assessment (R-18)")
    if decided.data.get("position") is None:
        raise not_found(
            f"trainee {trainee_id} has no grade: passed but meets no position's eligibility "
            "(R-21), stays reserve"
        )
    version = await request.app.state.store.stream_version(decided.stream_id)
    response.headers["ETag"] = etag(version)
    return grade_json(decided)


@router.get("/board/grades", response_model=GradeBoard)
async def grade_board(
    principal: BoardReader,
    request: Request,
    now: Now,
    branch_id: OptionalId = None,
    as_of: IsoDateTime | None = None,
    trainee_ids: board_drill.InlineIds = None,
) -> JsonDict:
    """Counts by branch x position x level with the branch's names, and for each cell its
    drill-down (``trainees``); the trainee ids inline for a small board or when asked
    (``trainee_ids_inline``). ``as_of`` answers for a past moment (ISO 8601; without a zone,
    UTC). A branch clerk sees its own branch only; a branch asked for must be known here (422
    until its registration has arrived from enrollment)."""
    branch = audiences.GRADE_BOARD.branch_of_list(principal, branch_id)
    pool = request.app.state.pool
    await directory.require_known_branch(pool, branch_id)
    moment = board_drill.moment_of(as_of)
    inline, rows = await board_drill.board(request, branch, moment, trainee_ids)
    names = await directory.branch_names(pool, (row["branch_id"] for row in rows))
    named = directory.with_branch_names(board_drill.with_links(rows, moment), names)
    return {"as_of": moment or now, "trainee_ids_inline": inline, "rows": named}


@router.get("/board/trainers", response_model=TrainerBoard, dependencies=[TrainerBoardGate])
async def trainer_board(
    request: Request,
    session_id: OptionalId = None,
    limit: Annotated[
        int | None, Query(ge=1, le=500, description="rows per page; absent: the whole board")
    ] = None,
    cursor: PairCursor | None = None,
) -> JsonDict:
    """R-24 failure rates and fines per trainer x product series x session, R-13 demerits; each
    trainer's name beside its id (the id while its registration has not arrived). Rows by
    session, then trainer. Without ``limit`` the whole board (its size grows with the trainees:
    every row lists its trainees' ids); with it a page of ``limit`` rows and the
    ``next_cursor`` of the next."""
    pool = request.app.state.pool
    after = None if cursor is None else pair_of(cursor)
    rows = await trainer_rows(pool, session_id, after, None if limit is None else limit + 1)
    more = limit is not None and len(rows) > limit
    rows = rows[:limit]
    names = await directory.staff_names(pool, (row["trainer_id"] for row in rows))
    last = rows[-1] if more else None
    return {
        "rows": directory.with_names(rows, names, "trainer_id", "trainer_name"),
        "next_cursor": last and encode_pair_cursor(last["session_id"], last["trainer_id"]),
    }


@router.get(
    "/trainees/{trainee_id}/audit",
    response_model=AuditReport,
    response_model_exclude_unset=True,  # a finding carries only its kind's keys
    dependencies=[_gate(audiences.AUDIT)],
)
async def audit(trainee_id: IdPath, request: Request) -> JsonDict:
    """R-22: the trainee's history replayed, every grade re-derived, tampering reported."""
    state = request.app.state
    grading = await shelf_of(state).book("grading")
    report = await audit_trainee(
        state.pool, state.store, trainee_id, grading, getattr(state, "personal", None)
    )
    if report is None:
        raise not_found(f"assessment has no record of trainee {trainee_id}")
    return report


@router.get(
    "/sessions/{session_id}", response_model=SessionAnswer, dependencies=[_gate(audiences.SESSION)]
)
async def get_session(session_id: IdPath, request: Request, response: Response) -> JsonDict:
    sessions = app_aggregates(request.app.state, registry)
    state, version = await sessions.load(session.EXAM_SESSION, session.stream_id(session_id))
    if state.opened is None:
        raise not_found(f"no exam session {session_id}")
    response.headers["ETag"] = etag(version)
    return session_json(session_id, state, version)


@router.get("/disputes/{dispute_id}", response_model=DisputeAnswer)
async def get_dispute(
    dispute_id: IdPath, principal: DisputeReader, request: Request, response: Response
) -> JsonDict:
    disputes = app_aggregates(request.app.state, registry)
    state, version = await disputes.load(dispute.GRADE_DISPUTE, dispute.stream_id(dispute_id))
    filed = state.filed
    trainee = None if filed is None else await find_trainee(request.app.state, filed.trainee_id)
    branch = trainee.branch_id if trainee else None
    if filed is None or not audiences.DISPUTE.sees(
        principal, branch_id=branch, person_id=filed.trainee_id
    ):
        raise not_found(f"no dispute {dispute_id}")
    response.headers["ETag"] = etag(version)
    return dispute_json(dispute_id, state, version)


async def session_penalties(sessions: Aggregates, session_id: str) -> list[TrainerPenaltyAssessed]:
    """R-24: the penalties the session's close assessed, as recorded in its stream."""
    recorded = sessions.registry.decode_all(
        await sessions.store.read_stream(session.stream_id(session_id))
    )
    return [e for e in recorded if isinstance(e, TrainerPenaltyAssessed)]


async def current_decision(
    sittings: Aggregates, session_id: str, trainee_id: str
) -> GradeAssigned | AssessmentFailed | None:
    """The sitting's latest decision (a correction replaces the first)."""
    state, _ = await sittings.load(TRAINEE_ASSESSMENT, sitting_stream(session_id, trainee_id))
    return state.decision


# --- the lists the workbench works from --------------------------------------------------------

_SESSIONS = """
SELECT o.data ->> 'session_id' AS session_id, o.data ->> 'product_series' AS product_series,
       o.data ->> 'content' AS content,
       (o.data ->> 'held_on')::date AS held_on, (c.data ->> 'closed_on')::date AS closed_on,
       (SELECT max(v.version) FROM events v WHERE v.stream_id = o.stream_id) AS version
FROM events o
LEFT JOIN events c ON c.stream_id = o.stream_id AND c.type = 'ExamSessionClosed'
WHERE o.type = 'ExamSessionOpened'
  AND ($1::text IS NULL OR (c.event_id IS NULL) = ($1 = 'open'))
  AND ($2::text IS NULL OR o.data ->> 'session_id' > $2)
ORDER BY o.data ->> 'session_id' LIMIT $3
"""


@router.get("/sessions", response_model=SessionPage, dependencies=[_gate(audiences.SESSION)])
async def list_sessions(
    request: Request,
    status: Literal["open", "closed"] | None = None,
    limit: Limit = 100,
    cursor: KeyCursor | None = None,
) -> JsonDict:
    """The exam sessions by id, open or closed or both, paginated."""
    rows = await request.app.state.pool.fetch(_SESSIONS, status, cursor, limit + 1)
    items = [
        {**row, "status": "open" if row["closed_on"] is None else "closed"} for row in rows[:limit]
    ]
    return _page(items, len(rows) > limit, "session_id")


def _page(items: list[JsonDict], more: bool, key: str) -> JsonDict:
    return {"items": items, "next_cursor": encode_cursor(items[-1][key]) if more else None}


_DISPUTES = """
SELECT f.event_id, f.data ->> 'dispute_id' AS dispute_id, f.data ->> 'trainee_id' AS trainee_id,
       f.data ->> 'session_id' AS session_id, f.data ->> 'grade_event_id' AS grade_event_id,
       f.data ->> 'reason' AS reason, (f.data ->> 'filed_on')::date AS filed_on, f.branch_id,
       r.data ->> 'outcome' AS outcome, t.name AS trainee_name, g.type AS grade_type,
       g.data AS grade,
       (SELECT max(v.version) FROM events v WHERE v.stream_id = f.stream_id) AS version
FROM events f
LEFT JOIN events r ON r.stream_id = f.stream_id AND r.type = 'GradeDisputeResolved'
LEFT JOIN events g ON g.event_id = (f.data ->> 'grade_event_id')::uuid
LEFT JOIN trainee_facts t ON t.trainee_id = f.data ->> 'trainee_id'
WHERE f.type = 'GradeDisputed'
  AND ($1::text IS NULL OR (r.event_id IS NULL) = ($1 = 'open'))
  AND ($2::text IS NULL OR f.branch_id = $2)
  AND ($3::text IS NULL OR f.data ->> 'trainee_id' = $3)
  AND ($4::text IS NULL OR f.data ->> 'dispute_id' > $4)
ORDER BY f.data ->> 'dispute_id' LIMIT $5
"""


def _disputed(row: Any) -> JsonDict | None:
    grade = row["grade"]
    if grade is None:
        return None
    return {
        "type": row["grade_type"],
        "written": grade["written"],
        "practical": grade["practical"],
        "position": grade.get("position"),
        "level": grade.get("level"),
        "grade_score": grade.get("grade_score"),
        "rule_trace": grade["rule_trace"],
    }


@router.get("/disputes", response_model=DisputePage)
async def list_disputes(
    principal: DisputeReader,
    request: Request,
    status: Annotated[
        Literal["open", "resolved"] | None,
        Query(description="open: filed and not resolved yet"),
    ] = None,
    limit: Limit = 100,
    cursor: KeyCursor | None = None,
) -> JsonDict:
    """R-23: the grade disputes by id, with the grade each disputes; a branch clerk lists its own
    branch's, a trainee its own."""
    branch, trainee = audiences.dispute_list_scope(principal)
    rows = await request.app.state.pool.fetch(_DISPUTES, status, branch, trainee, cursor, limit + 1)
    reasons = await _reasons(request, rows[:limit])
    items = [
        {
            **{k: row[k] for k in ("dispute_id", "trainee_id", "session_id", "grade_event_id")},
            **{k: row[k] for k in ("filed_on", "branch_id", "outcome", "version")},
            "reason": reason,
            "status": "filed" if row["outcome"] is None else "resolved",
            "trainee_name": row["trainee_name"] or row["trainee_id"],
            "disputed": _disputed(row),
        }
        for row, reason in zip(rows[:limit], reasons, strict=True)
    ]
    return _page(items, len(rows) > limit, "dispute_id")


async def _reasons(request: Request, rows: Sequence[Any]) -> list[Any]:
    """Each filed dispute's reason revealed (sealed with the trainee's key), or erased."""
    personal = getattr(request.app.state, "personal", None)
    if personal is None:
        return [row["reason"] for row in rows]
    found = []
    for row in rows:
        reason = row["reason"]
        if is_token(reason):
            data = {"reason": reason}
            reason = (await personal.reveal_data("GradeDisputed", row["event_id"].bytes, data))[
                "reason"
            ]
        found.append(reason)
    return found


# The trainees a session examines: those whose approved plan covers its series, or
# has a stage covering its content (R-24: in ``covers`` or as the stage's topic), and who have not
# withdrawn, and whoever was scored in it. A session has a series ($1) or a content ($3).
_SITTERS = """
SELECT f.trainee_id, f.name, f.branch_id FROM trainee_facts f
WHERE f.branch_id IS NOT NULL AND (
    (f.status <> 'withdrawn' AND EXISTS (
        SELECT 1 FROM plan_stages_in_force p
        WHERE p.trainee_id = f.trainee_id
          AND (p.product_series = $1 OR p.covers ? $3 OR p.topic = $3)))
    OR f.trainee_id IN (
        SELECT e.data ->> 'trainee_id' FROM events e WHERE starts_with(e.stream_id, $2)))
ORDER BY f.trainee_id
"""


@router.get(
    "/sessions/{session_id}/sittings",
    response_model=SessionSittings,
    dependencies=[_gate(audiences.SESSION)],
)
async def session_sittings(session_id: IdPath, request: Request, now: Now) -> JsonDict:
    """The session's scoring grid: each trainee it examines, the scores so far, the decision
    once the sixth score is in (its ``review_flags`` name a rater spread, R-16)."""
    aggregates = app_aggregates(request.app.state, registry)
    state, version = await aggregates.load(session.EXAM_SESSION, session.stream_id(session_id))
    if state.opened is None:
        raise not_found(f"no exam session {session_id}")
    opened = state.opened
    rows = await request.app.state.pool.fetch(
        _SITTERS, opened.product_series, sitting_stream(session_id, ""), opened.content
    )
    sittings = []
    for row in rows:
        trainee_id = row["trainee_id"]
        sitting, sat = await aggregates.load(
            TRAINEE_ASSESSMENT, sitting_stream(session_id, trainee_id)
        )
        sittings.append(
            {
                "trainee_id": trainee_id,
                "trainee_name": row["name"] or trainee_id,
                "branch_id": row["branch_id"],
                "written": None if sitting.written is None else str(sitting.written),
                "practical": {d.value: str(s) for d, s in sitting.practical.items()},
                "decision": decision_json(sitting.decision),
                "version": sat,
            }
        )
    grading = await shelf_of(request.app.state).in_force("grading", now.date())
    departments = grading.practical_departments
    return {
        "session": session_json(session_id, state, version),
        "practical_departments": [str(d) for d in departments],
        "rows": sittings,
    }
