"""The compensation routes over HTTP against real PostgreSQL and RabbitMQ (docs/http.md), fed
with upstream events through the consumer handler and the inbox."""

from __future__ import annotations

import pytest

from shared.auth import Role
from shared.problems import PROBLEM_JSON
from tests.integration.compensation.upstream import (
    MONTH,
    amounts,
    clerk,
    count_events,
    day_logged,
    deliver,
    disposed,
    enrolled,
    graded,
    management,
    payroll,
    payslips,
    penalty,
    run,
)


async def test_example_a_hq_engineer_intermediate_is_paid_3200_r26(svc):
    grade = graded("t-a", "engineer", "intermediate")
    await deliver(svc, enrolled("t-a"), grade)
    shown = await svc.client.get("/employees/t-a/pay-rate", headers=payroll(svc))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["employee_id"], body["category"], body["position"], body["level"]) == (
        "t-a",
        "hq_full_time",
        "engineer",
        "intermediate",
    )
    assert body["monthly"] == "3200.00"
    assert [(line["name"], line["amount"]) for line in body["lines"]] == [
        ("position", "2240.00"),
        ("performance", "960.00"),
    ]
    assert body["grade_event_id"] == str(grade.event_id)
    assert body["effective_from"] == "2026-03-05"
    assert shown.headers["ETag"] == '"1"'
    itself = svc.as_("t-a", Role.TRAINEE)
    assert (await svc.client.get("/employees/t-a/pay-rate", headers=itself)).status_code == 200
    assert (
        await svc.client.get("/employees/t-a/pay-rate", headers=management(svc))
    ).status_code == 200
    other = svc.as_("t-b", Role.TRAINEE)
    assert (await svc.client.get("/employees/t-a/pay-rate", headers=other)).status_code == 403
    assert (await svc.client.get("/employees/t-a/pay-rate")).status_code == 401


async def test_example_d_production_reserve_technician_junior_payslip_r28(svc):
    await deliver(svc, enrolled("t-d", "production_reserve"), graded("t-d", "technician", "junior"))
    travel = await svc.client.post(
        "/employees/t-d/travel", json={"month": MONTH, "days": 3}, headers=payroll(svc)
    )
    assert travel.status_code == 201, travel.text
    assert travel.json() == {"employee_id": "t-d", "version": 2, "month": MONTH, "days": 3}
    piece = await svc.client.post(
        "/employees/t-d/piece-rate",
        json={"month": MONTH, "amount": "1234.56"},
        headers=payroll(svc),
    )
    assert piece.status_code == 201, piece.text
    first = await run(svc)
    assert first.status_code == 200, first.text
    assert first.json()["issued"] == {
        "payslips": 1,
        "corrections": 0,
        "branch_fees": 0,
        "trainer_fines": 0,
    }
    (slip,) = (await payslips(svc))["payslips"]
    assert amounts(slip) == {
        "technical_allowance": "50.00",
        "piece_rate": "1234.56",
        "travel_pay": "354.55",
    }
    assert slip["total"] == "1639.11" and slip["employee_id"] == "t-d"
    assert {line["rule"] for line in slip["lines"]} == {"R-28"}


async def test_rerunning_a_month_with_the_same_inputs_issues_nothing_r32(svc):
    await deliver(svc, enrolled("t-a"), graded("t-a", "engineer", "intermediate"))
    first = await run(svc)
    assert first.json()["issued"]["payslips"] == 1
    before = await count_events(svc)
    again = await run(svc)
    assert again.status_code == 200
    assert again.json()["issued"] == {
        "payslips": 0,
        "corrections": 0,
        "branch_fees": 0,
        "trainer_fines": 0,
    }
    assert again.json()["version"] == first.json()["version"]
    assert await count_events(svc) == before
    assert [p["total"] for p in (await payslips(svc))["payslips"]] == ["3200.00"]


async def test_a_corrected_grade_issues_a_corrected_payslip_beside_the_old_one_r23_r32(svc):
    original = graded("t-a", "engineer", "intermediate")
    await deliver(svc, enrolled("t-a"), original)
    (old,) = (await run(svc)).json()["payslips"]
    correction = graded(
        "t-a",
        "engineer",
        "senior",
        assigned_at="2026-04-16T08:00:00+00:00",
        supersedes=str(original.event_id),
        dispute_id="d-1",
    )
    await deliver(svc, correction)
    rerun = (await run(svc)).json()
    assert rerun["issued"]["corrections"] == 1
    # the correction replaces the disputed grade from its first day (5 March), so
    # all of April is paid at 3500, beside the old payslip, with the difference shown.
    (new,) = rerun["payslips"]
    assert (new["total"], new["supersedes"], new["difference"]) == (
        "3500.00",
        old["payslip_id"],
        "300.00",
    )
    month = await payslips(svc)
    assert [p["payslip_id"] for p in month["payslips"]] == [new["payslip_id"]]
    assert amounts(month["payslips"][0]) == {
        "position": "2450.00",
        "performance": "1050.00",
        "travel_allowance": "0.00",
    }
    history = [(p["payslip_id"], p["total"], p["superseded"]) for p in month["history"]]
    assert history == [
        (old["payslip_id"], "3200.00", True),
        (new["payslip_id"], "3500.00", False),
    ]
    rate = (await svc.client.get("/employees/t-a/pay-rate", headers=payroll(svc))).json()
    assert (rate["level"], rate["monthly"], rate["grade_event_id"]) == (
        "senior",
        "3500.00",
        str(correction.event_id),
    )


