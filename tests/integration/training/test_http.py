"""The training write routes over HTTP against real PostgreSQL and RabbitMQ (docs/http.md)."""

from __future__ import annotations

import pytest

from shared.auth import Role
from shared.problems import PROBLEM_JSON
from tests.integration.training.helpers import (
    TRAINEE,
    clerk,
    day,
    deliver,
    draft,
    enrol,
    enrollment_envelope,
    event_count,
    manager,
    plan_in_force,
    post,
    stage,
    stages,
    trainee,
    trainer,
    vp,
)


def assert_rule(answer, rule):
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["type"].endswith(f"/rules/{rule}")


async def test_plan_for_a_trainee_not_yet_enrolled_here_is_404_until_the_enrolment_arrives(svc):
    unknown = await draft(svc)
    assert unknown.status_code == 404 and unknown.headers["Retry-After"] == "1"
    assert unknown.json()["detail"] == (
        "trainee t-1 is not known to training yet: its enrolment has not arrived"
    )
    await enrol(svc)
    drafted = await draft(svc)
    assert drafted.status_code == 200, drafted.text
    assert drafted.headers["ETag"] == '"1"'
    body = drafted.json()
    assert (body["trainee_id"], body["status"], body["version"]) == (TRAINEE, "draft", 1)
    assert [s["no"] for s in body["stages"]] == [1, 2, 3, 4, 5]
    event = await svc.pool.fetchrow(
        "SELECT type, branch_id, actor FROM events WHERE stream_id NOT LIKE 'policy-%'"
    )
    assert event["type"] == "PlanDrafted" and event["branch_id"] == "dl-north"
    assert event["actor"] == {"sub": "mgr", "role": "after_sales_manager"}


async def test_drafting_roles_401_403_and_production_managers_draft_for_production_reserve(svc):
    await enrol(svc)
    await enrol(svc, "t-prod", category="production_reserve", branch_id="hq")
    body = {"stages": stages()}
    assert (await svc.client.put("/plans/t-1", json=body)).status_code == 401
    assert (await draft(svc, headers=trainer(svc, "tr-hr"))).status_code == 403
    assert (await draft(svc, headers=clerk(svc))).status_code == 403
    production = svc.as_("pm", Role.PRODUCTION_MANAGER)
    refused = await draft(svc, headers=production)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM_JSON
    assert await event_count(svc) == 0
    assert (await draft(svc, "t-prod", headers=production)).status_code == 200


WRITES = [  # method, path, body, who may, a role that may not
    ("PUT", "", {"stages": stages()}, "mgr", "exec_vp"),
    ("POST", "/approve", {}, "vp", "after_sales_manager"),
    ("POST", "/stages/1/days", day(), "tr-hr", "trainee"),
    ("POST", "/stages/1/days/2026-03-10/confirm", {"agree": True}, TRAINEE, "trainer"),
    ("POST", "/stages/1/sign-off", {"assessment": "ok"}, "tr-hr", "trainee"),
    ("POST", "/stages/1/countersign", {"agree": True}, TRAINEE, "trainer"),
    ("POST", "/stages/3/return", {"to_stage": 1, "reason": "x"}, "tr-as", "trainee"),
]
ROLE_OF = {"mgr": Role.AFTER_SALES_MANAGER, "vp": Role.EXEC_VP, TRAINEE: Role.TRAINEE}


@pytest.mark.parametrize(("method", "path", "body", "who", "wrong_role"), WRITES)
async def test_every_plan_write_is_401_without_token_403_for_a_wrong_role_412_when_stale(
    svc, method, path, body, who, wrong_role
):
    await plan_in_force(svc)
    url = f"/plans/{TRAINEE}{path}"
    assert (await svc.client.request(method, url, json=body)).status_code == 401
    wrong = svc.as_(who, wrong_role)
    assert (await svc.client.request(method, url, json=body, headers=wrong)).status_code == 403
    right = {**svc.as_(who, ROLE_OF.get(who, Role.TRAINER)), "If-Match": '"1"'}
    stale = await svc.client.request(method, url, json=body, headers=right)
    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == 2
    assert await event_count(svc) == 2


