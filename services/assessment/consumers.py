"""Enrollment and training events in: the trainee facts assessment grades with (migrations/0001),
and the organisation's branches and staff for the names people read (shared.directory).

:func:`handle` runs inside the inbox transaction of :func:`shared.consumer.handle_once`, which also
keeps the full envelope in ``inbox`` and skips duplicates; every event lands there whether or not
it changes a table, so the audit can replay the trainee's upstream history. It reads the upstream
JSON tolerantly (only the fields it uses). What a plan event does to the stages is decided by the
pure functions of ``domain/trainee_record.py``, which the audit replays too.

Personal data (docs/privacy.md): the handler sees upstream events revealed (shared.inbox
``revealing``); it keeps the trainee's name (for the people reading the lists) and the count of
its certificates, never their names. On ``PersonalDataErased`` the erased person's name, as a
trainee and as staff, is replaced with :data:`shared.personal.ERASED` in the tables here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
import structlog

from shared import directory
from shared.db import Conn
from shared.erasure import erased_person
from shared.events import Envelope
from shared.inbox import SetwiseHandler, latest_status, upsert_in_runs
from shared.personal import ERASED
from shared.topology import CONSUMERS

from .domain.events import certificate_count
from .domain.trainee_record import PLAN_EVENTS, evolve_plan
from .upstream import load_plan, save_plan

# What this service binds, from the deployment's one topology table (producers declare it too).
BINDING_KEYS = CONSUMERS["assessment"]
log = structlog.get_logger("gradeline.assessment.consumers")

_STATUS = latest_status("trainee_facts")


# An erased name stays erased: an enrolment re-driven late, from before enrollment sealed names,
# would otherwise bring it back in clear.
_NAME = f"CASE WHEN trainee_facts.name = '{ERASED}' THEN trainee_facts.name ELSE EXCLUDED.name END"

# Enrolments upserted set-wise: a stretch of them arriving together takes one statement.
_ENROLLED = (
    "INSERT INTO trainee_facts (trainee_id, name, category, branch_id, education,"
    " experience_years, certificate_count, enrolled_series, status, status_version)"
    " SELECT t, n, c, b, e, x, cs, ps::jsonb, 'enrolled', v FROM unnest($1::text[],"
    " $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::int[], $8::text[],"
    " $9::int[]) AS r(t, n, c, b, e, x, cs, ps, v)"
    " ON CONFLICT (trainee_id) DO UPDATE SET name = " + _NAME + ","
    " category = EXCLUDED.category, branch_id = EXCLUDED.branch_id,"
    " education = EXCLUDED.education, experience_years = EXCLUDED.experience_years,"
    " certificate_count = EXCLUDED.certificate_count,"
    " enrolled_series = EXCLUDED.enrolled_series," + _STATUS
)


def _json_list(value: Any) -> str:
    return orjson.dumps(list(value or [])).decode()


async def _upsert_enrolled(conn: Conn, enrolments: Sequence[tuple[dict[str, Any], int]]) -> None:
    """(data, stream version) of enrolments of distinct trainees, in one statement."""
    data = [d for d, _ in enrolments]
    await conn.execute(
        _ENROLLED,
        [d["trainee_id"] for d in data],
        [d.get("name") for d in data],
        [d.get("category") for d in data],
        [d["branch_id"] for d in data],
        [d["education"] for d in data],
        [Decimal(str(d.get("experience_years", 0))) for d in data],
        [certificate_count(d) for d in data],
        [_json_list(d.get("product_series")) for d in data],
        [version for _, version in enrolments],
    )


async def _enrolled(conn: Conn, d: dict[str, Any], version: int) -> None:
    await _upsert_enrolled(conn, [(d, version)])


async def _enrolled_many(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """A stretch of enrolments, as _enrolled one by one would apply them."""
    await upsert_in_runs(conn, envelopes, _upsert_enrolled, "trainee_id")


async def _status(conn: Conn, trainee_id: str, status: str, version: int) -> None:
    await conn.execute(
        "INSERT INTO trainee_facts (trainee_id, status, status_version) VALUES ($1, $2, $3)"
        " ON CONFLICT (trainee_id) DO UPDATE SET" + _STATUS,
        trainee_id,
        status,
        version,
    )


async def _enrollment(conn: Conn, envelope: Envelope) -> None:
    data = envelope.data
    if envelope.type == "TraineeEnrolled":
        await _enrolled(conn, data, envelope.version)
    elif envelope.type == "PlacementExamScored":
        await _status(conn, data["trainee_id"], "placed", envelope.version)
    elif envelope.type == "TraineeWithdrawn":
        await _status(conn, data["trainee_id"], "withdrawn", envelope.version)


async def _plan(conn: Conn, envelope: Envelope) -> None:
    trainee_id = envelope.data["trainee_id"]
    before = await load_plan(conn, trainee_id)
    after = evolve_plan(before, envelope.type, envelope.data)
    await save_plan(conn, trainee_id, before, after)


async def _erased(conn: Conn, person_id: str) -> None:
    """The person's name, wherever the tables here keep it, reads as erased from now on."""
    await conn.execute(
        "UPDATE trainee_facts SET name = $2, updated_at = now()"
        " WHERE trainee_id = $1 AND name IS DISTINCT FROM $2",
        person_id,
        ERASED,
    )
    await conn.execute(
        "UPDATE staff SET name = $2, updated_at = now()"
        " WHERE staff_id = $1 AND name IS DISTINCT FROM $2",
        person_id,
        ERASED,
    )


async def handle(conn: Conn, envelope: Envelope) -> None:
    """Apply one upstream event to the facts tables; others are kept in the inbox only."""
    if await directory.apply_organisation_event(conn, envelope):
        return
    person = erased_person(envelope) if envelope.service == "enrollment" else None
    if person is not None:
        await _erased(conn, person)
    elif envelope.service == "enrollment":
        await _enrollment(conn, envelope)
    elif envelope.service == "training" and envelope.type in PLAN_EVENTS:
        await _plan(conn, envelope)
    else:
        log.debug("consumer.kept_only", service=envelope.service, type=envelope.type)


# What the consumer runs: enrolments (and registrations) arriving together are upserted together.
HANDLER = SetwiseHandler(
    handle, {("enrollment", "TraineeEnrolled"): _enrolled_many, **directory.RUNS}
)
