"""Write routes of the training service (docs/http.md, "training"). Thin: request -> command
-> :mod:`.handlers` -> the plan table (:class:`.schemas.PlanTable`), with its ETag. Role checks
are here (one gate per route); who may draft which plan and whose stage or plan it is are the
handlers' and the plan's."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path

from shared.auth import Role
from shared.commands import Write, writer
from shared.events import JsonDict
from shared.execution import Outcome
from shared.policy_store import shelf_of

from . import handlers
from .domain.commands import (
    ApprovePlan,
    ConfirmTrainingDay,
    CountersignStage,
    DraftPlan,
    LogTrainingDay,
    RecordDemerit,
    ReturnStage,
    SignOffStage,
)
from .domain.events import registry
from .domain.plan_table import plan_table
from .domain.state import TrainingPlan
from .schemas import (
    AgreementBody,
    ApproveBody,
    DayBody,
    DemeritAnswer,
    DemeritBody,
    PlanBody,
    PlanTable,
    ReturnBody,
    SignOffBody,
    StageNoPath,
    TraineeIdPath,
    TrainerIdPath,
)
from .upstream import find_trainee

router = APIRouter(tags=["plans"])

# Each write resolves the caller with one of the roles, Idempotency-Key, If-Match and now as ONE
# dependency (shared.commands.writer): 401/403 before anything else.
DrafterWrite = Annotated[Write, writer(Role.AFTER_SALES_MANAGER, Role.PRODUCTION_MANAGER)]
ExecVpWrite = Annotated[Write, writer(Role.EXEC_VP)]
TrainerWrite = Annotated[Write, writer(Role.TRAINER)]
TraineeWrite = Annotated[Write, writer(Role.TRAINEE)]
ManagerWrite = Annotated[Write, writer(Role.AFTER_SALES_MANAGER)]
PLAN = "/plans/{trainee_id}"
STAGE = PLAN + "/stages/{no}"


def dependencies(write: Write) -> handlers.Dependencies:
    """The handlers' dependencies, from the app the request came to."""
    return handlers.Dependencies(
        write.aggregates(registry),
        partial(find_trainee, write.app_state),
        shelf_of(write.app_state),
    )


def answered(write: Write, outcome: Outcome[TrainingPlan]) -> JsonDict:
    """The plan table after the command, with its ETag."""
    return plan_table(outcome.state, write.shown(outcome.version))


@router.put(PLAN, response_model=PlanTable)
async def draft_plan(trainee_id: TraineeIdPath, body: PlanBody, write: DrafterWrite) -> JsonDict:
    """Draft or re-draft the plan (R-8, PlanDrafted); a changed approved plan needs approval again
    (R-9). Each stage's ``covers`` lists R-7a content codes (422 on an unknown one). A completed
    plan is re-drafted only as a remedial revision after a continue_training disposition (R-18a).
    Production managers draft for production reserve trainees only."""
    stages = tuple(s.spec() for s in body.stages)
    command = DraftPlan(trainee_id, stages, write.actor_id, write.today)
    return answered(write, await handlers.draft_plan(dependencies(write), command, write))


@router.post(PLAN + "/approve", response_model=PlanTable)
async def approve_plan(
    trainee_id: TraineeIdPath, write: ExecVpWrite, body: ApproveBody | None = None
) -> JsonDict:
    """The executive vice-president puts the drafted revision in force (R-9): the R-8a topics,
    then R-7 (the placement known, every content item of its level covered)."""
    command = ApprovePlan(trainee_id, write.actor_id, write.today)
    return answered(write, await handlers.change_plan(dependencies(write), command, write))


@router.post(STAGE + "/days", status_code=201, response_model=PlanTable)
async def log_day(
    trainee_id: TraineeIdPath, no: StageNoPath, body: DayBody, write: TrainerWrite
) -> JsonDict:
    """The stage's trainer logs a training day (R-10, TrainingDayLogged)."""
    command = LogTrainingDay(
        trainee_id,
        no,
        body.date,
        body.content,
        body.method,
        body.hours,
        body.performance,
        body.effect,
        write.actor_id,
        write.today,
    )
    write.located(f"/plans/{trainee_id}")
    return answered(write, await handlers.change_plan(dependencies(write), command, write))


@router.post(STAGE + "/days/{date}/confirm", response_model=PlanTable)
async def confirm_day(
    trainee_id: TraineeIdPath,
    no: StageNoPath,
    date: Annotated[dt.date, Path()],
    body: AgreementBody,
    write: TraineeWrite,
) -> JsonDict:
    """The trainee confirms a day; a dissent is kept and counts against the trainer (R-10)."""
    command = ConfirmTrainingDay(
        trainee_id, no, date, body.agree, body.comment, write.actor_id, write.today
    )
    return answered(write, await handlers.change_plan(dependencies(write), command, write))


@router.post(STAGE + "/sign-off", response_model=PlanTable)
async def sign_off(
    trainee_id: TraineeIdPath, no: StageNoPath, body: SignOffBody, write: TrainerWrite
) -> JsonDict:
    """The trainer signs with an assessment 培训人评估 (R-11); the countersign closes the stage."""
    command = SignOffStage(trainee_id, no, body.assessment, write.actor_id, write.today)
    return answered(write, await handlers.change_plan(dependencies(write), command, write))


@router.post(STAGE + "/countersign", response_model=PlanTable)
async def countersign(
    trainee_id: TraineeIdPath, no: StageNoPath, body: AgreementBody, write: TraineeWrite
) -> JsonDict:
    """The trainee countersigns (StageSignedOff); disagreeing closes it disputed (R-11)."""
    command = CountersignStage(
        trainee_id, no, body.agree, body.comment, write.actor_id, write.today
    )
    return answered(write, await handlers.change_plan(dependencies(write), command, write))


@router.post(STAGE + "/return", response_model=PlanTable)
async def send_back(
    trainee_id: TraineeIdPath, no: StageNoPath, body: ReturnBody, write: TrainerWrite
) -> JsonDict:
    """The trainer of stage ``no`` sends the trainee back to an earlier stage (R-12)."""
    command = ReturnStage(trainee_id, no, body.to_stage, body.reason, write.actor_id, write.today)
    return answered(write, await handlers.change_plan(dependencies(write), command, write))


@router.post("/trainers/{trainer_id}/demerits", status_code=201)
async def add_demerit(
    trainer_id: TrainerIdPath, body: DemeritBody, write: ManagerWrite
) -> DemeritAnswer:
    """A verified perfunctory trainer gets a demerit 记过 (R-13, TrainerDemeritRecorded)."""
    command = RecordDemerit(trainer_id, body.reason, body.trainee_id, write.actor_id, write.today)
    outcome = await handlers.record_demerit(dependencies(write), command, write)
    demerits = len(outcome.state.demerits)
    version = write.shown(outcome.version)
    return DemeritAnswer(trainer_id=trainer_id, demerits=demerits, version=version)
