"""The pay and fee policies of compensation (docs/policy.md): seeded on first start, published by
payroll (pay) or the executive vice-president, and a pay version published today setting the
rate of a grade of today through the consumer, while a grade of March keeps the version of March."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from shared.auth import Role
from tests.integration.compensation.upstream import deliver, enrolled, graded, payroll


def vp(svc):
    return svc.as_("vp-1", Role.EXEC_VP)


async def test_payroll_publishes_pay_and_a_grade_of_today_is_paid_under_it(svc):
    today = datetime.now(UTC).date()
    shown = (await svc.client.get("/policies/pay", headers=payroll(svc))).json()
    assert [v["version"] for v in shown["versions"]] == ["pay-2026.1"]
    document = copy.deepcopy(shown["in_force"]["document"])
    row = next(
        r
        for r in document["rows"]
        if (r["category"], r["position"], r["level"])
        == ("hq_full_time", "engineer", "intermediate")
    )
    row["monthly"] = "3300"
    draft = {"version": "pay-2027.1", "effective_from": today.isoformat(), "document": document}
    published = await svc.client.post("/policies/pay", json=draft, headers=payroll(svc))
    assert published.status_code == 201, published.text
    assert published.json()["changes"] == [
        "rows[hq_full_time/engineer/intermediate].monthly: 3200 → 3300"
    ]

    await deliver(
        svc,
        enrolled("t-now"),
        enrolled("t-march"),
        graded("t-now", "engineer", "intermediate", assigned_at=f"{today}T08:00:00+00:00"),
        graded("t-march", "engineer", "intermediate"),
    )
    now = await svc.client.get("/employees/t-now/pay-rate", headers=payroll(svc))
    march = await svc.client.get("/employees/t-march/pay-rate", headers=payroll(svc))
    assert now.json()["monthly"] == "3300.00"
    assert march.json()["monthly"] == "3200.00"  # the version in force on its day


async def test_fees_are_the_vps_and_a_later_version_waits_for_its_date(svc):
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    draft = {
        "version": "fees-2027.1",
        "effective_from": tomorrow,
        "document": {"branch_fee_per_training_day": "250"},
    }
    refused = await svc.client.post("/policies/fees", json=draft, headers=payroll(svc))
    assert refused.status_code == 403
    published = await svc.client.post("/policies/fees", json=draft, headers=vp(svc))
    assert published.status_code == 201, published.text
    assert published.json()["changes"] == ["branch_fee_per_training_day: 200 → 250"]
    today = (await svc.client.get("/policies/fees", headers=payroll(svc))).json()
    assert today["in_force"]["version"] == "fees-2026.1"
    later = await svc.client.get(f"/policies/fees?at={tomorrow}", headers=payroll(svc))
    assert later.json()["in_force"]["version"] == "fees-2027.1"
    bad = {**draft, "version": "fees-2027.2", "document": {"branch_fee_per_training_day": "-1"}}
    answer = await svc.client.post("/policies/fees", json=bad, headers=vp(svc))
    assert answer.status_code == 422
    assert {(e["field"], e["message"]) for e in answer.json()["errors"]} == {
        ("body.document.branch_fee_per_training_day", "must be positive, not -1"),
        ("body.effective_from", f"version fees-2027.1 takes effect on {tomorrow} already"),
    }
