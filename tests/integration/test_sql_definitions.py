"""The store's SQL functions have one home, ``shared/sql/``: a fresh database holds exactly the
functions stated there, as stated there, and an edit of a file there is applied at the next start
(under the migration lock, checksummed like a migration)."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared import db

DEFINITIONS = db.CORE_MIGRATIONS.parent / "sql"
# What the code calls: the store (gl_append, gl_append_grouped, gl_append_grouped_each,
# gl_stored_digest), assessment's audit (both digests), and what those call in turn.
LIVE = {
    "gl_any_key_known",
    "gl_append",
    "gl_append_each",
    "gl_append_grouped",
    "gl_append_grouped_each",
    "gl_content_digest",
    "gl_event_content_v2",
    "gl_event_digest",
    "gl_event_digest_v2",
    "gl_stored_digest",
}
_DEFINED = re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\(")


async def functions(source: asyncpg.Pool | asyncpg.Connection) -> list[tuple[str, str]]:
    """(name, body) of every gl_* function of the database, overloads included."""
    rows = await source.fetch(
        "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'gl\\_%' ORDER BY proname"
    )
    return [(r["proname"], r["prosrc"]) for r in rows]


def definition_text(folder: Path = DEFINITIONS) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql")))


async def test_a_fresh_database_has_exactly_the_functions_stated_in_shared_sql(pg_pool):
    live = await functions(pg_pool)
    assert {name for name, _ in live} == LIVE
    assert len(live) == len(LIVE), "an old signature of a live function stayed installed"
    text = definition_text()
    assert set(_DEFINED.findall(text)) == LIVE
    for name, body in live:
        assert body in text, f"{name} as installed is not what shared/sql states"


@pytest.fixture
async def scratch(settings) -> AsyncIterator[asyncpg.Pool]:
    name = settings.database_name("definitions")
    await db.ensure_database(settings.pg_dsn, name)
    pool = await db.create_pool(db.dsn_for_database(settings.pg_dsn, name), size=2)
    yield pool
    await pool.close()
    await db.drop_database(settings.pg_dsn, name)


def core_copy(root: Path, *, without_last_migration: bool = False) -> Path:
    """A copy of the core component (its migrations and definitions) under ``root``; the same
    component name ("shared"). Returns its migrations folder."""
    migrations = root / "shared" / "migrations"
    migrations.mkdir(parents=True)
    files = sorted(db.CORE_MIGRATIONS.glob("00*.sql"))
    for path in files[:-1] if without_last_migration else files:
        shutil.copy(path, migrations / path.name)
    shutil.copytree(DEFINITIONS, root / "shared" / "sql")
    return migrations


async def body_of(pool: asyncpg.Pool, name: str) -> str:
    return str(await pool.fetchval("SELECT prosrc FROM pg_proc WHERE proname = $1", name))


async def test_an_edited_definition_is_applied_at_the_next_start_and_only_then(scratch, tmp_path):
    migrations = core_copy(tmp_path)
    await db.migrate(scratch, [migrations])
    append_sql = migrations.parent / "sql" / "append.sql"
    edited = append_sql.read_text().replace("RETURN false;", "RETURN false;  -- edited", 1)
    append_sql.write_text(edited)

    assert await db.migrate(scratch, [migrations]) == 1  # the edited file, nothing else
    assert "-- edited" in await body_of(scratch, "gl_any_key_known")
    assert await db.migrate(scratch, [migrations]) == 0  # unchanged since: left alone


async def test_a_process_with_an_older_schema_does_not_put_back_its_definitions(scratch, tmp_path):
    """A replica of the previous release starting during a rolling update keeps the newer
    release's functions (it would otherwise undo them at each of its starts)."""
    newer = core_copy(tmp_path / "newer")
    append_sql = newer.parent / "sql" / "append.sql"
    append_sql.write_text(append_sql.read_text().replace("RETURN false;", "RETURN false;  -- new"))
    await db.migrate(scratch, [newer])
    older = core_copy(tmp_path / "older", without_last_migration=True)
    assert await db.migrate(scratch, [older]) == 0
    assert "-- new" in await body_of(scratch, "gl_any_key_known")


async def test_an_up_to_date_database_is_left_alone(service_db):
    pool = await db.create_pool(service_db, size=1)
    try:
        before = await functions(pool)
        assert await db.migrate(pool, [db.CORE_MIGRATIONS]) == 0
        assert await functions(pool) == before
    finally:
        await pool.close()
