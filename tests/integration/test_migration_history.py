"""Compacted migrations (ADR 0012): a database that applied a migration's earlier text migrates
on as before, and a replica of the release before still starts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared import db


@pytest.fixture
async def pool(service_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(service_db, size=2)
    yield pool
    await pool.close()


async def recorded(pool: asyncpg.Pool, component: str = "shared") -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT version, checksum FROM schema_migrations WHERE component = $1", component
    )
    return {r["version"]: r["checksum"] for r in rows}


async def record(pool: asyncpg.Pool, checksums: dict[str, str]) -> None:
    await pool.executemany(
        "UPDATE schema_migrations SET checksum = $2 WHERE component = 'shared' AND version = $1",
        list(checksums.items()),
    )


def component(root: Path, migrations: dict[str, str], definitions: dict[str, str]) -> Path:
    """A component "legacy" under ``root`` with these files; returns its migrations folder."""
    folder = root / "legacy" / "migrations"
    folder.mkdir(parents=True)
    (root / "legacy" / "sql").mkdir()
    for name, sql in migrations.items():
        (folder / name).write_text(sql)
    for name, sql in definitions.items():
        (root / "legacy" / "sql" / name).write_text(sql)
    return folder


ORIGINAL = {
    "0001_t.sql": "CREATE TABLE legacy_t (a int);\n"
    "CREATE FUNCTION legacy_f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
    "0002_f.sql": "CREATE OR REPLACE FUNCTION legacy_f() RETURNS int LANGUAGE sql AS 'SELECT 3';\n",
}


async def test_a_replica_of_the_release_before_a_compaction_still_starts(pool, tmp_path):
    before = component(tmp_path / "before", ORIGINAL, {})
    assert await db.migrate(pool, [before]) == 2
    applied_then = await recorded(pool, "legacy")

    def compacted(name: str) -> str:
        earlier = hashlib.sha256(ORIGINAL[name].encode()).hexdigest()
        return f"-- legacy_f: sql/f.sql\n-- compacted-from sha256:{earlier}\n"

    after = component(
        tmp_path / "after",
        {
            "0001_t.sql": compacted("0001_t.sql") + "CREATE TABLE legacy_t (a int);\n",
            "0002_f.sql": compacted("0002_f.sql"),  # comments alone
            "0003_v.sql": "-- nothing left\n",  # comments alone: recorded, not run
        },
        {"f.sql": "CREATE OR REPLACE FUNCTION legacy_f() RETURNS int LANGUAGE sql AS 'SELECT 2';"},
    )
    assert await db.migrate(pool, [after]) == 2  # 0003 and the definition
    assert await pool.fetchval("SELECT legacy_f()") == 2
    assert await recorded(pool, "legacy") == {
        **applied_then,
        "0003_v.sql": hashlib.sha256(b"-- nothing left\n").hexdigest(),
    }
    # A replica of the release before starts during the rolling update: its text is on record.
    assert await db.migrate(pool, [before]) == 0
    assert await pool.fetchval("SELECT legacy_f()") == 2