async def test_a_failed_dealer_trainee_kept_in_training_costs_the_branch_r19(svc):
    await deliver(
        svc,
        enrolled("t-f", "branch_commissioned", "dl-north"),
        day_logged("t-f", "2026-04-03"),  # before the disposition: not charged
        disposed("t-f", "continue_training", "2026-04-10"),
        day_logged("t-f", "2026-04-10"),
        day_logged("t-f", "2026-04-12", stage_no=1),
        day_logged("t-f", "2026-04-12", stage_no=2),  # one date, one fee
        day_logged("t-f", "2026-04-20"),
        day_logged("t-f", "2026-05-02"),  # another month
    )
    # before the month's payroll run the fees are assessed, not yet issued.
    before = (await svc.client.get(f"/branch-fees/{MONTH}", headers=clerk(svc))).json()["rows"]
    assert [(r["days"], r["amount"], r["status"]) for r in before] == [(3, "600.00", "assessed")]
    assert (await run(svc)).json()["issued"]["branch_fees"] == 1
    expected = {
        "branch_id": "dl-north",
        "branch_name_zh": "dl-north",  # its names have not arrived: the id
        "branch_name_en": "dl-north",
        "trainee_id": "t-f",
        "trainee_name": "王强",
        "days": 3,
        "amount": "600.00",
        "dates": ["2026-04-10", "2026-04-12", "2026-04-20"],
        "status": "issued",
    }
    fees = await svc.client.get(f"/branch-fees/{MONTH}", headers=payroll(svc))
    assert fees.status_code == 200, fees.text
    assert fees.json()["month"] == MONTH and fees.json()["rows"] == [expected]
    own = await svc.client.get(f"/branch-fees/{MONTH}", headers=clerk(svc))
    assert own.json()["rows"] == [expected]
    other = await svc.client.get(f"/branch-fees/{MONTH}", headers=clerk(svc, "dl-south"))
    assert other.status_code == 200 and other.json()["rows"] == []
    prying = await svc.client.get(
        f"/branch-fees/{MONTH}?branch_id=dl-north", headers=clerk(svc, "dl-south")
    )
    assert prying.status_code == 403
    assert (await svc.client.get(f"/payroll/{MONTH}", headers=clerk(svc))).status_code == 403


async def test_a_trainer_penalty_with_a_fine_appears_in_the_month_it_was_assessed_r24_r33(svc):
    fined, unfined = penalty("tr-1", "150", "2026-04-28"), penalty("tr-2", "0", "2026-04-28", "0.1")
    await deliver(svc, fined, unfined, penalty("tr-3", "200", "2026-05-02", "0.5"))
    before = (await svc.client.get(f"/trainer-fines/{MONTH}", headers=management(svc))).json()
    assert [(r["trainer_id"], r["status"]) for r in before["rows"]] == [("tr-1", "assessed")]
    assert (await run(svc)).json()["issued"]["trainer_fines"] == 1
    fines = await svc.client.get(f"/trainer-fines/{MONTH}", headers=management(svc))
    assert fines.status_code == 200, fines.text
    assert fines.json()["rows"] == [
        {
            "trainer_id": "tr-1",
            "trainer_name": "tr-1",  # its registration has not arrived: the id
            "session_id": "s-1",
            "product_series": "X1",
            "content": None,
            "failure_rate": "0.4",
            "amount": "150.00",
            "penalty_event_id": str(fined.event_id),
            "status": "issued",
        }
    ]
    assert (await run(svc)).json()["issued"]["trainer_fines"] == 0  # once per penalty
    assert (await svc.client.get(f"/trainer-fines/{MONTH}", headers=clerk(svc))).status_code == 403


