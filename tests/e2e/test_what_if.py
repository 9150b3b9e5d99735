"""What if, over the real bus: trainees graded through the APIs, then a draft raising the
engineer-senior band from 97 to 98 (R-20) weighed by assessment's ``POST /what-if``, which asks
compensation for the pay consequences (R-26, R-32) with the caller's token. Exactly the trainees
whose score is in [97, 98) change, their pay falls by the difference, and no service appends
anything."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import httpx
import pytest
from openpyxl import load_workbook

from services.compensation.policy.pay import PAY
from shared.auth import Role
from tests.e2e.helpers import (
    HQ_TRAINEE,
    approved_plans,
    enrol,
    known_to_assessment,
    log_day,
    open_session,
    pay_rate,
    pinned_clock,
    sit,
)
from tests.e2e.test_pay_consequences import (
    DEALER,
    FAILING,
    FULL_PLAN,
    SERIES,
    SESSION,
    TRAINEES,
    TRAINER,
)
from tests.support import ok, until

# written -> grade score with the practical mean 96: (written + 96) / 2
WRITTEN = {"t-980": "100", "t-9725": "98.5", "t-970": "98", "t-965": "97"}
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}
SERVICES = ("enrollment", "assessment", "compensation")


@pytest.fixture
async def graded(start):
    """Four HQ engineers graded on 1 March 2026; compensation has set each one's pay rate."""
    apps = await start(*SERVICES, clock=pinned_clock())
    enrollment, assessment, pay = (apps[n] for n in SERVICES)
    assessment.app.state.compensation_transport = httpx.ASGITransport(app=pay.app)
    await open_session(assessment, "s-wi", "X1", "2026-03-01")
    for trainee_id, written in WRITTEN.items():
        await enrol(enrollment, trainee_id, **HQ_TRAINEE, enrolled_on="2026-02-27")
        await known_to_assessment(assessment, trainee_id)
        assert (await sit(assessment, "s-wi", trainee_id, written))["type"] == "GradeAssigned"
    for trainee_id in WRITTEN:
        await until(lambda t=trainee_id: pay_rate(pay, t))
    return apps


def band_draft(senior: str) -> dict:
    bands = [
        {"min_score": senior, "position": "engineer", "level": "senior"},
        {"min_score": "94", "position": "engineer", "level": "intermediate"},
        {"min_score": "90", "position": "engineer", "level": "junior"},
        {"min_score": "87", "position": "technician", "level": "senior"},
        {"min_score": "84", "position": "technician", "level": "intermediate"},
        {"min_score": "80", "position": "technician", "level": "junior"},
    ]
    return {"grading": {"bands": bands}}


async def event_counts(apps) -> dict[str, int]:
    return {n: await apps[n].pool.fetchval("SELECT count(*) FROM events") for n in SERVICES}


async def test_raising_the_senior_band_to_98_lists_exactly_the_scores_in_97_to_98(graded):
    assessment = graded["assessment"]
    before = await event_counts(graded)
    body = {"policies": band_draft("98"), **PERIOD, "branch_ids": ["hq"]}
    boss = assessment.as_("boss", Role.MANAGEMENT)
    answer = await assessment.client.post("/what-if", json=body, headers=boss)
    assert answer.status_code == 200, answer.text
    result = answer.json()

    changes = {c["trainee_id"]: c for c in result["changes"]}
    assert sorted(changes) == ["t-970", "t-9725"]  # 97 exactly and 97.25; not 98, not 96.5
    for change in changes.values():
        assert (change["before"]["level"], change["after"]["level"]) == ("senior", "intermediate")
        # HQ engineer senior 3500 -> intermediate 3200 for the whole of March
        assert (change["before"]["pay"], change["after"]["pay"]) == ("3500.00", "3200.00")
        assert change["pay_delta"] == "-300.00"
    counts = {(r["position"], r["level"]): r["count"] for r in result["board_after"]}
    assert counts == {("engineer", "senior"): 1, ("engineer", "intermediate"): 3}
    assert {(r["position"], r["level"]): r["count"] for r in result["board_before"]} == {
        ("engineer", "senior"): 3,
        ("engineer", "intermediate"): 1,
    }
    cost = result["monthly_cost_delta"]
    assert [(m["month"], m["delta"]) for m in cost["months"]] == [("2026-03", "-600.00")]
    assert cost["total"]["delta"] == "-600.00"
    assert await event_counts(graded) == before  # appends nothing anywhere


