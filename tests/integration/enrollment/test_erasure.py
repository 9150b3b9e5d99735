"""Erasure of a person's personal data in enrollment (issue 19, docs/privacy.md), against real
PostgreSQL and RabbitMQ.

The issue's promises checked here: "Every personal field is encrypted in the event with a key of
its own data subject"; "``POST /people/{id}/erasure`` (role ``admin``, with a reason) destroys
the subject's key and appends ``PersonalDataErased``; every service's projections replace that
person's fields with a marker"; "after erasure no table ... contains the person's name or other
personal fields in clear (scan them all for the original strings) ... and ``verify`` passes; a
rebuild after erasure equals the live projection".
"""

from __future__ import annotations

import asyncio

import pytest

from services.enrollment.app import PROJECTIONS
from services.enrollment.people_routes import erasure_event_id
from shared import projections
from shared.auth import Role
from shared.eventstore import PostgresEventStore
from shared.personal import ERASED, is_token
from shared.problems import PROBLEM_JSON
from tests.support import enrolment, ok, register_branches, until

NAME = "欧阳娜娜"
CERTIFICATE = "特种作业焊工证-7731"
REASON = "搬去乌鲁木齐照顾父母"
STAFF_NAME = "司马光明"
TRAINEE_ID, STAFF_ID = "t-erase-1", "tr-erase-1"
# Every trace of the two people, as the scan looks for it.
PERSONAL_VALUES = (NAME, CERTIFICATE, REASON, STAFF_NAME)


@pytest.fixture
async def svc(svc):
    """The service (conftest) with its read models built and the standard branches."""
    async with asyncio.timeout(10):
        while await svc.pool.fetchval("SELECT count(*) FROM projection_versions") < len(
            PROJECTIONS
        ):
            await asyncio.sleep(0.02)
    await register_branches(svc)
    return svc


def admin(svc):
    return svc.as_("admin-1", Role.ADMIN)


def manager(svc):
    return svc.as_("mgr", Role.AFTER_SALES_MANAGER)


def staff_reader(svc):
    return svc.as_("mgr", Role.AFTER_SALES_MANAGER)


async def erase(svc, person_id, reason="the person asked (PIPL Art. 47)", headers=None):
    return await svc.client.post(
        f"/people/{person_id}/erasure", json={"reason": reason}, headers=headers or admin(svc)
    )


async def enrolled_and_withdrawn(svc, trainee_id=TRAINEE_ID):
    body = enrolment(trainee_id, name=NAME, certificates=[CERTIFICATE, "电工证"])
    await ok(svc.client.post("/trainees", json=body, headers=manager(svc)), 201)
    await ok(
        svc.client.post(
            f"/trainees/{trainee_id}/withdraw", json={"reason": REASON}, headers=manager(svc)
        )
    )


async def registered_staff(svc, staff_id=STAFF_ID):
    body = {
        "staff_id": staff_id,
        "name": STAFF_NAME,
        "department": "technical",
        "roles": ["trainer"],
        "branch_id": "dl-north",
    }
    await ok(svc.client.post("/staff", json=body, headers=admin(svc)), 201)


async def stored_data(svc, stream_id):
    rows = await svc.pool.fetch(
        "SELECT type, data FROM events WHERE stream_id = $1 ORDER BY version", stream_id
    )
    return {r["type"]: r["data"] for r in rows}


async def tables_holding(pool, values):
    """(schema.table, value) for every row of every table of every schema of the database that
    holds one of ``values`` as text, or as UTF-8 bytes (a bytea column reads as hex)."""
    tables = await pool.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE'"
        " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    assert len(tables) > 5  # the scan sees the store, the projections, the outbox...
    found = set()
    for schema, table in tables:
        for (text,) in await pool.fetch(f'SELECT t::text FROM "{schema}"."{table}" t'):
            for value in values:
                if value in text or value.encode().hex() in text:
                    found.add((f"{schema}.{table}", value))
    return found


async def directory_row(svc, trainee_id):
    return await svc.pool.fetchrow(
        "SELECT name, certificates, status FROM proj_directory.trainees WHERE trainee_id = $1",
        trainee_id,
    )