async def test_missing_token_is_401_and_wrong_role_is_403(svc):
    await deliver(svc, enrolled("t-d", "production_reserve"))
    body = {"month": MONTH, "days": 2}
    assert (await svc.client.post("/employees/t-d/travel", json=body)).status_code == 401
    for headers in (management(svc), clerk(svc), svc.as_("t-d", Role.TRAINEE)):
        refused = await svc.client.post("/employees/t-d/travel", json=body, headers=headers)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM_JSON
    assert (await run(svc, headers=management(svc))).status_code == 403
    assert (await svc.client.post(f"/payroll/{MONTH}/run", json={})).status_code == 401
    assert await count_events(svc) == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("travel", {"month": "2026-13", "days": 2}, "body.month"),
        ("travel", {"month": "April", "days": 2}, "body.month"),
        ("travel", {"month": MONTH, "days": -1}, "body.days"),
        ("travel", {"month": MONTH, "days": 31}, "body.days"),  # April has 30
        ("travel", {"month": MONTH, "days": "many"}, "body.days"),
        ("travel", {"month": MONTH}, "body.days"),
        ("piece-rate", {"month": MONTH, "amount": "1.234"}, "body.amount"),
        ("piece-rate", {"month": MONTH, "amount": -5}, "body.amount"),
        ("performance", {"month": MONTH, "rating": 101}, "body.rating"),
        ("performance", {"month": MONTH, "rating": "x"}, "body.rating"),
    ],
)
async def test_bad_values_are_422_naming_the_field(svc, path, body, field):
    employee = "t-d" if path == "piece-rate" else "t-a"
    await deliver(svc, enrolled("t-d", "production_reserve"), enrolled("t-a"))
    answer = await svc.client.post(f"/employees/{employee}/{path}", json=body, headers=payroll(svc))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert await count_events(svc) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/payroll/2026-4",
        "/payroll/abc/export.csv",
        "/branch-fees/2026-00",
        "/trainer-fines/26-04",
        "/payroll/0000-01/export.xlsx",
    ],
)
async def test_a_month_that_is_not_yyyy_mm_is_422(svc, path):
    answer = await svc.client.get(path, headers=payroll(svc))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "path.month"
    assert (await run(svc, month="2026-4")).status_code == 422


async def test_rules_refuse_inputs_that_pay_nothing_409_and_unknown_employees_404(svc):
    await deliver(svc, enrolled("t-a"), enrolled("t-d", "production_reserve"))
    await deliver(svc, enrolled("t-b", "branch_commissioned", "dl-north"))
    cases = [
        ("t-a", "piece-rate", {"month": MONTH, "amount": 10}, "R-28"),
        ("t-d", "performance", {"month": MONTH, "rating": 90}, "R-27"),
        ("t-b", "travel", {"month": MONTH, "days": 2}, "R-31"),
    ]
    for employee, path, body, rule in cases:
        refused = await svc.client.post(
            f"/employees/{employee}/{path}", json=body, headers=payroll(svc)
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith(f"/rules/{rule}")
    nobody = await svc.client.post(
        "/employees/t-zz/travel", json={"month": MONTH, "days": 1}, headers=payroll(svc)
    )
    assert nobody.status_code == 404
    missing = await svc.client.get("/employees/t-b/pay-rate", headers=payroll(svc))
    assert missing.status_code == 404  # no rate for branch-commissioned staff


async def test_idempotent_repeat_replays_and_a_changed_body_is_422(svc):
    await deliver(svc, enrolled("t-a"), graded("t-a", "engineer", "junior"))
    headers = {**payroll(svc), "Idempotency-Key": "travel-t-a-04"}
    body = {"month": MONTH, "days": 4}
    first = await svc.client.post("/employees/t-a/travel", json=body, headers=headers)
    again = await svc.client.post("/employees/t-a/travel", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    changed = await svc.client.post(
        "/employees/t-a/travel", json={**body, "days": 5}, headers=headers
    )
    assert changed.status_code == 422
    assert await count_events(svc, "TravelDaysRecorded") == 1
    run_key = {**payroll(svc), "Idempotency-Key": "run-04"}
    ran = await svc.client.post(f"/payroll/{MONTH}/run", json={}, headers=run_key)
    replayed = await svc.client.post(f"/payroll/{MONTH}/run", json={}, headers=run_key)
    assert ran.json() == replayed.json() and replayed.headers["Idempotent-Replayed"] == "true"
    # 3000 + 4 travel days x 50 allowance
    assert ran.json()["payslips"][0]["total"] == "3200.00"


async def test_stale_if_match_is_412(svc):
    await deliver(svc, enrolled("t-a"), graded("t-a", "engineer", "junior"))
    stale = {**payroll(svc), "If-Match": '"7"'}
    body = {"month": MONTH, "rating": 90}
    answer = await svc.client.post("/employees/t-a/performance", json=body, headers=stale)
    assert answer.status_code == 412
    fresh = {**payroll(svc), "If-Match": '"1"'}
    answer = await svc.client.post("/employees/t-a/performance", json=body, headers=fresh)
    assert answer.status_code == 201 and answer.headers["ETag"] == '"2"'


async def test_a_payroll_run_of_a_month_before_any_pay_policy_is_409_not_500(svc):
    """A well-formed month the pay policy does not cover (its first version is of 2000-01)."""
    answer = await run(svc, month="1999-12")
    assert answer.status_code == 409, answer.text
    assert "no pay policy" in answer.json()["detail"]
    assert await count_events(svc) == 0


async def test_a_content_sessions_penalty_is_fined_with_its_content_and_no_series_r24(svc):
    content_penalty = penalty("tr-4", "200", "2026-04-15", "0.5", series=None)
    content_penalty.data["content"] = "SAFETY"  # a session held for a training content
    await deliver(svc, content_penalty)
    assert (await run(svc)).json()["issued"]["trainer_fines"] == 1
    fines = (await svc.client.get(f"/trainer-fines/{MONTH}", headers=payroll(svc))).json()
    assert [
        (r["trainer_id"], r["product_series"], r["content"], r["amount"], r["status"])
        for r in fines["rows"]
    ] == [("tr-4", None, "SAFETY", "200.00", "issued")]
