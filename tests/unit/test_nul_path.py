"""Where a request body holds U+0000, which PostgreSQL text cannot store (the 422 names it)."""

from __future__ import annotations

import pytest

from shared.requests import _nul_path


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "Zhang Wei", "years": 3, "ok": True, "none": None}, None),
        ("a\x00b", ()),
        ({"name": "bad\x00"}, ("name",)),
        ({"bad\x00key": "fine"}, ("bad\x00key",)),
        ({"certificates": ["ok", "no\x00"]}, ("certificates", 1)),
        ({"stages": [{"n": 1}, {"n": 2, "topic": {"t\x00": 1}}]}, ("stages", 1, "topic", "t\x00")),
        (
            {"stages": [{"n": 1, "notes": ["a", {"deep": "\x00"}]}]},
            ("stages", 0, "notes", 1, "deep"),
        ),
        ([[["\x00"]]], (0, 0, 0)),
        ({"first": "\x00", "second": "\x00"}, ("first",)),  # the first in document order
        ({"text": "\\u0000 spelled out is no NUL"}, None),
    ],
)
def test_the_path_to_the_first_nul_or_none(body, path):
    assert _nul_path(body) == path
