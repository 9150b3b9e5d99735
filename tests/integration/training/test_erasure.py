"""A trainee's erasure as training sees it (issue 19, docs/privacy.md), against the real servers.

The promises: the free texts written about or by a trainee (the day's performance and effect,
the dissent, the trainer's assessment, the concern and its handling) are stored sealed with the
trainee's key, never in clear; once the key is destroyed and ``PersonalDataErased`` reaches the
inbox, no table of training's database holds them (nor the name enrollment told it), the plan
and the concerns queue show "[erased]" where they stood, every number, date and decision of the
plan is unchanged, the hash chain verifies, and each projection rebuilt from history equals the
live one.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from services.training.app import PROJECTIONS
from services.training.consumers import HANDLER
from shared import db
from shared.erasure import PersonalDataErased
from shared.events import NewEvent
from shared.eventstore import PostgresEventStore
from shared.inbox import handle_once, revealing
from shared.personal import ERASED, TOKEN_PREFIX, PersonalData, PersonalFields
from shared.projections import verify
from tests.integration.training.helpers import (
    NOW,
    day,
    draft,
    enrolled,
    manager,
    place,
    trainee,
    trainer,
    vp,
)
from tests.support import delivered, until

GONE, STAYS = "t-gone", "t-stays"
NAME = "欧阳隐私乙"
PERFORMANCE, EFFECT = "Nervous-with-tools-4412", "Needs-a-second-week-4412"
DISSENT, ASSESSMENT = "Only-half-a-day-4412", "Careful-but-slow-4412"
CONCERN, HANDLING = "Cannot-keep-up-4412", "Extra-evening-lessons-4412"
SECRETS = (NAME, PERFORMANCE, EFFECT, DISSENT, ASSESSMENT, CONCERN, HANDLING)
# Enrollment's marking of the name (its own registry, which training does not import).
ENROLLMENT_FIELDS = {"TraineeEnrolled": PersonalFields((("name", "trainee_id"),))}


def leaks(text: str) -> list[str]:
    """The secrets in ``text``, as they are or as the hex of their UTF-8 bytes (a bytea)."""
    return [s for s in SECRETS if s in text or s.encode().hex() in text]


async def tables_holding_secrets(svc) -> dict[str, list[str]]:
    """Every table of every schema of training's database whose rows hold a secret."""
    settings = svc.settings
    conn = await db.connect(
        db.dsn_for_database(settings.pg_dsn, settings.database_name("training"))
    )
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_type = 'BASE TABLE'"
        )
        found: dict[str, list[str]] = {}
        for schema, table in tables:
            rows = await conn.fetch(f'SELECT t::text FROM "{schema}"."{table}" t')
            hits = sorted({s for r in rows for s in leaks(r[0])})
            if hits:
                found[f"{schema}.{table}"] = hits
        return found
    finally:
        await conn.close()


async def from_the_bus(svc, envelope) -> None:
    """What the consumer does with a message: revealed, applied, kept in the inbox (sealed)."""
    assert await handle_once(svc.pool, revealing(HANDLER, svc.app.state.personal), envelope)


async def enrol_sealed(svc, trainee_id: str, name: str) -> None:
    """The enrolment as enrollment publishes it: the name sealed with the trainee's key."""
    envelope = enrolled(trainee_id, name=name)
    sealing = PersonalData(svc.app.state.personal.key_store, ENROLLMENT_FIELDS)
    [sealed] = await sealing.seal(
        [NewEvent(envelope.type, envelope.data, event_id=envelope.event_id)]
    )
    assert sealed.data["name"].startswith(TOKEN_PREFIX)
    await from_the_bus(svc, envelope._replace(data=sealed.data))
    await place(svc, trainee_id)


def erasure(person_id: str):
    data = PersonalDataErased(
        person_id=person_id,
        reason="the trainee asked (PIPL Art. 47)",
        erased_at=datetime(2026, 3, 16, 10, tzinfo=UTC),
        erased_by="admin-1",
    ).model_dump(mode="json", exclude={"event_type"})
    return delivered("enrollment", "PersonalDataErased", f"person-{person_id}", data, at=NOW)


