"""R-7/R-7a and R-18a over HTTP against real PostgreSQL: the plan level shapes the plan, and a
completed plan is re-drafted as a remedial revision after a continue_training disposition that
came in through the consumer (docs/http.md, training)."""

from __future__ import annotations

from tests.integration.training.helpers import (
    NOW,
    TRAINEE,
    deliver,
    draft,
    enrol,
    event_count,
    place,
    post,
    stage,
    trainee,
    trainer,
    vp,
)
from tests.integration.training.test_http import assert_rule
from tests.support import delivered, mandatory_stages

APPROVE = f"/plans/{TRAINEE}/approve"
BASIC = [
    "circuit_diagrams",
    "electrical_components",
    "power_tools",
    "assembly",
    "commissioning",
    "working_principle",
    "product_structure",
]


def basic_plan(covers=BASIC):
    """The four mandatory topics and one product stage covering ``covers``."""
    return [
        *mandatory_stages(covers=()),
        {**stage(5, "product", "technical", "tr-tech", "X1"), "covers": list(covers)},
    ]


async def shown(svc):
    answer = await svc.client.get(f"/plans/{TRAINEE}", headers=vp(svc))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_r7a_an_unknown_content_code_is_422_naming_the_stage_and_code(svc):
    await enrol(svc)
    answer = await draft(svc, plan=basic_plan([*BASIC, "juggling"]))
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert (error["field"], error["rule"]) == ("body.stages.4.covers.7", "R-7a")
    assert await event_count(svc) == 0


async def test_r7_approval_needs_the_placement_then_every_item_of_its_level(svc):
    # Given a basic plan missing power_tools, for a trainee whose placement has not arrived
    await enrol(svc, plan_level=None)
    assert (await draft(svc, plan=basic_plan([c for c in BASIC if c != "power_tools"]))).is_success
    table = await shown(svc)
    assert (table["plan_level"], table["content_missing"]) == (None, None)
    assert table["stages"][4]["covers"] == [c for c in BASIC if c != "power_tools"]
    # Then the approval is refused: no placement yet (R-7)
    refused = await svc.client.post(APPROVE, json={}, headers=vp(svc))
    assert_rule(refused, "R-7")
    assert "placement" in refused.json()["detail"]
    # When the placement arrives (basic), the approval names the one item missing
    await place(svc, plan_level="basic")
    assert (await shown(svc))["content_missing"] == ["power_tools"]
    refused = await svc.client.post(APPROVE, json={}, headers=vp(svc))
    assert_rule(refused, "R-7")
    assert refused.json()["detail"].endswith("basic items: power_tools")
    # Covered: approved, recording the level and the policy version
    assert (await draft(svc, plan=basic_plan())).is_success
    assert (await shown(svc))["content_missing"] == []
    assert (await svc.client.post(APPROVE, json={}, headers=vp(svc))).status_code == 200
    data = await svc.pool.fetchval("SELECT data FROM events WHERE type = 'PlanApproved'")
    assert (data["plan_level"], data["policy_version"]) == ("basic", "plan_content-2026.1")


def disposition(outcome, on="2026-03-16", session="s-1", version=7):
    data = {
        "trainee_id": TRAINEE,
        "session_id": session,
        "outcome": outcome,
        "reason": "fault finding too slow",
        "decided_on": on,
        "decided_by": "mgr",
        "extra": "ignored",
    }
    stream = f"assessment-{session}/{TRAINEE}"
    return delivered("assessment", "DispositionDecided", stream, data, version, at=NOW)


async def completed(svc):
    """The basic plan approved and every stage signed off: the training completed."""
    await enrol(svc, plan_level="basic")
    assert (await draft(svc, plan=basic_plan())).is_success
    assert (await svc.client.post(APPROVE, json={}, headers=vp(svc))).status_code == 200
    for spec in basic_plan():
        no, who = spec["no"], trainer(svc, spec["trainer_id"])
        assert (await post(svc, f"/stages/{no}/sign-off", {"assessment": "ok"}, who)).is_success
        answer = await post(svc, f"/stages/{no}/countersign", {"agree": True}, trainee(svc))
        assert answer.is_success, answer.text
    assert (await shown(svc))["status"] == "completed"


REMEDIAL = [*basic_plan(), stage(6, "product", "technical", "tr-tech", "X1", start="2026-03-16")]


async def test_r18a_a_completed_plan_is_redrafted_remedial_only_after_continue_training(svc):
    await completed(svc)
    # No disposition yet, then reserve: 409 R-18a
    assert_rule(await draft(svc, plan=REMEDIAL), "R-18a")
    assert (await shown(svc))["remedial_due"] is False
    assert await deliver(svc, disposition("reserve", on="2026-03-15", session="s-0"))
    assert_rule(await draft(svc, plan=REMEDIAL), "R-18a")
    # continue_training (a later disposition; an older one arriving late changes nothing)
    assert await deliver(svc, disposition("continue_training"))
    assert await deliver(svc, disposition("workshop", on="2026-03-14", session="s-z"))
    table = await shown(svc)
    assert table["disposition"] == {"outcome": "continue_training", "decided_on": "2026-03-16"}
    assert table["remedial_due"] is True
    drafted = await draft(svc, plan=REMEDIAL)
    assert drafted.status_code == 200, drafted.text
    assert (drafted.json()["status"], drafted.json()["remedial"]) == ("draft", True)
    # R-9: no remedial day before the approval; then the day is logged against it
    day = {"date": "2026-03-16", "content": "faults", "method": "bench", "hours": "8"}
    day |= {"performance": "better", "effect": "finds faults"}
    tech = trainer(svc, "tr-tech")
    assert_rule(await post(svc, "/stages/6/days", day, tech), "R-9")
    assert (await svc.client.post(APPROVE, json={}, headers=vp(svc))).status_code == 200
    assert (await post(svc, "/stages/6/days", day, tech)).status_code == 201
    table = await shown(svc)
    assert [s["status"] for s in table["stages"]] == ["signed_off"] * 5 + ["open"]
    assert (table["remedial"], table["remedial_due"]) == (True, False)
