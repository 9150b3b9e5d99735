"""The organisation as training, assessment and compensation learn it (shared.directory): each
keeps branches and staff from enrollment's events in its inbox, exactly once, whatever the order
and the extra fields, set-wise for a stretch of registrations; the organisation's migrations
(one component every consumer lists) also apply the organisation events an earlier release kept
in the inbox unused."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
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
from shared import db, directory
from shared.inbox import Handler, handle_batch, handle_once, insert_into_inbox
from shared.problems import Problem
from shared.settings import Settings
from tests.organisation import (
    branch_closed,
    branch_registered,
    branch_renamed,
    deliver_organisation,
    organisation_event,
    staff_left,
    staff_registered,
    standard_names,
)

CASES = {
    # service: (its consumer, its migrations: the organisation's, then its own)
    "training": (training.HANDLER, training_app.MIGRATIONS),
    "assessment": (assessment.HANDLER, assessment_app.MIGRATIONS),
    "compensation": (compensation.HANDLER, compensation_app.MIGRATIONS),
}
SERVICES = list(CASES)
# The last of each service's own migrations in the release before the organisation's.
RELEASED = {"training": "0001", "assessment": "0002", "compensation": "0002"}


def older(service: str, root: Path) -> Path:
    """The service's own migrations as the release before the organisation's had them (a copy in
    a folder of the service's name: the same component)."""
    own = CASES[service][1][-1]
    folder = root / service / "migrations"
    folder.mkdir(parents=True)
    for path in sorted(own.glob("*.sql")):
        if path.name[:4] <= RELEASED[service]:
            shutil.copy(path, folder / path.name)
    return folder


async def migrate(pool: asyncpg.Pool, service: str) -> None:
    await db.migrate(pool, [db.CORE_MIGRATIONS, *CASES[service][1]])


@pytest.fixture
async def pools(settings: Settings, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Fresh databases with a service's migrations (``before``: an older release's), by
    (service, label); dropped afterwards."""
    made: list[tuple[str, asyncpg.Pool]] = []

    async def make(service: str, label: str = "db", before: bool = False) -> asyncpg.Pool:
        name = f"{settings.namespace}_{service}_{label}"
        await db.ensure_database(settings.pg_dsn, name)
        pool = await db.create_pool(db.dsn_for_database(settings.pg_dsn, name), size=2)
        made.append((name, pool))
        if before:
            await db.migrate(pool, [db.CORE_MIGRATIONS, older(service, tmp_path)])
        else:
            await migrate(pool, service)
        return pool

    yield make
    for name, pool in made:
        await pool.close()
        await db.drop_database(settings.pg_dsn, name)


@dataclass(frozen=True)
class Consumer:
    """A consuming service's database and handler: what its consumer does with each message."""

    pool: asyncpg.Pool
    handler: Handler

    async def deliver(self, *events: Any) -> list[bool]:
        return await deliver_organisation(self.pool, self.handler, *events)


@pytest.fixture(params=SERVICES)
async def consumer(request: pytest.FixtureRequest, pools: Callable[..., Any]) -> Consumer:
    """Each consuming service in turn, its database freshly migrated."""
    return Consumer(await pools(request.param), CASES[request.param][0])


async def branches(pool) -> dict[str, tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT branch_id, kind, name_zh, name_en, status, closed_on::text FROM branches"
    )
    return {r[0]: tuple(r[1:]) for r in rows}


async def staff(pool) -> dict[str, tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT staff_id, name, department, roles, branch_id, left_on::text FROM staff"
    )
    return {r[0]: tuple(r[1:]) for r in rows}


async def test_a_branch_registered_renamed_and_closed_is_kept_once(consumer):
    pool = consumer.pool
    registered = branch_registered("bo-east")
    registered = registered._replace(data={**registered.data, "region": "east"})  # ignored
    assert await consumer.deliver(registered) == [True]
    assert await consumer.deliver(registered) == [False]  # redelivered
    assert (await branches(pool))["bo-east"] == (
        "branch_office",
        *standard_names("bo-east"),
        "open",
        None,
    )

    await consumer.deliver(branch_renamed("bo-east", "华东大区", "East Region"))
    await consumer.deliver(branch_closed("bo-east", "2026-04-30", version=3))
    assert (await branches(pool))["bo-east"] == (
        "branch_office",
        "华东大区",
        "East Region",
        "closed",
        "2026-04-30",
    )
    await directory.require_known_branch(pool, "bo-east")  # closed: still known (its history)
    names = await directory.branch_names(pool, ["bo-east", "nowhere", None])
    assert directory.branch_labels("bo-east", names) == {
        "branch_name_zh": "华东大区",
        "branch_name_en": "East Region",
    }
    assert directory.branch_labels("nowhere", names) == {
        "branch_name_zh": "nowhere",
        "branch_name_en": "nowhere",
    }


async def test_an_older_rename_arriving_late_does_not_roll_the_names_back(consumer):
    """Applied directly (a backfill, a replay): the names follow the highest version."""
    await consumer.deliver(
        branch_registered("hq"),
        branch_renamed("hq", "集团总部", "Group HQ", version=3),
        branch_renamed("hq", "总部二", "HQ two", version=2),
    )
    assert (await branches(consumer.pool))["hq"][1:3] == ("集团总部", "Group HQ")


async def test_an_unknown_branch_is_a_422_naming_the_field(consumer):
    with pytest.raises(Problem) as refused:
        await directory.require_known_branch(consumer.pool, "bo-new")
    assert refused.value.status == 422
    assert refused.value.body()["errors"][0]["field"] == "query.branch_id"
    assert refused.value.body()["errors"][0]["type"] == "unknown_branch"
    await consumer.deliver(branch_registered("bo-new"))  # seconds later
    await directory.require_known_branch(consumer.pool, "bo-new")
    await directory.require_known_branch(consumer.pool, None)  # no filter: nothing to check


async def test_staff_registered_and_left_keep_their_names(consumer):
    await consumer.deliver(
        staff_registered("tr-x", "孙老师", roles=("trainer", "examiner"), branch_id="bo-east"),
        staff_left("tr-x", "2026-05-31"),
    )
    assert (await staff(consumer.pool))["tr-x"] == (
        "孙老师",
        "technical",
        ["trainer", "examiner"],
        "bo-east",
        "2026-05-31",
    )
    assert await directory.staff_names(consumer.pool, ["tr-x", "tr-unknown"]) == {"tr-x": "孙老师"}


@pytest.mark.parametrize("service", SERVICES)
async def test_registrations_applied_set_wise_leave_what_one_by_one_leaves(service, pools):
    handler = CASES[service][0]
    together, alone = await pools(service, "together"), await pools(service, "alone")
    events = [
        branch_registered("hq"),
        branch_registered("bo-east"),
        branch_registered("hq", name_zh="总部（重发）"),  # a re-driven copy, another event id
        staff_registered("tr-1", "甲"),
        staff_registered("tr-2", "乙"),
        branch_renamed("bo-east", "华东", "East"),
        branch_registered("dl-north"),
    ]
    assert await handle_batch(together, handler, events) == len(events)
    for event in events:
        assert await handle_once(alone, handler.one, event)
    assert await branches(together) == await branches(alone)
    assert await staff(together) == await staff(alone)
    assert set(await branches(together)) == {"hq", "bo-east", "dl-north"}


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migration_applies_organisation_events_an_older_release_kept(service, pools):
    """Enrollment upgraded first: the consumer's older release kept its events in the inbox."""
    pool = await pools(service, before=True)
    kept = [
        branch_registered("bo-east"),
        branch_renamed("bo-east", "华东大区", "East Region"),
        branch_registered("dl-south"),
        branch_closed("dl-south", "2026-02-28"),
        staff_registered("tr-x", "孙老师"),
        staff_left("tr-x", "2026-02-27"),
        organisation_event("BranchRegistered", "branch-x", 1, {"branch_id": "x"}, "x")._replace(
            service="training"  # not enrollment's: not the organisation
        ),
    ]
    async with pool.acquire() as conn:
        await insert_into_inbox(conn, kept)
    await migrate(pool, service)
    component = "SELECT version FROM schema_migrations WHERE component = 'organisation'"
    assert await pool.fetchval(component) == "0001_organisation.sql"  # one for the consumers
    assert await branches(pool) == {
        "bo-east": ("branch_office", "华东大区", "East Region", "open", None),
        "dl-south": ("dealer", *standard_names("dl-south"), "closed", "2026-02-28"),
    }
    assert (await staff(pool))["tr-x"][0::4] == ("孙老师", "2026-02-27")


async def test_compensation_learns_the_names_of_employees_enrolled_before_it_kept_them(pools):
    """Payroll exports name employees: the migration fills the names of those already known from
    the enrolments in the inbox (the latest one of each)."""
    pool = await pools("compensation", before=True)
    first, second = enrolled_as("t-1", "王强", 1), enrolled_as("t-1", "王强强", 2)
    async with pool.acquire() as conn:
        await insert_into_inbox(conn, [first, second, enrolled_as("t-2", "李娜", 1)])
        await conn.execute(
            "INSERT INTO known_employees (employee_id, category, branch_id)"
            " VALUES ('t-1', 'hq_full_time', 'hq')"
        )
    await migrate(pool, "compensation")
    rows = await pool.fetch("SELECT employee_id, name FROM known_employees")
    assert [tuple(r) for r in rows] == [("t-1", "王强强")]  # t-2 was never applied: no row


def enrolled_as(trainee_id: str, name: str, version: int):
    data = {"trainee_id": trainee_id, "name": name, "category": "hq_full_time", "branch_id": "hq"}
    return organisation_event("TraineeEnrolled", f"trainee-{trainee_id}", version, data, "hq")
