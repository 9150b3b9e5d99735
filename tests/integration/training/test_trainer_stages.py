"""A trainer's stages across the plans in force (GET /trainers/{trainer_id}/stages): found
through the progress projection, read from each plan's stream, shown to the trainer itself and to
those who oversee training only."""

from __future__ import annotations

from shared.auth import Role
from tests.integration.training.helpers import (
    TRAINEE,
    clerk,
    day,
    draft,
    enrol,
    manager,
    plan_in_force,
    post,
    stages,
    trainee,
    trainer,
    vp,
    wait_projected,
)

URL = "/trainers/tr-hr/stages"


async def test_a_trainer_reads_its_own_stages_with_their_days_and_signatures(svc):
    await plan_in_force(svc)
    await post(svc, "/stages/1/days", day(hours="7.25"), trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/days", day(date="2026-03-11"), trainer(svc, "tr-hr"))
    await post(svc, "/stages/1/days/2026-03-10/confirm", {"agree": False}, trainee(svc))
    await post(svc, "/stages/1/sign-off", {"assessment": "good"}, trainer(svc, "tr-hr"))
    await wait_projected(svc)

    page = (await svc.client.get(URL, headers=trainer(svc, "tr-hr"))).json()
    assert (page["trainer_id"], page["next_cursor"]) == ("tr-hr", None)
    assert [(s["trainee_id"], s["no"]) for s in page["items"]] == [(TRAINEE, 1), (TRAINEE, 2)]
    first, second = page["items"]
    assert first == first | {
        "trainee_name": "李娜",
        "plan_status": "approved",
        "plan_version": 6,
        "topic": "company_processes",
        "department": "hr",
        "planned_start": "2026-03-02",
        "planned_end": "2026-03-27",
        "status": "open",
        "days_logged": 2,
        "hours_logged": "14.75",
        "last_day": "2026-03-11",
        "days_unconfirmed": 1,
        "days_dissented": 1,
        "signed_by_trainer": True,
        "trainer_assessment": "good",
        "countersigned": False,
        "disputed": False,
    }
    assert (second["days_logged"], second["last_day"], second["signed_by_trainer"]) == (
        0,
        None,
        False,
    )
    # The plan_version is the plan's ETag.
    shown = await svc.client.get(f"/plans/{TRAINEE}", headers=trainer(svc, "tr-hr"))
    assert shown.headers["ETag"] == f'"{first["plan_version"]}"'
    # Another trainer of the plan sees its own stage only; one without a stage, nothing.
    tech = (
        await svc.client.get("/trainers/tr-tech/stages", headers=trainer(svc, "tr-tech"))
    ).json()
    assert [s["no"] for s in tech["items"]] == [5]
    none = await svc.client.get("/trainers/tr-x/stages", headers=trainer(svc, "tr-x"))
    assert none.json()["items"] == []


async def test_only_the_trainer_and_those_who_oversee_training_read_them(svc):
    await plan_in_force(svc)
    await wait_projected(svc)
    assert (await svc.client.get(URL)).status_code == 401
    other = await svc.client.get(URL, headers=trainer(svc, "tr-as"))
    assert other.status_code == 403 and "its own stages" in other.json()["detail"]
    for refused in (clerk(svc), trainee(svc), svc.as_("pay", Role.PAYROLL)):
        assert (await svc.client.get(URL, headers=refused)).status_code == 403
    for reader in (manager(svc), vp(svc), svc.as_("boss", Role.MANAGEMENT)):
        answer = await svc.client.get(URL, headers=reader)
        assert answer.status_code == 200 and len(answer.json()["items"]) == 2


async def test_plans_not_in_force_are_left_out_and_pages_follow_the_cursor(svc):
    for trainee_id in ("t-a", "t-b", "t-c"):
        await plan_in_force(svc, trainee_id)
    await enrol(svc, "t-draft")
    assert (await draft(svc, "t-draft")).status_code == 200  # awaits approval: no work yet
    # A re-draft of t-c awaits approval (R-9): nothing can be logged against it meanwhile.
    assert (await draft(svc, "t-c", stages(s1="2026-03-20"))).status_code == 200
    await wait_projected(svc)
    headers = trainer(svc, "tr-hr")
    first = (await svc.client.get(URL + "?limit=1", headers=headers)).json()
    assert {s["trainee_id"] for s in first["items"]} == {"t-a"}
    second = await svc.client.get(f"{URL}?limit=1&cursor={first['next_cursor']}", headers=headers)
    assert {s["trainee_id"] for s in second.json()["items"]} == {"t-b"}
    assert second.json()["next_cursor"] is None
    bad = await svc.client.get(URL + "?cursor=%21%21", headers=headers)
    assert bad.status_code == 422 and "cursor" in bad.text
    assert (await svc.client.get(URL + "?limit=0", headers=headers)).status_code == 422