async def staff_row(svc, staff_id):
    return await svc.pool.fetchrow(
        "SELECT name, status FROM proj_organisation.staff WHERE staff_id = $1", staff_id
    )


async def test_personal_fields_are_stored_sealed_and_read_back_revealed(svc):
    """The name, certificates and withdrawal reason are tokens in the events table; the count of
    certificates and the education stay clear; the API reads the values back."""
    await enrolled_and_withdrawn(svc)
    await registered_staff(svc)
    trainee = await stored_data(svc, f"trainee-{TRAINEE_ID}")
    enrolled, withdrawn = trainee["TraineeEnrolled"], trainee["TraineeWithdrawn"]
    assert is_token(enrolled["name"]) and is_token(enrolled["certificates"])
    assert is_token(withdrawn["reason"])
    assert (enrolled["certificate_count"], enrolled["education"]) == (2, "high_school")
    staff = await stored_data(svc, f"staff-{STAFF_ID}")
    assert is_token(staff["StaffRegistered"]["name"])
    schema_version = await svc.pool.fetchval(
        "SELECT schema_version FROM events WHERE type = 'TraineeEnrolled'"
    )
    assert schema_version == 2
    # Only tokens reach the store and the outbox: the values are nowhere in the events table.
    assert not {
        v
        for v in PERSONAL_VALUES
        for (d,) in await svc.pool.fetch("SELECT data::text FROM events")
        if v in d
    }
    shown = await ok(svc.client.get(f"/trainees/{TRAINEE_ID}", headers=manager(svc)))
    assert (shown["name"], shown["certificates"]) == (NAME, [CERTIFICATE, "电工证"])
    member = await ok(svc.client.get(f"/staff/{STAFF_ID}", headers=staff_reader(svc)))
    assert member["name"] == STAFF_NAME
    row = await until(lambda: directory_row(svc, TRAINEE_ID))
    assert row["name"] == NAME


async def test_erasure_leaves_no_personal_value_anywhere_and_history_verifies(svc):
    await enrolled_and_withdrawn(svc)
    await registered_staff(svc)
    other = enrolment("t-stays", name="留下的人")
    await ok(svc.client.post("/trainees", json=other, headers=manager(svc)), 201)
    await until(lambda: directory_row(svc, TRAINEE_ID))
    await until(lambda: staff_row(svc, STAFF_ID))
    # Read once before: the profile's folded state is now cached in this process.
    await ok(svc.client.get(f"/trainees/{TRAINEE_ID}", headers=manager(svc)))
    await ok(svc.client.get(f"/staff/{STAFF_ID}", headers=staff_reader(svc)))
    # The scan finds what is there: the read models hold the names before the erasure.
    assert {
        ("proj_directory.trainees", NAME),
        ("proj_directory.trainees", CERTIFICATE),
        ("proj_organisation.staff", STAFF_NAME),
    } <= await tables_holding(svc.pool, PERSONAL_VALUES)

    answers = [await erase(svc, TRAINEE_ID), await erase(svc, STAFF_ID)]
    for answer, person in zip(answers, (TRAINEE_ID, STAFF_ID), strict=True):
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert (body["person_id"], body["already"]) == (person, False)
        assert body["erased_at"]

    async def erased_in_read_models():
        row, member = await directory_row(svc, TRAINEE_ID), await staff_row(svc, STAFF_ID)
        return row["name"] == ERASED and member["name"] == ERASED

    await until(erased_in_read_models)
    row = await directory_row(svc, TRAINEE_ID)
    assert (row["certificates"], row["status"]) == ([ERASED], "withdrawn")  # decisions stay
    assert (await directory_row(svc, "t-stays"))["name"] == "留下的人"  # others untouched

    # No table of enrollment's database holds any of the values any more.
    assert await tables_holding(svc.pool, PERSONAL_VALUES) == set()

    shown = await ok(svc.client.get(f"/trainees/{TRAINEE_ID}", headers=manager(svc)))
    assert (shown["name"], shown["certificates"], shown["status"]) == (
        ERASED,
        [ERASED],
        "withdrawn",
    )
    member = await ok(svc.client.get(f"/staff/{STAFF_ID}", headers=staff_reader(svc)))
    assert (member["name"], member["roles"]) == (ERASED, ["trainer"])
    listed = await ok(svc.client.get("/trainees?branch_id=dl-north", headers=manager(svc)))
    names = {t["trainee_id"]: t["name"] for t in listed["items"]}
    assert names == {TRAINEE_ID: ERASED, "t-stays": "留下的人"}
    staff_list = await ok(svc.client.get("/staff?branch_id=dl-north", headers=staff_reader(svc)))
    assert [s["name"] for s in staff_list["items"]] == [ERASED]

    # The hash chain covers the ciphertext: nothing was rewritten, everything verifies.
    assert await PostgresEventStore(svc.pool, "enrollment").verify() == []
    # A replay with the keys as they are now gives the live tables.
    for projection in PROJECTIONS:
        differences = await projections.verify(
            svc.pool, "enrollment", projection, personal=svc.app.state.personal
        )
        assert differences == [], projection.name
    erased = await svc.pool.fetch("SELECT person_id FROM proj_erasure.erased_people")
    assert {r[0] for r in erased} == {TRAINEE_ID, STAFF_ID}


