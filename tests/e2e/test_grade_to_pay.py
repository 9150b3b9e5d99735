"""From enrolment to pay over the real bus: enrollment publishes an HQ trainee, assessment learns
it from its inbox and grades it from the scores examiners post, and compensation turns the
published grade into a pay rate (R-20, R-21, R-26, R-32; example A)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.enrollment.app import create_app as enrollment_app
from shared.auth import Role
from tests.integration.assessment.helpers import delete_topology
from tests.support import consuming, long_secret, register_branches, running

DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")
CONSUMERS = ("assessment", "compensation")


@pytest.fixture
async def services(settings):
    # Small pools and one partition per consumer: three apps share 2 cores and 100 connections.
    settings = long_secret(settings).model_copy(update={"pool_size": 3, "consumer_partitions": 1})
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topology, settings, list(CONSUMERS))
        started = {}
        for name, factory in (
            ("compensation", compensation_app),
            ("assessment", assessment_app),
            ("enrollment", enrollment_app),
        ):
            started[name] = await stack.enter_async_context(
                running(factory(settings), settings, name)
            )
            if name in CONSUMERS:
                await consuming(settings, name)
        yield started


async def until(check, seconds=30):
    async with asyncio.timeout(seconds):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


async def test_an_hq_engineer_graded_intermediate_is_paid_3200(services):
    enrollment, assessment, pay = (
        services[n] for n in ("enrollment", "assessment", "compensation")
    )
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await register_branches(enrollment)
    enrolled = await enrollment.client.post(
        "/trainees",
        headers=manager,
        json={
            "trainee_id": "t-pay",
            "name": "王强",
            "category": "hq_full_time",
            "branch_id": "hq",
            "education": "high_school",
            "experience_years": 4,
            "certificates": [],
            "product_series": ["X1", "X2", "X3"],
            "enrolled_on": "2026-03-01",
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    await until(
        lambda: assessment.pool.fetchval(
            "SELECT 1 FROM trainee_facts WHERE trainee_id = 't-pay' AND branch_id IS NOT NULL"
        )
    )

    client = assessment.client
    session = {"session_id": "s-pay", "product_series": "X1", "held_on": "2026-03-20"}
    assert (await client.post("/sessions", json=session, headers=manager)).status_code == 201
    hr = assessment.as_("ex-hr", Role.EXAMINER, department="hr")
    written = {"trainee_id": "t-pay", "score": 95}
    assert (
        await client.post("/sessions/s-pay/written", json=written, headers=hr)
    ).status_code == 201
    for department, score in zip(DEPARTMENTS, (96, 95, 97, 98, 94), strict=True):
        examiner = assessment.as_(f"ex-{department}", Role.EXAMINER, department=department)
        body = {"trainee_id": "t-pay", "department": department, "score": score}
        last = await client.post("/sessions/s-pay/practical", json=body, headers=examiner)
        assert last.status_code == 201, last.text
    assert last.json()["decision"]["type"] == "GradeAssigned"

    payroll = pay.as_("pay-1", Role.PAYROLL)

    async def pay_rate():
        answer = await pay.client.get("/employees/t-pay/pay-rate", headers=payroll)
        return answer.json() if answer.status_code == 200 else None

    rate = await until(pay_rate)
    assert (rate["category"], rate["position"], rate["level"], rate["monthly"]) == (
        "hq_full_time",
        "engineer",
        "intermediate",
        "3200.00",
    )
    assert [(line["name"], line["amount"]) for line in rate["lines"]] == [
        ("position", "2240.00"),
        ("performance", "960.00"),
    ]
    grade_event = await assessment.pool.fetchval(
        "SELECT event_id FROM events WHERE type = 'GradeAssigned'"
    )
    assert rate["grade_event_id"] == str(grade_event)
