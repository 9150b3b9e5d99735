"""Routes of the plan's follow-ups (docs/http.md, "training"): a send-back ended by an accepted
explanation (R-12a), concerns about a trainee who cannot keep up and their handling (R-12b), and
the after-sales manager's queue of concerns. Thin: request -> command -> :mod:`.handlers`.

In ``/stages/{no}/return/explanation`` and ``/stages/{no}/return/accept``, ``{no}`` is the
returned (earlier) stage, the one whose send-back is open: its trainer explains, the trainer of
the later stage that sent the trainee back accepts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from shared.auth import Principal
from shared.events import JsonDict
from shared.requests import PositionCursor

from . import handlers
from .audiences import CONCERN_QUEUE
from .concern_queue import concern_page
from .domain.concerns import HandleConcern, NoteConcern
from .domain.returns import AcceptExplanation, ExplainReturn
from .followup_schemas import (
    AcceptBody,
    ConcernBody,
    ConcernIdPath,
    ConcernList,
    ConcernNoted,
    ExplanationBody,
    HandlingBody,
)
from .routes import PLAN, STAGE, ManagerWrite, TrainerWrite, answered, dependencies
from .schemas import PlanTable, StageNoPath, TraineeIdPath

router = APIRouter(tags=["plans"])
QueueReader = Annotated[Principal, Depends(CONCERN_QUEUE.gate())]


@router.post(STAGE + "/return/explanation", response_model=PlanTable)
async def explain_return(
    trainee_id: TraineeIdPath, no: StageNoPath, body: ExplanationBody, write: TrainerWrite
) -> JsonDict:
    """The trainer of the returned stage ``no`` explains why its goal was in fact reached
    (R-12a, ReturnExplained); 409 R-12a when the stage has no open send-back."""
    command = ExplainReturn(trainee_id, no, body.explanation, write.actor_id, write.today)
    return answered(write, await handlers.follow_up(dependencies(write), command, write))


@router.post(STAGE + "/return/accept", response_model=PlanTable)
async def accept_explanation(
    trainee_id: TraineeIdPath, no: StageNoPath, write: TrainerWrite, body: AcceptBody | None = None
) -> JsonDict:
    """The trainer of the later stage that sent the trainee back to stage ``no`` accepts its
    explanation (R-12a, ReturnClosed): stage ``no`` counts as signed again, without a new
    sign-off; 409 R-12a before an explanation."""
    comment = body.comment if body is not None else None
    command = AcceptExplanation(trainee_id, no, comment, write.actor_id, write.today)
    return answered(write, await handlers.follow_up(dependencies(write), command, write))


@router.post(PLAN + "/concerns", status_code=201)
async def note_concern(
    trainee_id: TraineeIdPath, body: ConcernBody, write: TrainerWrite
) -> ConcernNoted:
    """A trainer of one of the plan's stages notes that the trainee cannot keep up (R-12b,
    TraineeConcernNoted), on one of its own stages."""
    concern_id = handlers.new_concern_id(write.idempotency_key)
    command = NoteConcern(
        trainee_id, concern_id, body.stage_no, body.text, write.actor_id, write.today
    )
    outcome = await handlers.follow_up(dependencies(write), command, write)
    write.located(f"/plans/{trainee_id}")
    version = write.shown(outcome.version)
    return ConcernNoted(trainee_id=trainee_id, concern_id=concern_id, version=version)


@router.post(PLAN + "/concerns/{concern_id}/handling", response_model=PlanTable)
async def handle_concern(
    trainee_id: TraineeIdPath, concern_id: ConcernIdPath, body: HandlingBody, write: ManagerWrite
) -> JsonDict:
    """The after-sales manager verifies the concern and records its handling (R-12b,
    ConcernHandled); for a branch-commissioned trainee the branch is told through its feed."""
    command = HandleConcern(
        trainee_id, concern_id, body.verified, body.handling, write.actor_id, write.today
    )
    return answered(write, await handlers.follow_up(dependencies(write), command, write))


class ConcernStatus(StrEnum):
    OPEN = "open"
    HANDLED = "handled"


@router.get("/concerns")
async def list_concerns(
    principal: QueueReader,
    request: Request,
    status: ConcernStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: PositionCursor | None = None,
) -> ConcernList:
    """The after-sales manager's queue of concerns (R-12b) in the order they were noted, open
    (to verify and handle) or handled, each with its trainee's name, branch and category. A read
    model: a concern noted a moment ago may need a moment to appear."""
    handled = None if status is None else status is ConcernStatus.HANDLED
    return await concern_page(request.app.state.pool, handled=handled, after=cursor, limit=limit)
