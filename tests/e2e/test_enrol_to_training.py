"""A trainee's way from enrolment to completed training, over the real bus: the enrollment and
training apps run side by side in one namespace (one exchange, a database each)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.enrollment.app import create_app as create_enrollment
from services.training.app import create_app as create_training
from shared.auth import Role
from shared.consumer import queue_depths
from tests.e2e.helpers import approve_once_placed, draft_once_known
from tests.support import (
    enrolment,
    long_secret,
    mandatory_stages,
    plan_stage,
    register_branches,
    running,
    standard_branches,
    until,
)

TRAINEE = "t-e2e"
TODAY = datetime.now(UTC).date()


def iso(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


DATES = {"planned_start": iso(-10), "planned_end": iso(20)}
PLAN = [*mandatory_stages(**DATES), plan_stage(5, "product", "technical", "tr-tech", "X1", **DATES)]
TRAINER_OF = {s["no"]: s["trainer_id"] for s in PLAN}


async def training_listens(settings) -> None:
    """Until training's partition queues exist: events published before would reach no queue."""
    wanted = settings.consumer_partitions + 1  # the partitions and the dead-letter queue
    async with asyncio.timeout(20):
        while len(await queue_depths(settings, "training")) < wanted:
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # the last partition is bound right after it is declared


class Flow:
    """The training calls of one trainee, each asserting its status."""

    def __init__(self, training):
        self.svc = training

    async def call(self, path, body, headers, status=200):
        answer = await self.svc.client.post(f"/plans/{TRAINEE}{path}", json=body, headers=headers)
        assert answer.status_code == status, answer.text
        return answer.json()

    def trainer(self, no):
        return self.svc.as_(TRAINER_OF[no], Role.TRAINER)

    def trainee(self):
        return self.svc.as_(TRAINEE, Role.TRAINEE)

    async def day(self, no, days_ago, agree):
        body = {
            "date": iso(-days_ago),
            "content": f"day of stage {no}",
            "method": "hands-on",
            "hours": "8",
            "performance": "attentive",
            "effect": "understood",
        }
        await self.call(f"/stages/{no}/days", body, self.trainer(no), 201)
        confirm = {"agree": agree, "comment": None if agree else "only half a day"}
        await self.call(f"/stages/{no}/days/{iso(-days_ago)}/confirm", confirm, self.trainee())

    async def sign(self, no, agree=True):
        await self.call(f"/stages/{no}/sign-off", {"assessment": "goal reached"}, self.trainer(no))
        return await self.call(f"/stages/{no}/countersign", {"agree": agree}, self.trainee())


async def enrol_and_place(enrollment) -> None:
    body = enrolment(TRAINEE, product_series=[], enrolled_on=iso(-12))
    await register_branches(enrollment, standard_branches("dl-north"))
    clerk = enrollment.as_("clerk", Role.BRANCH_CLERK, branch_id="dl-north")
    assert (await enrollment.client.post("/trainees", json=body, headers=clerk)).status_code == 201
    examiner = enrollment.as_("ex", Role.EXAMINER, department="hr")
    placed = await enrollment.client.post(
        f"/trainees/{TRAINEE}/placement", json={"written": 85}, headers=examiner
    )
    assert placed.status_code == 200, placed.text


async def train(training) -> dict:
    flow = Flow(training)
    await approve_once_placed(training, TRAINEE)  # R-7: once the placement came over the bus
    await flow.day(1, 3, agree=True)
    await flow.sign(1)
    await flow.day(2, 2, agree=False)  # the trainee dissents from the record (R-10)
    disputed = await flow.sign(2, agree=False)  # ... and from the sign-off (R-11)
    assert disputed["stages"][1]["disputed"] is True
    await flow.sign(3)
    await flow.sign(4)
    await flow.day(5, 1, agree=True)
    back = {"to_stage": 1, "reason": "company processes not understood"}
    reopened = await flow.call("/stages/5/return", back, flow.trainer(5))  # R-12
    assert reopened["stages"][0]["status"] == "reopened"
    await flow.sign(1)
    return await flow.sign(5)


EXPECTED_TYPES = [
    "PlanDrafted",
    "PlanApproved",
    "TrainingDayLogged",
    "TrainingDayConfirmed",
    "StageAssessed",
    "StageSignedOff",
    "TrainingDayLogged",
    "TrainingDayConfirmed",
    "StageAssessed",
    "StageSignedOff",
    "StageAssessed",
    "StageSignedOff",
    "StageAssessed",
    "StageSignedOff",
    "TrainingDayLogged",
    "TrainingDayConfirmed",
    "StageReturned",
    "StageAssessed",
    "StageSignedOff",
    "StageAssessed",
    "StageSignedOff",
    "TrainingCompleted",
]


async def test_a_trainee_enrolled_at_a_branch_is_trained_to_completion(settings, amqp):
    settings = long_secret(settings)
    async with (
        running(create_training(settings), settings, "training") as training,
        running(create_enrollment(settings), settings, "enrollment") as enrollment,
    ):
        await training_listens(settings)
        await enrol_and_place(enrollment)
        await draft_once_known(training, TRAINEE, PLAN)
        completed = await train(training)
        assert completed["status"] == "completed" and completed["mastered_series"] == ["X1"]

        stream = await training.app.state.store.read_stream(f"plan-{TRAINEE}")
        assert [e.type for e in stream] == EXPECTED_TYPES
        assert [e.version for e in stream] == list(range(1, len(EXPECTED_TYPES) + 1))
        assert {e.branch_id for e in stream} == {"dl-north"}
        assert len({e.event_id for e in stream}) == len(stream)

        upstream = await enrollment.app.state.store.read_stream(f"trainee-{TRAINEE}")

        async def placement_arrived():
            rows = await training.pool.fetch(
                "SELECT event_id, type FROM inbox WHERE stream_id = $1 ORDER BY seq",
                f"trainee-{TRAINEE}",
            )
            return rows if len(rows) == len(upstream) else None

        inbox = await until(placement_arrived)
        assert [(r["event_id"], r["type"]) for r in inbox] == [
            (e.event_id, e.type) for e in upstream
        ]
        assert [r["type"] for r in inbox] == ["TraineeEnrolled", "PlacementExamScored"]
        known = await training.pool.fetchrow(
            "SELECT branch_id, status, plan_level FROM known_trainees WHERE trainee_id = $1",
            TRAINEE,
        )
        assert tuple(known) == ("dl-north", "placed", "intermediate")

        async def board_row():
            board = await training.client.get(
                "/board/progress?branch_id=dl-north", headers=training.as_("vp", Role.EXEC_VP)
            )
            # The filter names a branch training knows: a 422 until enrollment's
            # BranchRegistered has come over the bus.
            if board.status_code == 422:
                return None
            assert board.status_code == 200, board.text
            rows = board.json()["rows"]
            return rows[0] if rows and rows[0]["completed"] == 1 else None

        row = await until(board_row)
        assert (row["trainees"], row["disputes"], row["send_backs"]) == (1, 1, 1)
