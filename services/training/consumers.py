"""Enrollment events in: what training must know of each trainee (table ``known_trainees``),
and the organisation's branches and staff for the names people read (shared.directory); and
assessment's dispositions (:mod:`.dispositions`, R-18a).

The handler runs inside the inbox transaction of :func:`shared.consumer.handle_once`, which also
writes the inbox row and skips duplicates. It is a tolerant reader of the upstream JSON: it takes
the fields it needs from ``envelope.data`` and ignores the rest, so enrollment may add fields
without breaking training. Every write is an upsert keyed by trainee id, and the status follows
the latest stream version seen, so a redelivered or late (re-driven) event changes nothing wrong.

``PersonalDataErased`` (docs/privacy.md) puts the erased marker in place of the trainee's name
copied here; an enrolment re-driven after it is revealed as the marker too, so it stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from shared import directory
from shared.db import Conn
from shared.erasure import ERASED_TYPE
from shared.events import Envelope
from shared.inbox import SetwiseHandler, latest_status, upsert_in_runs
from shared.personal import ERASED
from shared.topology import CONSUMERS

from . import dispositions

UPSTREAM = "enrollment"
# What this service binds, from the deployment's one topology table (producers declare it too).
BINDING_KEYS = CONSUMERS["training"]

log = structlog.get_logger("gradeline.training.consumers")

_STATUS = latest_status("known_trainees")


# Enrolments upserted set-wise: a stretch of them arriving together takes one statement.
_ENROLLED = (
    "INSERT INTO known_trainees (trainee_id, name, category, branch_id, status, status_version)"
    " SELECT t, n, c, b, 'enrolled', v"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS r(t, n, c, b, v)"
    " ON CONFLICT (trainee_id) DO UPDATE SET name = EXCLUDED.name,"
    " category = EXCLUDED.category, branch_id = EXCLUDED.branch_id," + _STATUS
)


async def _upsert_enrolled(conn: Conn, enrolments: Sequence[tuple[dict[str, Any], int]]) -> None:
    """(data, stream version) of enrolments of distinct trainees, in one statement."""
    await conn.execute(
        _ENROLLED,
        [d["trainee_id"] for d, _ in enrolments],
        [d["name"] for d, _ in enrolments],
        [d["category"] for d, _ in enrolments],
        [d["branch_id"] for d, _ in enrolments],
        [version for _, version in enrolments],
    )


async def _enrolled(conn: Conn, data: dict[str, Any], version: int) -> None:
    await _upsert_enrolled(conn, [(data, version)])


async def _enrolled_many(conn: Conn, envelopes: Sequence[Envelope]) -> None:
    """A stretch of enrolments, as _enrolled one by one would apply them."""
    await upsert_in_runs(conn, envelopes, _upsert_enrolled, "trainee_id")


async def _placed(conn: Conn, data: dict[str, Any], version: int) -> None:
    await conn.execute(
        "INSERT INTO known_trainees (trainee_id, status, status_version, position, plan_level)"
        " VALUES ($1, 'placed', $2, $3, $4)"
        " ON CONFLICT (trainee_id) DO UPDATE SET position = EXCLUDED.position,"
        " plan_level = EXCLUDED.plan_level," + _STATUS,
        data["trainee_id"],
        version,
        data.get("position"),
        data.get("plan_level"),
    )


async def _withdrawn(conn: Conn, data: dict[str, Any], version: int) -> None:
    await conn.execute(
        "INSERT INTO known_trainees (trainee_id, status, status_version)"
        " VALUES ($1, 'withdrawn', $2) ON CONFLICT (trainee_id) DO UPDATE SET" + _STATUS,
        data["trainee_id"],
        version,
    )


async def _erased(conn: Conn, data: dict[str, Any], version: int) -> None:
    """The person's data was erased: the name training copied from their enrolment goes too."""
    await conn.execute(
        "UPDATE known_trainees SET name = $2, updated_at = now()"
        " WHERE trainee_id = $1 AND name IS NOT NULL",
        str(data["person_id"]),
        ERASED,
    )


_HANDLERS: dict[str, Callable[[Conn, dict[str, Any], int], Awaitable[None]]] = {
    "TraineeEnrolled": _enrolled,
    "PlacementExamScored": _placed,
    "TraineeWithdrawn": _withdrawn,
    ERASED_TYPE: _erased,
}


async def handle_enrollment_event(conn: Conn, envelope: Envelope) -> None:
    """Record the trainee or organisation facts an enrollment event carries; other events are
    kept, not used."""
    if await directory.apply_organisation_event(conn, envelope):
        return
    if (envelope.service, envelope.type) == (dispositions.UPSTREAM, dispositions.EVENT):
        await dispositions.disposition_decided(conn, envelope.data)  # R-18a
        return
    handler = _HANDLERS.get(envelope.type)
    if envelope.service != UPSTREAM or handler is None:
        # Still lands in the inbox (the mechanism writes it): replayable if training needs it later.
        log.info("consumer.ignored", service=envelope.service, type=envelope.type)
        return
    await handler(conn, envelope.data, envelope.version)


# What the consumer runs: enrolments (and registrations) arriving together are upserted together.
HANDLER = SetwiseHandler(
    handle_enrollment_event,
    {(UPSTREAM, "TraineeEnrolled"): _enrolled_many, **directory.RUNS},
)