async def test_a_withdrawn_trainee_gets_no_plan_409(svc):
    await enrol(svc)  # enrolled (version 1) and placed (version 2)
    await deliver(svc, enrollment_envelope("TraineeWithdrawn", {"trainee_id": TRAINEE}, 3))
    refused = await draft(svc)
    assert refused.status_code == 409
    assert "withdrawn" in refused.json()["detail"]


async def test_a_withdrawn_trainee_is_403_not_409_for_a_trainer_of_none_of_its_stages(svc):
    """Authorization before the withdrawal: an outsider learns nothing about the trainee."""
    await plan_in_force(svc)
    await deliver(svc, enrollment_envelope("TraineeWithdrawn", {"trainee_id": TRAINEE}, 3))
    body = {"assessment": "ok"}
    url = f"/plans/{TRAINEE}/stages/1/sign-off"

    outsider = await svc.client.post(url, json=body, headers=svc.as_("tr-other", Role.TRAINER))
    own = await svc.client.post(url, json=body, headers=svc.as_("tr-hr", Role.TRAINER))

    assert outsider.status_code == 403 and "withdrawn" not in outsider.text
    assert own.status_code == 409 and "withdrawn" in own.json()["detail"]
    assert await event_count(svc) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p[0].update(department="canteen"), "body.stages.0.department"),
        (lambda p: p[1].update(topic="gossip"), "body.stages.1.topic"),
        (lambda p: p[1].update(no=1), "body.stages.1.no"),  # numbers ascend (R-8)
        (lambda p: p[0].update(no=0), "body.stages.0.no"),
        (lambda p: p[0].pop("trainer_id"), "body.stages.0.trainer_id"),
        (lambda p: p[0].update(planned_end="2026-03-01"), "body.stages.0.planned_end"),
        (lambda p: p[0].update(content=" "), "body.stages.0.content"),
        (lambda p: p[0].update(colour="red"), "body.stages.0.colour"),
        (lambda p: p.clear(), "body.stages"),
    ],
)
async def test_bad_plans_are_422_naming_the_field_and_append_nothing(svc, change, field):
    await enrol(svc)
    plan = stages()
    change(plan)
    answer = await draft(svc, plan=plan)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert await event_count(svc) == 0


