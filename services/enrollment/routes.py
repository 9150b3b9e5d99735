"""Write routes of the enrollment service (docs/http.md, "enrollment"). Thin: request ->
command -> :mod:`.handlers` -> response; who may act on which trainee is the handlers' (R-2,
:mod:`.audiences`), the rules live in ``domain/trainee.py``."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter

from shared.auth import Role
from shared.commands import Write, writer
from shared.execution import transaction
from shared.policy_store import shelf_of
from shared.sheet_imports import UPLOAD

from . import handlers, trainee_imports
from .domain.commands import ScorePlacement, WithdrawTrainee
from .domain.events import registry
from .schemas import (
    Enrolled,
    EnrollRequest,
    ImportedRow,
    PlacementAnswer,
    PlacementRequest,
    TraineeIdPath,
    TraineesImported,
    Withdrawn,
    WithdrawRequest,
)

router = APIRouter(tags=["trainees"])

# Each admits the roles of its audience (audiences.py); the first role held is the one the
# events record.
CLERK_FIRST = (Role.BRANCH_CLERK, Role.AFTER_SALES_MANAGER)
EXAMINER_FIRST = (Role.EXAMINER, Role.AFTER_SALES_MANAGER)
Enrolment = Annotated[Write, writer(*CLERK_FIRST, if_match=False)]
Withdrawal = Annotated[Write, writer(*CLERK_FIRST)]
Placement = Annotated[Write, writer(*EXAMINER_FIRST)]


@router.post("/trainees", status_code=201)
async def enroll(body: EnrollRequest, write: Enrolment) -> Enrolled:
    """Enrol a trainee (TraineeEnrolled). A branch clerk enrols into its own branch only."""
    command = handlers.enrolment(body, write.today)
    outcome = await handlers.enroll(write.aggregates(registry), command, write)
    write.located(f"/trainees/{command.trainee_id}")
    return Enrolled(trainee_id=command.trainee_id, version=write.shown(outcome.version))


@router.post("/trainees/{trainee_id}/placement")
async def score_placement(
    trainee_id: TraineeIdPath, body: PlacementRequest, write: Placement
) -> PlacementAnswer:
    """Record the placement exam (R-6): the starting position and the plan level."""
    policy = await shelf_of(write.app_state).in_force("placement", write.today)
    command = ScorePlacement(trainee_id, body.written, body.practical, write.today, policy)
    outcome = await handlers.score_placement(write.aggregates(registry), command, write)
    return PlacementAnswer.of(trainee_id, outcome.state, write.shown(outcome.version))


@router.post("/trainees/{trainee_id}/withdraw")
async def withdraw(
    trainee_id: TraineeIdPath, body: WithdrawRequest, write: Withdrawal
) -> Withdrawn:
    """Withdraw a trainee (TraineeWithdrawn)."""
    command = WithdrawTrainee(trainee_id, body.reason, write.today)
    outcome = await handlers.withdraw(write.aggregates(registry), command, write)
    version = write.shown(outcome.version)
    return Withdrawn(trainee_id=trainee_id, status=outcome.state.status, version=version)


@router.post("/imports/trainees", status_code=201, openapi_extra=UPLOAD)
async def import_trainees(write: Enrolment) -> TraineesImported:
    """Enrol the trainees of a spreadsheet (columns ``trainee_id``/学员编号 (optional: a new id
    when empty), ``name``/姓名, ``category``/类别, ``branch_id``/网点编号, ``education``/学历,
    ``experience_years``/工作年限, ``certificates``/证书 and ``product_series``/产品系列
    (optional, several in one cell separated by ``,`` or ``、``), ``enrolled_on``/报名日期):
    everyone, or, when any row is bad, no one; the 422 then lists every problem by row and
    column. A branch clerk enrols into its own branch only (R-2: another branch's row is a
    problem of that row)."""
    enrolled = await trainee_imports.import_trainees(
        write.aggregates(registry),
        await write.request.body(),
        write,
        partial(transaction, write.app_state.pool),
    )
    return TraineesImported(
        imported=len(enrolled),
        ids=[trainee_id for _, trainee_id in enrolled],
        rows=[ImportedRow(row=row, trainee_id=trainee_id) for row, trainee_id in enrolled],
    )