async def test_the_report_is_a_workbook_with_chinese_and_english_headers(graded):
    assessment = graded["assessment"]
    body = {"policies": band_draft("98"), **PERIOD}
    vp = assessment.as_("vp", Role.EXEC_VP)
    answer = await assessment.client.post("/what-if/report.xlsx", json=body, headers=vp)
    assert answer.status_code == 200, answer.text
    book = load_workbook(BytesIO(answer.content))
    assert book.sheetnames == ["变化 Changes", "人数 Counts", "月度成本 Monthly cost"]
    changes = list(book["变化 Changes"].values)
    assert changes[0][0] == "学员编号" and changes[1][0] == "Trainee"
    assert sorted(row[0] for row in changes[2:]) == ["t-970", "t-9725"]


async def test_a_bad_draft_is_refused_with_every_problem_listed(graded):
    assessment = graded["assessment"]
    before = await event_counts(graded)
    draft = band_draft("93")  # below the intermediate band: not highest first
    draft["fines"] = {"fine_tiers": [], "branch_fee": "1"}
    draft["placement"] = {}
    body = {"policies": draft, **PERIOD}
    boss = assessment.as_("boss", Role.MANAGEMENT)
    answer = await assessment.client.post("/what-if", json=body, headers=boss)
    assert answer.status_code == 422, answer.text
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"policies.placement", "policies.fines.branch_fee"} <= fields
    assert await event_counts(graded) == before


async def test_bands_out_of_order_and_a_pay_draft_without_rows_are_refused(graded):
    assessment = graded["assessment"]
    boss = assessment.as_("boss", Role.MANAGEMENT)
    body = {"policies": {**band_draft("93"), "pay": {"rows": []}}, **PERIOD}
    answer = await assessment.client.post("/what-if", json=body, headers=boss)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["errors"]
    assert any("highest first" in p["message"] for p in problems)


async def test_a_trainee_may_not_weigh_drafts(graded):
    assessment = graded["assessment"]
    body = {"policies": band_draft("98"), **PERIOD}
    trainee = assessment.as_("t-970", Role.TRAINEE)
    answer = await assessment.client.post("/what-if", json=body, headers=trainee)
    assert answer.status_code == 403


async def test_a_pay_draft_alone_is_weighed_by_compensation(graded):
    pay = graded["compensation"]
    before = await event_counts(graded)
    document = PAY.in_force(date(2026, 3, 31)).model_dump(mode="json")
    for row in document["rows"]:
        if (row["category"], row["position"], row["level"]) == (
            "hq_full_time",
            "engineer",
            "senior",
        ):
            row["monthly"] = "3600"
    body = {"policies": {"pay": document}, **PERIOD}
    boss = pay.as_("boss", Role.MANAGEMENT)
    answer = await pay.client.post("/what-if", json=body, headers=boss)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert sorted(c["trainee_id"] for c in result["changes"]) == ["t-970", "t-9725", "t-980"]
    assert result["monthly_cost_delta"]["total"]["delta"] == "300.00"
    grading = {"policies": band_draft("98"), **PERIOD}
    refused = await pay.client.post("/what-if", json=grading, headers=boss)
    assert refused.status_code == 422
    assert await event_counts(graded) == before


# --- fines and fees: 4 of a trainer's 10 trainees fail, a dealer's trainee kept in training ----