async def test_approval_by_the_exec_vp_only_needs_the_mandatory_topics_and_a_fresh_version(svc):
    await enrol(svc)
    url = f"/plans/{TRAINEE}/approve"
    assert (await svc.client.post(url, json={})).status_code == 401
    assert (await svc.client.post(url, json={}, headers=manager(svc))).status_code == 403
    assert (await svc.client.post(url, json={}, headers=vp(svc))).status_code == 404
    without_travel = [s for s in stages() if s["topic"] != "travel_policy"]
    assert (await draft(svc, plan=without_travel)).status_code == 200
    assert_rule(await svc.client.post(url, json={}, headers=vp(svc)), "R-8a")
    assert (await draft(svc)).status_code == 200  # revision 2, version 2
    stale = await svc.client.post(url, json={}, headers={**vp(svc), "If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await svc.client.post(url, json={"note": "x"}, headers=vp(svc))).status_code == 422
    done = await svc.client.post(url, json={}, headers={**vp(svc), "If-Match": '"2"'})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.headers["ETag"]) == ("approved", '"3"')
    again = await svc.client.post(url, json={}, headers=vp(svc))
    assert again.status_code == 409 and again.json()["type"].endswith("/conflict")


async def test_no_training_day_before_approval_r9(svc):
    await enrol(svc)
    await draft(svc)
    assert_rule(await post(svc, "/stages/1/days", day(), trainer(svc, "tr-hr")), "R-9")


async def test_the_stages_trainer_logs_days_and_the_trainee_confirms_them(svc):
    await plan_in_force(svc)
    url = "/stages/1/days"
    assert (await svc.client.post(f"/plans/{TRAINEE}{url}", json=day())).status_code == 401
    assert (await post(svc, url, day(), trainee(svc))).status_code == 403  # wrong role
    other = await post(svc, url, day(), trainer(svc, "tr-as"))  # not this stage's trainer
    assert other.status_code == 403 and "another trainer" in other.json()["detail"]
    assert (await post(svc, "/stages/9/days", day(), trainer(svc, "tr-hr"))).status_code == 404
    unknown = await svc.client.post(
        "/plans/t-404/stages/1/days", json=day(), headers=trainer(svc, "tr-hr")
    )
    assert unknown.status_code == 404
    for bad, field in (
        ({"hours": 0}, "body.hours"),
        ({"hours": "24.5"}, "body.hours"),
        ({"content": ""}, "body.content"),
        ({"date": "2026-03-17"}, "body.date"),
        ({"minutes": 5}, "body.minutes"),
    ):
        answer = await post(svc, url, day(**bad), trainer(svc, "tr-hr"))
        assert answer.status_code == 422, bad
        assert field in [e["field"] for e in answer.json()["errors"]]
    logged = await post(svc, url, day(), trainer(svc, "tr-hr"))
    assert logged.status_code == 201, logged.text
    assert logged.json()["stages"][0]["days"][0]["hours"] == "7.5"
    assert logged.headers["ETag"] == '"3"'
    confirm = "/stages/1/days/2026-03-10/confirm"
    assert (await post(svc, confirm, {"agree": True}, trainer(svc, "tr-hr"))).status_code == 403
    assert (await post(svc, confirm, {"agree": True}, trainee(svc, "t-2"))).status_code == 403
    bad_date = await post(svc, "/stages/1/days/10-03/confirm", {"agree": True}, trainee(svc))
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "path.date"
    assert (await post(svc, confirm, {"agree": "maybe"}, trainee(svc))).status_code == 422
    dissent = await post(svc, confirm, {"agree": False, "comment": "only 4h"}, trainee(svc))
    assert dissent.status_code == 200, dissent.text
    shown = dissent.json()["stages"][0]["days"][0]
    assert (shown["confirmed"], shown["agree"], shown["comment"]) == (True, False, "only 4h")
    assert (await post(svc, confirm, {"agree": True}, trainee(svc))).status_code == 409


async def test_sign_off_countersign_and_send_back_r11_r12(svc):
    await plan_in_force(svc)
    signed = {"assessment": "goal reached"}
    assert (await post(svc, "/stages/1/sign-off", signed, trainer(svc, "tr-as"))).status_code == 403
    assert (await post(svc, "/stages/1/sign-off", signed, trainee(svc))).status_code == 403
    assert (
        await post(svc, "/stages/1/sign-off", {"assessment": ""}, trainer(svc, "tr-hr"))
    ).status_code == 422
    assert_rule(await post(svc, "/stages/1/countersign", {"agree": True}, trainee(svc)), "R-11")
    assert (await post(svc, "/stages/1/sign-off", signed, trainer(svc, "tr-hr"))).status_code == 200
    assert (
        await post(svc, "/stages/1/countersign", {"agree": True}, trainee(svc, "t-2"))
    ).status_code == 403
    disputed = await post(svc, "/stages/1/countersign", {"agree": False}, trainee(svc))
    assert disputed.status_code == 200
    first = disputed.json()["stages"][0]
    assert (first["status"], first["disputed"], first["trainer_assessment"]) == (
        "signed_off",
        True,
        "goal reached",
    )
    back = {"to_stage": 1, "reason": "cannot read diagrams"}
    assert (await post(svc, "/stages/3/return", back, trainer(svc, "tr-hr"))).status_code == 403
    assert_rule(
        await post(svc, "/stages/3/return", {**back, "to_stage": 2}, trainer(svc, "tr-as")), "R-12"
    )
    assert_rule(
        await post(svc, "/stages/3/return", {**back, "to_stage": 4}, trainer(svc, "tr-as")), "R-12"
    )
    assert (
        await post(svc, "/stages/3/return", {**back, "reason": ""}, trainer(svc, "tr-as"))
    ).status_code == 422
    assert (await post(svc, "/stages/3/return", {"reason": "x"}, trainer(svc, "tr-as"))).json()[
        "errors"
    ][0]["field"] == "body.to_stage"
    returned = await post(svc, "/stages/3/return", back, trainer(svc, "tr-as"))
    assert returned.status_code == 200, returned.text
    assert returned.json()["stages"][0]["status"] == "reopened"
    held = await post(svc, "/stages/2/days", day(), trainer(svc, "tr-hr"))
    assert_rule(held, "R-12")  # training does not continue past the reopened stage


async def test_a_repeated_write_with_its_key_replays_and_appends_nothing(svc):
    await plan_in_force(svc)
    headers = {**trainer(svc, "tr-hr"), "Idempotency-Key": "day-1"}
    first = await post(svc, "/stages/1/days", day(), headers)
    again = await post(svc, "/stages/1/days", day(), headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert await event_count(svc) == 3
    other = await post(svc, "/stages/1/days", day(hours="6"), headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    put = {**manager(svc), "Idempotency-Key": "plan-2"}
    changed = stages(s5="2026-04-03")
    assert (await draft(svc, plan=changed, headers=put)).status_code == 200
    replayed = await draft(svc, plan=changed, headers=put)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert await event_count(svc) == 4
    same = await draft(svc, plan=changed)  # the same plan without a key: no new revision either
    assert same.status_code == 200 and same.json()["revision"] == 2
    assert await event_count(svc) == 4


async def test_demerits_are_recorded_by_the_after_sales_manager_r13(svc):
    await enrol(svc)
    url = "/trainers/tr-hr/demerits"
    body = {"reason": "perfunctory daily records", "trainee_id": TRAINEE}
    assert (await svc.client.post(url, json=body)).status_code == 401
    assert (await svc.client.post(url, json=body, headers=vp(svc))).status_code == 403
    assert (await svc.client.post(url, json=body, headers=clerk(svc))).status_code == 403
    for bad, field in (
        ({"reason": ""}, "body.reason"),
        ({"trainee_id": "t-404"}, "body.trainee_id"),
        ({"trainee_id": "bad id!"}, "body.trainee_id"),
    ):
        answer = await svc.client.post(url, json={**body, **bad}, headers=manager(svc))
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field
    first = await svc.client.post(url, json=body, headers=manager(svc))
    assert first.status_code == 201, first.text
    assert first.json() == {"trainer_id": "tr-hr", "demerits": 1, "version": 1}
    assert first.headers["ETag"] == '"1"'
    stale = await svc.client.post(url, json=body, headers={**manager(svc), "If-Match": '"0"'})
    assert stale.status_code == 412
    second = await svc.client.post(url, json={"reason": "again"}, headers=manager(svc))
    assert second.json()["demerits"] == 2
    rows = await svc.pool.fetch(
        "SELECT stream_id, branch_id FROM events WHERE stream_id NOT LIKE 'policy-%' ORDER BY position"
    )
    assert [tuple(r) for r in rows] == [("trainer-tr-hr", "dl-north"), ("trainer-tr-hr", None)]


async def test_a_stage_of_another_product_series_may_be_added_by_redrafting(svc):
    """A changed approved plan goes back to draft and needs a new approval (R-9)."""
    await plan_in_force(svc)
    extra = [*stages(), stage(6, "product", "production", "tr-prod", "X2")]
    redrafted = await draft(svc, plan=extra)
    assert (redrafted.json()["status"], redrafted.json()["revision"]) == ("draft", 2)
    assert_rule(await post(svc, "/stages/1/days", day(), trainer(svc, "tr-hr")), "R-9")