def other_texts(text: str) -> str:
    """The other trainee's version of a text: theirs stays, so it must not count as a leak."""
    return text.replace("4412", "7700")


async def plan_with_texts(svc, trainee_id: str) -> None:
    """An approved plan whose stage 1 has a day with a dissent, is assessed and countersigned, and
    a handled concern; every text written through the API (the other trainee's: ``other_texts``)."""
    mine = str if trainee_id == GONE else other_texts
    await enrol_sealed(svc, trainee_id, NAME if trainee_id == GONE else "王平")
    assert (await draft(svc, trainee_id)).status_code == 200
    approved = await svc.client.post(f"/plans/{trainee_id}/approve", json={}, headers=vp(svc))
    assert approved.status_code == 200, approved.text
    plan = f"/plans/{trainee_id}"
    hr = trainer(svc, "tr-hr")
    logged = await svc.client.post(
        f"{plan}/stages/1/days",
        json=day(performance=mine(PERFORMANCE), effect=mine(EFFECT)),
        headers=hr,
    )
    assert logged.status_code == 201, logged.text
    # Under an Idempotency-Key: the stored answer holds the dissent in clear until the erasure.
    me = {**trainee(svc, trainee_id), "Idempotency-Key": f"dissent-{trainee_id}"}
    dissent = {"agree": False, "comment": mine(DISSENT)}
    confirmed = await svc.client.post(
        f"{plan}/stages/1/days/2026-03-10/confirm", json=dissent, headers=me
    )
    assert confirmed.status_code == 200, confirmed.text
    signed = await svc.client.post(
        f"{plan}/stages/1/sign-off", json={"assessment": mine(ASSESSMENT)}, headers=hr
    )
    assert signed.status_code == 200, signed.text
    countersigned = await svc.client.post(
        f"{plan}/stages/1/countersign", json={"agree": True}, headers=trainee(svc, trainee_id)
    )
    assert countersigned.status_code == 200, countersigned.text
    noted = await svc.client.post(
        f"{plan}/concerns", json={"stage_no": 1, "text": mine(CONCERN)}, headers=hr
    )
    assert noted.status_code == 201, noted.text
    concern_id = noted.json()["concern_id"]
    handled = await svc.client.post(
        f"{plan}/concerns/{concern_id}/handling",
        json={"verified": True, "handling": mine(HANDLING)},
        headers=manager(svc),
    )
    assert handled.status_code == 200, handled.text


async def shown_plan(svc, trainee_id: str) -> dict:
    answer = await svc.client.get(f"/plans/{trainee_id}", headers=vp(svc))
    assert answer.status_code == 200, answer.text
    return answer.json()


def texts(plan: dict) -> dict[str, object]:
    stage = plan["stages"][0]
    [day_row] = stage["days"]
    [concern] = plan["concerns"]
    return {
        "name": plan["trainee_name"],
        "performance": day_row["performance"],
        "effect": day_row["effect"],
        "dissent": day_row["comment"],
        "assessment": stage["trainer_assessment"],
        "concern": concern["text"],
        "handling": concern["handling"],
    }


def without_texts(plan: dict) -> dict:
    """The plan's numbers, dates, statuses and decisions: what an erasure leaves as it was."""
    stages = [
        {
            **{k: v for k, v in s.items() if k not in ("trainer_assessment", "days")},
            "days": [
                {k: v for k, v in d.items() if k not in ("performance", "effect", "comment")}
                for d in s["days"]
            ],
        }
        for s in plan["stages"]
    ]
    concerns = [
        {k: v for k, v in c.items() if k not in ("text", "handling")} for c in plan["concerns"]
    ]
    rest = {k: v for k, v in plan.items() if k not in ("trainee_name", "stages", "concerns")}
    return {**rest, "stages": stages, "concerns": concerns}


async def queued(svc) -> dict[str, dict]:
    answer = await svc.client.get("/concerns", headers=manager(svc))
    assert answer.status_code == 200, answer.text
    return {c["trainee_id"]: c for c in answer.json()["items"]}