@pytest.fixture
async def penalised(start):
    """test_pay_consequences' session: tr-x fined 150 (R-24: 4 of 10), the dealer's failed
    trainee charged 200 a day for two days after its continue_training disposition (R-19)."""
    clock = pinned_clock()
    apps = await start("compensation", "assessment", "training", "enrollment", clock=clock)
    enrollment, training, assessment, pay = (
        apps[n] for n in ("enrollment", "training", "assessment", "compensation")
    )
    assessment.app.state.compensation_transport = httpx.ASGITransport(app=pay.app)
    clock.set("2026-03-02")
    for trainee_id in TRAINEES:
        await enrol(enrollment, trainee_id, True, enrolled_on="2026-02-27", product_series=[])
    await approved_plans(training, assessment, TRAINEES, FULL_PLAN, TRAINER, SERIES)
    clock.set("2026-03-20")
    await open_session(assessment, SESSION, SERIES, "2026-03-20")
    for trainee_id in TRAINEES:
        await sit(assessment, SESSION, trainee_id, "79" if trainee_id in FAILING else "95")
    manager = assessment.as_("mgr", Role.AFTER_SALES_MANAGER)
    await ok(assessment.client.post(f"/sessions/{SESSION}/close", headers=manager))
    kept = {"outcome": "continue_training", "reason": "the branch insists"}
    path = f"/trainees/{DEALER}/disposition"
    await ok(assessment.client.post(path, headers=manager, json=kept))
    clock.set("2026-03-24")
    await log_day(training, DEALER, 5, TRAINER, "2026-03-20")
    await log_day(training, DEALER, 5, TRAINER, "2026-03-23")
    await until(
        lambda: pay.pool.fetchval(
            "SELECT (SELECT count(*) FROM training_days) = 2"
            " AND (SELECT count(*) FROM trainer_penalties) = 1"
            " AND (SELECT count(*) FROM dispositions) = 1"
        )
    )
    return apps


async def test_a_lower_pass_mark_and_a_dearer_fee_re_derive_the_fine_and_the_fees(penalised):
    assessment = penalised["assessment"]
    before = {
        n: await app.pool.fetchval("SELECT count(*) FROM events") for n, app in penalised.items()
    }
    drafts = {
        "grading": {"written_pass_mark": "79"},
        "fees": {"branch_fee_per_training_day": "250"},
    }
    body = {"policies": drafts, **PERIOD}
    boss = assessment.as_("boss", Role.MANAGEMENT)
    result = await ok(assessment.client.post("/what-if", json=body, headers=boss))

    # R-15 at 79: the four failures pass (no position: two series are not mastered, R-21)
    changed = {
        c["trainee_id"]: (c["before"]["passed"], c["after"]["passed"]) for c in result["changes"]
    }
    assert changed == {t: (False, True) for t in FAILING}
    # 0 of 10 failed -> no fine; R-19: two days at 250 instead of 200
    (fine,) = result["fines"]
    assert (fine["failed_before"], fine["failed_after"], fine["before"], fine["after"]) == (
        4, 0, "150.00", "0.00",
    )  # fmt: skip
    (march,) = result["monthly_cost_delta"]["months"]
    assert (march["fines_before"], march["fines_after"]) == ("150.00", "0.00")
    assert (march["fees_before"], march["fees_after"]) == ("400.00", "500.00")
    assert march["delta"] == "-50.00"

    tiers = {"fines": {"fine_tiers": [{"min_rate": "0.4", "fine": "300"}]}}
    body = {"policies": tiers, **PERIOD}
    result = await ok(assessment.client.post("/what-if", json=body, headers=boss))
    assert result["changes"] == []
    assert result["monthly_cost_delta"]["total"]["delta"] == "150.00"
    after = {
        n: await app.pool.fetchval("SELECT count(*) FROM events") for n, app in penalised.items()
    }
    assert after == before
