"""Retention (issue 19: "a policy per category (e.g. trainees who left N years ago) and a job that
proposes the people due for erasure"): the ``retention`` policy on enrollment and
``GET /people/erasure-proposals``, against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from shared.auth import Role
from shared.erasure import PersonalDataErased
from shared.events import NewEvent
from shared.eventstore import PostgresEventStore
from tests.support import enrolment, register_branches, until

WITHDRAWN_ON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the day the trainees are withdrawn


@pytest.fixture
async def svc(svc):
    await register_branches(svc)
    svc.app.state.clock = lambda: WITHDRAWN_ON
    return svc


def admin(svc):
    return svc.as_("admin-1", Role.ADMIN)


async def withdrawn(svc, trainee_id: str) -> None:
    clerk = svc.as_("clerk-n", Role.BRANCH_CLERK, branch_id="dl-north")
    created = await svc.client.post("/trainees", json=enrolment(trainee_id), headers=clerk)
    assert created.status_code == 201, created.text
    done = await svc.client.post(
        f"/trainees/{trainee_id}/withdraw", json={"reason": "left"}, headers=clerk
    )
    assert done.status_code == 200, done.text


async def left_staff(svc, staff_id: str, left_on: str) -> None:
    body = {
        "staff_id": staff_id,
        "name": "刘强",
        "department": "hr",
        "roles": ["trainer"],
        "branch_id": "hq",
    }
    assert (await svc.client.post("/staff", json=body, headers=admin(svc))).status_code == 201
    gone = await svc.client.post(
        f"/staff/{staff_id}/leave", json={"left_on": left_on}, headers=admin(svc)
    )
    assert gone.status_code == 200, gone.text


async def proposals(svc, as_of: str) -> dict:
    answer = await svc.client.get(f"/people/erasure-proposals?as_of={as_of}", headers=admin(svc))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def projected(svc, count: int) -> None:
    async def rows() -> bool:
        found = await svc.pool.fetchval("SELECT count(*) FROM proj_retention.people")
        return found == count or None

    await until(rows, 10)


async def test_people_are_proposed_once_their_categorys_years_have_passed(svc):
    await withdrawn(svc, "t-1")
    await withdrawn(svc, "t-2")
    await left_staff(svc, "tr-old", "2020-06-30")
    await left_staff(svc, "tr-new", "2025-01-15")
    await projected(svc, 4)

    # The shipped policy: withdrawn trainees 3 years, former staff 5 years after they left.
    shipped = await svc.client.get("/policies/retention", headers=admin(svc))
    assert shipped.json()["in_force"]["version"] == "retention-2026.1"

    early = await proposals(svc, "2029-03-01")
    assert (early["as_of"], early["policy_version"]) == ("2029-03-01", "retention-2026.1")
    assert early["approve_with"] == "POST /people/{id}/erasure"
    assert early["proposals"] == [
        {
            "person_id": "tr-old",
            "category": "former_staff",
            "since": "2020-06-30",
            "due_on": "2025-06-30",
        }
    ]
    due = await proposals(svc, "2029-03-02")  # three years to the day after the withdrawal
    assert [(p["person_id"], p["due_on"]) for p in due["proposals"]] == [
        ("tr-old", "2025-06-30"),
        ("t-1", "2029-03-02"),
        ("t-2", "2029-03-02"),
    ]
    assert {p["category"] for p in due["proposals"][1:]} == {"withdrawn_trainee"}
    later = await proposals(svc, "2030-01-15")
    assert [p["person_id"] for p in later["proposals"]] == ["tr-old", "t-1", "t-2", "tr-new"]


async def erase(svc, person_id: str) -> None:
    """What the erasure route records once the key is destroyed (shared/erasure.py)."""
    erased = PersonalDataErased(
        person_id=person_id, reason="retention", erased_at=WITHDRAWN_ON, erased_by="admin-1"
    )
    await PostgresEventStore(svc.pool, "enrollment").append(
        f"person-{person_id}", [NewEvent(erased.event_type, erased.model_dump(mode="json"))], None
    )


async def test_an_erased_person_is_proposed_no_more(svc):
    await erase(svc, "t-3")  # erased first, withdrawn after: still never proposed
    await withdrawn(svc, "t-1")
    await withdrawn(svc, "t-2")
    await withdrawn(svc, "t-3")
    await projected(svc, 3)
    assert [p["person_id"] for p in (await proposals(svc, "2030-01-01"))["proposals"]] == [
        "t-1",
        "t-2",
    ]
    await erase(svc, "t-1")

    async def gone() -> bool:
        ids = [p["person_id"] for p in (await proposals(svc, "2030-01-01"))["proposals"]]
        return ids == ["t-2"] or None

    await until(gone, 10)


async def test_a_published_version_changes_who_is_due_from_its_day_on(svc):
    await withdrawn(svc, "t-1")
    await projected(svc, 1)
    draft = {
        "version": "retention-2027.1",
        "effective_from": "2027-01-01",
        "document": {
            "categories": [
                {"category": "withdrawn_trainee", "years": 1},
                {"category": "former_staff", "years": 5},
            ]
        },
    }
    vp = svc.as_("vp", Role.EXEC_VP)
    refused = await svc.client.post("/policies/retention", json=draft, headers=vp)
    assert refused.status_code == 403  # the administrator publishes retention
    published = await svc.client.post("/policies/retention", json=draft, headers=admin(svc))
    assert published.status_code == 201, published.text

    assert (await proposals(svc, "2026-12-31"))["proposals"] == []
    under_new = await proposals(svc, "2027-03-02")
    assert under_new["policy_version"] == "retention-2027.1"
    assert [(p["person_id"], p["due_on"]) for p in under_new["proposals"]] == [
        ("t-1", "2027-03-02")
    ]


@pytest.mark.parametrize(
    ("categories", "field"),
    [
        ([{"category": "withdrawn_trainee", "years": 3}], "body.document.categories"),
        (
            [
                {"category": "withdrawn_trainee", "years": 0},
                {"category": "former_staff", "years": 5},
            ],
            "body.document.categories[0].years",
        ),
    ],
)
async def test_a_retention_draft_missing_a_category_or_out_of_range_is_422(svc, categories, field):
    draft = {
        "version": "retention-2027.2",
        "effective_from": "2027-01-01",
        "document": {"categories": categories},
    }
    answer = await svc.client.post("/policies/retention", json=draft, headers=admin(svc))
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_only_the_administrator_reads_the_proposals(svc):
    url = "/people/erasure-proposals"
    for role in (Role.AFTER_SALES_MANAGER, Role.EXEC_VP, Role.AUDITOR):
        answer = await svc.client.get(url, headers=svc.as_("x", role))
        assert answer.status_code == 403
    assert (await svc.client.get(url)).status_code == 401
    today = await asyncio.wait_for(svc.client.get(url, headers=admin(svc)), 10)
    assert today.status_code == 200 and today.json()["as_of"] == "2026-03-02"  # the app's day


async def test_a_day_before_any_retention_version_is_a_422_naming_as_of(svc):
    """The first version is in force from 2000-01-01: before it no one can be judged due."""
    early = await svc.client.get("/people/erasure-proposals?as_of=1999-12-31", headers=admin(svc))
    assert early.status_code == 422, early.text
    assert [e["field"] for e in early.json()["errors"]] == ["query.as_of"]
    first = await svc.client.get("/people/erasure-proposals?as_of=2000-01-01", headers=admin(svc))
    assert first.status_code == 200 and first.json()["proposals"] == []
