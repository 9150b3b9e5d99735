"""Compacted migrations (ADR 0012): a database that applied a migration's earlier text migrates
on as before, a replica of the release before still starts, any other change of an applied
migration is still an error, and a fresh database holds only the live functions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared import db

CORE = sorted(db.CORE_MIGRATIONS.glob("*.sql"))
COMPACTED = {p.name: db.compacted_from(p.read_text(encoding="utf-8")) for p in CORE}
COMPACTED = {name: earlier for name, earlier in COMPACTED.items() if earlier}
# Created by 0004-0008, dropped by 0011: the write paths that hash with digest 1.
RETIRED = {
    "gl_append_batch",
    "gl_append_doc",
    "gl_append_doc_each",
    "gl_append_doc_set",
    "gl_append_set",
    "gl_batch_is_plain",
}
DEFINED = re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\(")


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


@pytest.mark.parametrize("which", [0, -1], ids=["first listed", "last listed"])
async def test_a_database_that_applied_the_earlier_texts_migrates_and_keeps_their_checksums(
    pool, which
):
    earlier = {name: checksums[which] for name, checksums in COMPACTED.items()}
    assert "0011_chain_covers_audits_and_seals.sql" in earlier
    await record(pool, earlier)

    assert await db.migrate(pool, [db.CORE_MIGRATIONS]) == 0
    # What the database applied stays on record, for the replicas that know only that text.
    now = await recorded(pool)
    assert {name: now[name] for name in COMPACTED} == earlier


async def test_a_checksum_no_compaction_lists_is_still_an_error(pool):
    await record(pool, {"0004_group_commit.sql": hashlib.sha256(b"another text").hexdigest()})
    with pytest.raises(RuntimeError, match=r"0004_group_commit\.sql changed after it was applied"):
        await db.migrate(pool, [db.CORE_MIGRATIONS])


async def test_a_fresh_database_has_every_function_shared_sql_defines_and_no_retired_one(pool):
    installed = {r["proname"] for r in await pool.fetch("SELECT proname FROM pg_proc")}
    definitions = (db.CORE_MIGRATIONS.parent / "sql").glob("*.sql")
    live = {name for path in definitions for name in DEFINED.findall(path.read_text())}
    assert live and live <= installed
    assert not RETIRED & installed
    assert {name for name in installed if name.startswith("gl_")} == live


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