def workbook_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))


async def export(svc, trainee_id: str) -> str:
    answer = await svc.client.get(f"/plans/{trainee_id}/export.xlsx", headers=vp(svc))
    assert answer.status_code == 200, answer.text
    return workbook_text(answer.content)


async def test_an_erased_trainees_texts_are_gone_from_every_table_and_the_plan_stands(svc):
    await plan_with_texts(svc, GONE)
    await plan_with_texts(svc, STAYS)
    await until(lambda: _queued_both(svc))

    # Stored sealed: the events' payloads never hold the texts in clear.
    payloads = await svc.pool.fetch("SELECT data::text FROM events")
    assert [leaks(r[0]) for r in payloads if leaks(r[0])] == []
    # Before: the person is there to be found, so the scans below can fail.
    before = await shown_plan(svc, GONE)
    assert texts(before) == {
        "name": NAME,
        "performance": PERFORMANCE,
        "effect": EFFECT,
        "dissent": DISSENT,
        "assessment": ASSESSMENT,
        "concern": CONCERN,
        "handling": HANDLING,
    }
    assert sorted(leaks(await export(svc, GONE))) == sorted([NAME, DISSENT, ASSESSMENT])
    held = await tables_holding_secrets(svc)
    assert held["proj_concerns.concerns"] == sorted([CONCERN, HANDLING])
    assert held["public.known_trainees"] == [NAME]
    assert DISSENT in held["public.http_idempotency"]

    assert await svc.app.state.personal.erase(GONE, "asked")
    await from_the_bus(svc, erasure(GONE))
    await until(lambda: _erased_everywhere(svc))

    assert await tables_holding_secrets(svc) == {}
    after = await shown_plan(svc, GONE)
    assert set(texts(after).values()) == {ERASED}
    assert without_texts(after) == without_texts(before)  # numbers, dates, status, decisions
    concerns = await queued(svc)
    assert (concerns[GONE]["text"], concerns[GONE]["handling"]) == (ERASED, ERASED)
    assert concerns[GONE]["trainee_name"] == ERASED
    taken = await export(svc, GONE)
    assert leaks(taken) == [] and ERASED in taken
    # Only the erased person is: the other trainee's texts read as they were written.
    other = texts(await shown_plan(svc, STAYS))
    assert (other["name"], other["dissent"]) == ("王平", other_texts(DISSENT))
    assert other["concern"] == concerns[STAYS]["text"] == other_texts(CONCERN)

    assert await PostgresEventStore(svc.pool, "training").verify() == []
    personal = svc.app.state.personal
    for projection in PROJECTIONS:
        differences = await verify(svc.pool, "training", projection, personal)
        assert differences == [], (projection.name, differences)


async def test_nothing_new_about_an_erased_trainee_is_kept(svc):
    """After the erasure a text about the person cannot be recorded (it would need their key)."""
    await plan_with_texts(svc, GONE)
    await svc.app.state.personal.erase(GONE, "asked")
    await from_the_bus(svc, erasure(GONE))
    noted = await svc.client.post(
        f"/plans/{GONE}/concerns",
        json={"stage_no": 1, "text": "Another-4412"},
        headers=trainer(svc, "tr-hr"),
    )
    assert noted.status_code == 409, noted.text
    stored = await svc.pool.fetchval(
        "SELECT count(*) FROM events WHERE type = 'TraineeConcernNoted' AND stream_id = $1",
        f"plan-{GONE}",
    )
    assert stored == 1


async def _queued_both(svc) -> bool:
    concerns = await queued(svc)
    return all(concerns.get(t, {}).get("handled") for t in (GONE, STAYS))


async def _erased_everywhere(svc) -> bool:
    listed = await svc.pool.fetchval(
        "SELECT count(*) FROM proj_erasure.erased_people WHERE person_id = $1", GONE
    )
    texts_left = await svc.pool.fetchval(
        "SELECT count(*) FROM proj_concerns.concerns WHERE trainee_id = $1 AND text <> $2",
        GONE,
        ERASED,
    )
    return listed == 1 and texts_left == 0
