"""What if, on the demo's data (issue 18's check): the demo loader posts a small scenario through the
four services over the real bus; a draft raising the engineer-senior band from 97 to 98 (R-20)
then lists exactly the trainees the scenario graded engineer senior below 98 (read from the
scenario, independently of the services), with the pay each loses (R-26, R-32), and no service
appends anything."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from ops import scenario as sc
from shared.auth import Role
from tests.e2e.test_demo import TRAINEES, event_counts, load
from tests.e2e.test_what_if import band_draft

SEED = 25  # a seed whose scenario grades someone engineer senior with a score in [97, 98)


@pytest.fixture
async def services(start):
    apps = await start("compensation", "assessment", "training", "enrollment")
    # assessment asks compensation for the pay consequences: in process here
    apps["assessment"].app.state.compensation_transport = httpx.ASGITransport(
        app=apps["compensation"].app
    )
    return apps


@pytest.mark.timeout(180)
async def test_raising_the_senior_band_on_the_demo_lists_exactly_the_scores_below_98(services):
    summary = await load(services, seed=SEED)
    assert summary.problems == []
    scenario = sc.build(SEED, TRAINEES, summary.anchor)
    expected = sorted(
        t.trainee_id
        for t in scenario.trainees
        if (t.grade.position, t.grade.level) == ("engineer", "senior")
        and t.grade.score is not None
        and t.grade.score < 98
    )
    assert expected, "the seed no longer grades anyone engineer senior below 98"

    before = await event_counts(services)
    today = datetime.now(UTC).date()
    period = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    body = {"policies": band_draft("98"), **period}
    boss = services["assessment"].as_("boss", Role.MANAGEMENT)
    answer = await services["assessment"].client.post("/what-if", json=body, headers=boss)
    assert answer.status_code == 200, answer.text
    result = answer.json()

    changes = result["changes"]
    assert sorted(c["trainee_id"] for c in changes) == expected
    for change in changes:
        assert (change["before"]["position"], change["before"]["level"]) == ("engineer", "senior")
        assert (change["after"]["position"], change["after"]["level"]) == (
            "engineer",
            "intermediate",
        )
    # The HQ engineers among them are paid as intermediates from their grade's day: 3200 a month
    # instead of 3500 and 100 instead of 150 a travel day (R-26, R-32 prorated); branch-commissioned
    # ones are paid by their branch.
    paid = {t.trainee_id for t in scenario.paid()}
    deltas = {c["trainee_id"]: Decimal(c["pay_delta"]) for c in changes}
    for trainee_id, delta in deltas.items():
        assert delta < 0 if trainee_id in paid else delta == 0
    total = Decimal(result["monthly_cost_delta"]["total"]["delta"])
    assert total == sum(deltas.values())  # no fine or fee moves with the band
    assert await event_counts(services) == before  # appends nothing anywhere
