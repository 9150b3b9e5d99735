"""From enrolment to pay over the real bus: enrollment publishes an HQ trainee, assessment learns
it from its inbox and grades it from the scores examiners post, and compensation turns the
published grade into a pay rate (R-20, R-21, R-26, R-32; example A)."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import (
    HQ_TRAINEE,
    enrol,
    known_to_assessment,
    open_session,
    pay_rate,
    sit,
)
from tests.support import until


@pytest.fixture
async def services(start):
    return await start("compensation", "assessment", "enrollment")


async def test_an_hq_engineer_graded_intermediate_is_paid_3200(services):
    enrollment, assessment, pay = (
        services[n] for n in ("enrollment", "assessment", "compensation")
    )
    await enrol(enrollment, "t-pay", **HQ_TRAINEE)
    await known_to_assessment(assessment, "t-pay")

    await open_session(assessment, "s-pay", "X1", "2026-03-20")
    assert (await sit(assessment, "s-pay", "t-pay", "95"))["type"] == "GradeAssigned"

    rate = await until(lambda: pay_rate(pay, "t-pay"))
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
