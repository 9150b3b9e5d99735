"""A trainee's grade and its dispute across services, over the real bus: enrollment publishes the
trainee, assessment learns it from its inbox, grades it, and a corrected dispute re-grades it
(R-14, R-20 to R-23). Training runs beside them, consuming the same enrolment."""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.e2e.helpers import HQ_TRAINEE, enrol, known_to_assessment, open_session, sit


@pytest.fixture
async def services(start):
    return await start("assessment", "training", "enrollment")


async def test_enrolled_trainee_is_graded_disputed_corrected_and_audited(services):
    enrollment, assessment = services["enrollment"], services["assessment"]
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await enrol(enrollment, "t-e2e", **HQ_TRAINEE)
    await known_to_assessment(assessment, "t-e2e")

    client = assessment.client
    await open_session(assessment, "s-e2e", "X1", "2026-03-20")
    decision = await sit(assessment, "s-e2e", "t-e2e", "95")
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
