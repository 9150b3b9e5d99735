"""The consumers' set-wise enrolments (``shared.inbox.SetwiseHandler``) against the one-by-one
handlers, on real PostgreSQL: one batch of mixed upstream events applied through each service's
``HANDLER`` leaves exactly the tables that applying the same events one at a time leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.assessment import app as assessment_app
from services.assessment import consumers as assessment
from services.compensation import app as compensation_app
from services.compensation import consumers as compensation
from services.training import app as training_app
from services.training import consumers as training
from shared import db
from shared.events import Envelope
from shared.inbox import SetwiseHandler, handle_batch, handle_once
from shared.settings import Settings
from tests.support import delivered

CASES = {
    # service: (its consumer, its migrations, the tables its enrolments change)
    "training": (training.HANDLER, training_app.MIGRATIONS, ["known_trainees"]),
    "assessment": (assessment.HANDLER, assessment_app.MIGRATIONS, ["trainee_facts"]),
    "compensation": (
        compensation.HANDLER,
        compensation_app.MIGRATIONS,
        ["known_employees", "grade_decisions"],
    ),
}


def envelope(service: str, type_: str, stream: str, version: int, data: dict[str, Any]) -> Envelope:
    return delivered(service, type_, stream, data, version, branch_id=data.get("branch_id"))


def enrolled(trainee_id: str, branch: str, version: int = 1, name: str = "李娜") -> Envelope:
    data = {
        "trainee_id": trainee_id,
        "name": name,
        "category": "hq_full_time",
        "branch_id": branch,
        "education": "bachelor",
        "experience_years": "3.5",
        "certificates": ["welder"],
        "product_series": ["X1", "X2"],
        "enrolled_on": "2026-03-01",
    }
    return envelope("enrollment", "TraineeEnrolled", f"trainee-{trainee_id}", version, data)


def withdrawn(trainee_id: str, version: int) -> Envelope:
    data = {"trainee_id": trainee_id, "reason": "left", "withdrawn_on": "2026-03-20"}
    return envelope("enrollment", "TraineeWithdrawn", f"trainee-{trainee_id}", version, data)


def graded(trainee_id: str) -> Envelope:
    data = {
        "trainee_id": trainee_id,
        "session_id": "s-1",
        "position": "technician",
        "level": "junior",
        "assigned_at": "2026-03-10T10:00:00+00:00",
        "supersedes": None,
    }
    return envelope("assessment", "GradeAssigned", f"sitting-s-1-{trainee_id}", 1, data)


def batch() -> list[Envelope]:
    """Stretches of enrolments between other events; a trainee enrolled twice (a re-driven
    copy under another event id, later version first); a grade that came before its enrolment."""
    return [
        enrolled("t-1", "dl-north"),
        enrolled("t-2", "dl-south"),
        withdrawn("t-1", 2),
        graded("t-4"),
        enrolled("t-3", "dl-north"),
        enrolled("t-4", "dl-east"),
        enrolled("t-3", "dl-west", version=3, name="王芳"),
        enrolled("t-5", "dl-north"),
    ]


@pytest.fixture
async def pools(settings: Settings) -> AsyncIterator[Callable[[str, str], Any]]:
    """Fresh databases with a service's migrations, by (service, label); dropped afterwards."""
    made: list[tuple[str, asyncpg.Pool]] = []

    async def make(service: str, label: str) -> asyncpg.Pool:
        name = f"{settings.namespace}_{service}_{label}"
        await db.ensure_database(settings.pg_dsn, name)
        pool = await db.create_pool(db.dsn_for_database(settings.pg_dsn, name), size=2)
        migrations: list[Path] = CASES[service][1]
        await db.migrate(pool, [db.CORE_MIGRATIONS, *migrations])
        made.append((name, pool))
        return pool

    yield make
    for name, pool in made:
        await pool.close()
        await db.drop_database(settings.pg_dsn, name)


async def dump(pool: asyncpg.Pool, table: str) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY 1")
    return [
        tuple(v for k, v in row.items() if k not in ("updated_at", "applied_at", "seq"))
        for row in rows
    ]


@pytest.mark.parametrize("service", list(CASES))
async def test_a_batch_applied_set_wise_leaves_what_one_by_one_leaves(service, pools):
    handler, _, tables = CASES[service]
    assert isinstance(handler, SetwiseHandler)
    events = batch()
    together, alone = await pools(service, "batch"), await pools(service, "one")

    assert await handle_batch(together, handler, events) == len(events)
    for event in events:
        assert await handle_once(alone, handler.one, event)

    for table in tables:
        assert await dump(together, table) == await dump(alone, table), table
    assert len(await dump(together, tables[0])) == 5  # t-1 .. t-5
    if service == "compensation":  # the grade that waited for t-4's enrolment became a pay rate
        rates = await together.fetchval("SELECT count(*) FROM events WHERE type = 'PayRateSet'")
        assert rates == await alone.fetchval(
            "SELECT count(*) FROM events WHERE type = 'PayRateSet'"
        )
        assert rates == 1
