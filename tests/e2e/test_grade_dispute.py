"""A trainee's grade and its dispute across services, over the real bus: enrollment publishes the
trainee, assessment learns it from its inbox, grades it, and a corrected dispute re-grades it
(R-14, R-20 to R-23). Training runs beside them, consuming the same enrolment."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from services.assessment.app import create_app as assessment_app
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from shared.auth import Role
from tests.integration.assessment.helpers import delete_topology
from tests.support import consuming, long_secret, register_branches, running

DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")


@pytest.fixture
async def services(settings):
    # Small pools and one partition per consumer: three apps share 2 cores and 100 connections.
    settings = long_secret(settings).model_copy(update={"pool_size": 3, "consumer_partitions": 1})
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topology, settings, ["assessment", "training"])
        started = {}
        for name, factory in (
            ("assessment", assessment_app),
            ("training", training_app),
            ("enrollment", enrollment_app),
        ):
            started[name] = await stack.enter_async_context(
                running(factory(settings), settings, name)
            )
            if name != "enrollment":
                await consuming(settings, name)
        yield started


async def known_to_assessment(assessment, trainee_id: str) -> None:
    async with asyncio.timeout(30):
        while not await assessment.pool.fetchval(
            "SELECT 1 FROM trainee_facts WHERE trainee_id = $1 AND branch_id IS NOT NULL",
            trainee_id,
        ):
            await asyncio.sleep(0.05)


async def test_enrolled_trainee_is_graded_disputed_corrected_and_audited(services):
    enrollment, assessment = services["enrollment"], services["assessment"]
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await register_branches(enrollment)
    enrolled = await enrollment.client.post(
        "/trainees",
        headers=manager,
        json={
            "trainee_id": "t-e2e",
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
    await known_to_assessment(assessment, "t-e2e")

    client = assessment.client
    session = {"session_id": "s-e2e", "product_series": "X1", "held_on": "2026-03-20"}
    assert (await client.post("/sessions", json=session, headers=manager)).status_code == 201
    hr = assessment.as_("ex-hr", Role.EXAMINER, department="hr")
    written = {"trainee_id": "t-e2e", "score": 95}
    assert (
        await client.post("/sessions/s-e2e/written", json=written, headers=hr)
    ).status_code == 201
    for department, score in zip(DEPARTMENTS, (96, 95, 97, 98, 94), strict=True):
        examiner = assessment.as_(f"ex-{department}", Role.EXAMINER, department=department)
        body = {"trainee_id": "t-e2e", "department": department, "score": score}
        last = await client.post("/sessions/s-e2e/practical", json=body, headers=examiner)
        assert last.status_code == 201, last.text
    decision = last.json()["decision"]
    assert (decision["type"], decision["position"], decision["level"]) == (
        "GradeAssigned",
        "engineer",
        "intermediate",
    )

    trainee = assessment.as_("t-e2e", Role.TRAINEE)
    filed = await client.post(
        "/trainees/t-e2e/disputes", json={"reason": "written mis-marked"}, headers=trainee
    )
    assert filed.status_code == 201, filed.text
    resolved = await client.post(
        f"/disputes/{filed.json()['dispute_id']}/resolve",
        json={"outcome": "corrected", "written": "99"},
        headers=manager,
    )
    assert resolved.status_code == 200, resolved.text
    grade = (await client.get("/trainees/t-e2e/grade", headers=trainee)).json()
    assert (grade["position"], grade["level"], grade["grade_score"]) == (
        "engineer",
        "senior",
        "97.5",
    )

    auditor = assessment.as_("aud", Role.AUDITOR)
    report = (await client.get("/trainees/t-e2e/audit", headers=auditor)).json()
    assert report["consistent"] is True, report["differences"]
    assert report["events"][0]["service"] == "enrollment"
    assert len(report["derivations"]) == 2

    # An upstream fact edited in assessment's inbox no longer matches its producer's hash.
    await assessment.pool.execute(
        "UPDATE inbox SET envelope = jsonb_set(envelope, '{data,experience_years}', '\"9\"')"
        " WHERE type = 'TraineeEnrolled'"
    )
    report = (await client.get("/trainees/t-e2e/audit", headers=auditor)).json()
    assert report["consistent"] is False
    (edited,) = report["differences"]
    assert (edited["kind"], edited["service"], edited["field"]) == (
        "tampering",
        "enrollment",
        "hash",
    )
