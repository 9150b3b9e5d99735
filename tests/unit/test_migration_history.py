"""Compacted migrations (ADR 0012) stay honest: each names, in well-formed lines, checksums of
earlier texts that are not its own; and the core's history defines none of the functions that
shared/sql defines, so the append path is read in one place."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from shared import db, directory

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted(
    path
    for folder in [db.CORE_MIGRATIONS, directory.MIGRATIONS, *ROOT.glob("services/*/migrations")]
    for path in folder.glob("*.sql")
)
DEFINITIONS = db.CORE_MIGRATIONS.parent / "sql"
CREATED = re.compile(r"CREATE (?:OR REPLACE )?FUNCTION (\w+)", re.IGNORECASE)


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_text(encoding="utf-8").encode()).hexdigest()


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_compacted_migration_names_earlier_checksums_in_well_formed_lines(path):
    sql = path.read_text(encoding="utf-8")
    earlier = db.compacted_from(sql)
    # A mistyped line would not be read, and the databases it was meant for would not start.
    assert sql.count("compacted-from") == len(earlier), f"{path.name}: a malformed line"
    assert len(set(earlier)) == len(earlier), f"{path.name}: a checksum listed twice"
    assert checksum(path) not in earlier


def test_the_core_history_was_compacted_where_it_held_function_bodies():
    compacted = {
        p.name[:4] for p in db.CORE_MIGRATIONS.glob("*.sql") if db.compacted_from(p.read_text())
    }
    assert compacted == {"0001", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011"}


def test_no_core_migration_defines_a_function_that_shared_sql_defines():
    live = {
        name for path in DEFINITIONS.glob("*.sql") for name in CREATED.findall(path.read_text())
    }
    assert "gl_append_grouped" in live
    for path in db.CORE_MIGRATIONS.glob("*.sql"):
        again = live & set(CREATED.findall(path.read_text()))
        assert not again, f"{path.name} defines {sorted(again)} again: shared/sql is their home"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("-- a comment\n--\n   -- indented\n\n", False),
        ("", False),
        ("CREATE TABLE t (a int);  -- why\n", True),
        ("-- why\nSELECT '-- not a comment';\n", True),
        ("  DROP TABLE t; --\n", True),
    ],
)
def test_a_migration_of_comments_alone_has_no_statement(sql, expected):
    assert db.has_statements(sql) is expected
