"""A session held for one training content (R-24, issue 12) against PostgreSQL: the trainers of
the stages covering it answer for it, and a fined trainer keeps the failed on its list until
each passes a later sitting (the retraining read model)."""

from __future__ import annotations

from shared.auth import Role

from .helpers import EXAMPLE_A


async def plan_covering(svc, trainee_id, stages):
    """``stages``: (no, trainer, topic, covers) of an approved plan (R-7a codes in covers)."""
    specs = [
        {
            "no": no,
            "content": f"stage {no}",
            "department": "technical",
            "trainer_id": trainer,
            "product_series": None,
            "topic": topic,
            "covers": list(covers),
            "planned_start": "2026-03-02",
            "planned_end": "2026-03-06",
        }
        for no, trainer, topic, covers in stages
    ]
    stream = f"plan-{trainee_id}"
    drafted = {"trainee_id": trainee_id, "revision": 1, "stages": specs, "drafted_by": "mgr"}
    await svc.upstream("training", stream, "PlanDrafted", drafted)
    approved = {"trainee_id": trainee_id, "revision": 1, "approved_by": "vp"}
    await svc.upstream("training", stream, "PlanApproved", approved)


PLAN = [
    (1, "tr-fault", "product", ["fault_analysis", "fault_repair"]),
    (2, "tr-travel", "travel_policy", []),
    (3, "tr-build", "product", ["assembly"]),
]


async def open_for(svc, session_id, content):
    body = {"session_id": session_id, "content": content, "held_on": "2026-03-20"}
    return await svc.client.post("/sessions", json=body, headers=svc.manager())


async def close(svc, session_id):
    closed = await svc.client.post(f"/sessions/{session_id}/close", json={}, headers=svc.manager())
    assert closed.status_code == 200, closed.text
    return closed.json()


async def test_opening_a_session_needs_exactly_one_series_or_a_known_content(svc):
    both = {"session_id": "s-b", "product_series": "X1", "content": "assembly"}
    for body, field in [
        (both, "content"),
        ({"session_id": "s-n"}, "product_series"),
        ({"session_id": "s-u", "content": "wiring"}, "content"),
    ]:
        refused = await svc.client.post(
            "/sessions", json={**body, "held_on": "2026-03-20"}, headers=svc.manager()
        )
        assert refused.status_code == 422, refused.text
        assert field in refused.text
    opened = await open_for(svc, "s-ok", "travel_policy")
    assert opened.status_code == 201, opened.text
    assert (opened.json()["content"], opened.json()["product_series"]) == ("travel_policy", None)
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id = 'session-s-b'")
    ) == 0


async def test_a_content_session_fines_the_trainer_covering_it_who_keeps_the_failed_until_they_pass(
    svc,
):
    """R-24: four sit the fault_repair session, two fail (50 % -> 200) -> tr-fault is fined and
    keeps t-0 and t-1; the trainers of other stages are not assessed. At a later session t-0
    fails again (stays), t-1 passes (leaves)."""
    assert (await open_for(svc, "s-fr", "fault_repair")).status_code == 201
    for n in range(4):
        await svc.enrol(f"t-{n}")
        await plan_covering(svc, f"t-{n}", PLAN)
        await svc.sit("s-fr", f"t-{n}", written="79" if n < 2 else "90", practical=EXAMPLE_A)
    sittings = await svc.client.get("/sessions/s-fr/sittings", headers=svc.manager())
    assert [r["trainee_id"] for r in sittings.json()["rows"]] == ["t-0", "t-1", "t-2", "t-3"]
    (penalty,) = (await close(svc, "s-fr"))["penalties"]
    assert (penalty["trainer_id"], penalty["content"], penalty["product_series"]) == (
        "tr-fault", "fault_repair", None,
    )  # fmt: skip
    assert (penalty["failed"], penalty["fine"]) == (2, "200.00")
    assert "content fault_repair" in penalty["rule_trace"][0]
    board = await svc.eventually(
        "/board/trainers?session_id=s-fr", svc.manager(), lambda b: len(b["rows"]) == 1
    )
    assert (board["rows"][0]["content"], board["rows"][0]["retraining"]) == (
        "fault_repair", ["t-0", "t-1"],
    )  # fmt: skip

    assert (await open_for(svc, "s-again", "fault_repair")).status_code == 201
    await svc.sit("s-again", "t-0", written="70", practical=EXAMPLE_A)
    await svc.sit("s-again", "t-1", written="90", practical=EXAMPLE_A)
    board = await svc.eventually(
        "/board/trainers?session_id=s-fr",
        svc.management(),
        lambda b: b["rows"][0]["retraining"] == ["t-0"],
    )
    owed = await svc.client.get(
        "/trainers/tr-fault/retraining", headers=svc.service.as_("tr-fault", Role.TRAINER)
    )
    assert owed.status_code == 200, owed.text
    assert [(i["trainee_id"], i["session_id"], i["content"]) for i in owed.json()["items"]] == [
        ("t-0", "s-fr", "fault_repair")
    ]
    other = await svc.client.get(
        "/trainers/tr-fault/retraining", headers=svc.service.as_("tr-x", Role.TRAINER)
    )
    assert other.status_code == 403


async def test_a_trainer_not_held_responsible_owes_no_retraining(svc):
    """R-24: one of four failed (25 % < 30 %): no fine, so no one on the trainer's list."""
    assert (await open_for(svc, "s-ok", "assembly")).status_code == 201
    for n in range(4):
        await svc.enrol(f"t-{n}")
        await plan_covering(svc, f"t-{n}", PLAN)
        await svc.sit("s-ok", f"t-{n}", written="79" if n == 0 else "90", practical=EXAMPLE_A)
    (penalty,) = (await close(svc, "s-ok"))["penalties"]
    assert (penalty["trainer_id"], penalty["fine"]) == ("tr-build", "0.00")
    board = await svc.eventually(
        "/board/trainers?session_id=s-ok", svc.manager(), lambda b: len(b["rows"]) == 1
    )
    assert (board["rows"][0]["failed_ids"], board["rows"][0]["retraining"]) == (["t-0"], [])
    owed = await svc.client.get("/trainers/tr-build/retraining", headers=svc.manager())
    assert owed.json()["items"] == []