async def test_a_repeat_appends_nothing_and_answers_already(svc):
    await enrolled_and_withdrawn(svc)
    first = await erase(svc, TRAINEE_ID)
    assert first.status_code == 202, first.text
    again = await erase(svc, TRAINEE_ID, reason="asked twice")
    assert again.status_code == 202, again.text
    assert again.json() == {**first.json(), "already": True}
    rows = await svc.pool.fetch(
        "SELECT event_id, type, data->>'reason' FROM events WHERE stream_id = $1",
        f"person-{TRAINEE_ID}",
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (erasure_event_id(TRAINEE_ID), "PersonalDataErased", "the person asked (PIPL Art. 47)")
    ]


async def test_nothing_new_is_kept_about_an_erased_person(svc):
    """An erased trainee cannot be withdrawn with a (personal) reason any more, nor an erased
    member of staff's id enrolled as a trainee: 409, and nothing is appended."""
    body = enrolment(TRAINEE_ID, name=NAME)
    await ok(svc.client.post("/trainees", json=body, headers=manager(svc)), 201)
    await registered_staff(svc)
    await ok(erase(svc, TRAINEE_ID), 202)
    await ok(erase(svc, STAFF_ID), 202)
    before = await svc.pool.fetchval("SELECT count(*) FROM events")
    withdrawal = await svc.client.post(
        f"/trainees/{TRAINEE_ID}/withdraw", json={"reason": "left"}, headers=manager(svc)
    )
    assert withdrawal.status_code == 409, withdrawal.text
    assert withdrawal.headers["content-type"] == PROBLEM_JSON
    assert "erased" in withdrawal.json()["detail"]
    as_trainee = await svc.client.post(
        "/trainees", json=enrolment(STAFF_ID, name="又是他"), headers=manager(svc)
    )
    assert as_trainee.status_code == 409, as_trainee.text
    assert "erased" in as_trainee.json()["detail"]
    assert await svc.pool.fetchval("SELECT count(*) FROM events") == before


async def test_erasure_is_the_admins_and_needs_a_reason_and_a_known_person(svc):
    await enrolled_and_withdrawn(svc)
    for role in (Role.AFTER_SALES_MANAGER, Role.AUDITOR, Role.TRAINEE):
        refused = await erase(svc, TRAINEE_ID, headers=svc.as_(TRAINEE_ID, role))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.headers["content-type"] == PROBLEM_JSON
    unknown = await erase(svc, "t-nobody")
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["content-type"] == PROBLEM_JSON
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}):
        bad = await svc.client.post(f"/people/{TRAINEE_ID}/erasure", json=body, headers=admin(svc))
        assert bad.status_code == 422, (body, bad.text)
        assert "body.reason" in [e["field"] for e in bad.json()["errors"]]
    # None of these erased anyone: the trainee reads as before.
    shown = await ok(svc.client.get(f"/trainees/{TRAINEE_ID}", headers=manager(svc)))
    assert shown["name"] == NAME
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM events WHERE stream_id LIKE 'person-%'") == 0
    )
