"""What a migration file says to shared.db.migrate besides its SQL (ADR 0012)."""

from __future__ import annotations

import pytest

from shared import db


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
