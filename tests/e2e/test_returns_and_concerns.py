"""R-12a and R-12b over the real bus: a send-back ended by an accepted explanation signs the
stage again, for training and for assessment's view of the plan (R-14); a concern about a
branch-commissioned trainee reaches the manager's queue and its handling shows on the plan."""

from __future__ import annotations

from services.assessment.domain.trainee_record import mastered_series
from services.assessment.upstream import load_plan
from shared.auth import Role
from tests.e2e.helpers import approve_once_placed, draft_once_known, enrol
from tests.support import mandatory_stages, ok, plan_stage, until

TRAINEE = "t-returns"
# Stage 5 teaches X1 (tr-tech), stage 6 teaches X2 (tr-prod): stage 6 sends the trainee back.
PLAN = [
    *mandatory_stages(),
    plan_stage(5, "product", "technical", "tr-tech", "X1"),
    plan_stage(6, "product", "production", "tr-prod", "X2"),
]
TRAINER_OF = {s["no"]: s["trainer_id"] for s in PLAN}


class Plan:
    """The calls on the trainee's plan, each asserting its status."""

    def __init__(self, training):
        self.svc = training

    async def post(self, path, body, who, status=200):
        answer = await self.svc.client.post(f"/plans/{TRAINEE}{path}", json=body, headers=who)
        assert answer.status_code == status, answer.text
        return answer.json()

    def trainer(self, no):
        return self.svc.as_(TRAINER_OF[no], Role.TRAINER)

    async def sign(self, no):
        await self.post(f"/stages/{no}/sign-off", {"assessment": "goal reached"}, self.trainer(no))
        trainee = self.svc.as_(TRAINEE, Role.TRAINEE)
        return await self.post(f"/stages/{no}/countersign", {"agree": True}, trainee)


async def assessment_masters(assessment, expected: list[str]) -> None:
    """Until assessment's view of the plan in force masters exactly ``expected`` (R-14)."""

    async def check():
        plan = await load_plan(assessment.pool, TRAINEE)
        return mastered_series([], plan.in_force) == expected

    await until(check)


async def test_an_accepted_explanation_signs_the_stage_again_for_assessment_too(start):
    apps = await start("assessment", "training", "enrollment")
    training, assessment = apps["training"], apps["assessment"]
    await enrol(apps["enrollment"], TRAINEE, placed=True, product_series=[])
    await draft_once_known(training, TRAINEE, PLAN)
    plan = Plan(training)
    await approve_once_placed(training, TRAINEE)
    for no in (1, 2, 3, 4, 5):
        await plan.sign(no)
    await assessment_masters(assessment, ["X1"])

    back = {"to_stage": 5, "reason": "cannot read the X1 diagrams"}
    await plan.post("/stages/6/return", back, plan.trainer(6))  # R-12
    await assessment_masters(assessment, [])
    early = await training.client.post(
        f"/plans/{TRAINEE}/stages/5/return/accept", json={}, headers=plan.trainer(6)
    )
    assert early.status_code == 409 and early.json()["type"].endswith("R-12a"), early.text
    wrong = await training.client.post(
        f"/plans/{TRAINEE}/stages/5/return/explanation",
        json={"explanation": "reached"},
        headers=plan.trainer(6),
    )
    assert wrong.status_code == 403, wrong.text

    reason = {"explanation": "the diagrams were tested on the last day"}
    explained = await plan.post("/stages/5/return/explanation", reason, plan.trainer(5))
    assert explained["stages"][4]["send_backs"][0]["status"] == "explained"
    accepted = await plan.post("/stages/5/return/accept", {"comment": "agreed"}, plan.trainer(6))
    stage = accepted["stages"][4]
    assert stage["status"] == "signed_off" and stage["trainer_assessment"] == "goal reached"
    (send_back,) = stage["send_backs"]
    assert (send_back["reason"], send_back["explanation"], send_back["acceptance_comment"]) == (
        "cannot read the X1 diagrams",
        "the diagrams were tested on the last day",
        "agreed",
    )
    assert accepted["mastered_series"] == ["X1"]
    await assessment_masters(assessment, ["X1"])  # R-12a: the series is mastered again

    completed = await plan.sign(6)
    assert completed["status"] == "completed"
    await assessment_masters(assessment, ["X1", "X2"])


async def test_a_concern_reaches_the_managers_queue_and_its_handling_shows_on_the_plan(start):
    apps = await start("training", "enrollment")
    training = apps["training"]
    await enrol(apps["enrollment"], TRAINEE, placed=True)  # branch-commissioned, of dl-north
    await draft_once_known(training, TRAINEE, PLAN)
    plan = Plan(training)
    await approve_once_placed(training, TRAINEE)
    manager = training.as_("mgr", Role.AFTER_SALES_MANAGER)

    stranger = training.as_("tr-elsewhere", Role.TRAINER)
    body = {"stage_no": 5, "text": "cannot keep up with the wiring"}
    await plan.post("/concerns", body, stranger, 403)
    await plan.post("/concerns", {"stage_no": 5, "text": "  "}, plan.trainer(5), 422)
    noted = await plan.post("/concerns", body, plan.trainer(5), 201)
    concern_id = noted["concern_id"]

    async def queued(status):
        answer = await ok(training.client.get(f"/concerns?status={status}", headers=manager))
        return [c for c in answer["items"] if c["concern_id"] == concern_id]

    (item,) = await until(lambda: queued("open"))
    assert (item["trainee_id"], item["branch_id"], item["category"]) == (
        TRAINEE,
        "dl-north",
        "branch_commissioned",
    )
    handling = {"verified": True, "handling": "two more weeks on stage 5"}
    path = f"/concerns/{concern_id}/handling"
    table = await plan.post(path, handling, manager)
    (concern,) = table["concerns"]
    assert (concern["text"], concern["verified"], concern["handling"]) == (
        "cannot keep up with the wiring",
        True,
        "two more weeks on stage 5",
    )
    await plan.post(path, handling, manager, 409)  # handled once
    await plan.post("/concerns/c-unknown/handling", handling, manager, 404)
    shown = await ok(training.client.get(f"/plans/{TRAINEE}", headers=manager))
    assert shown["concerns"][0]["handled_by"] == "mgr"
    await until(lambda: queued("handled"))
    assert await queued("open") == []
