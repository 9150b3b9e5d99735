"""Small checks the policies' :meth:`~shared.policy.PolicyVersion.problems` are made of: each
returns the (field path, what is wrong) pairs it finds, never raises, so that a document is
refused with every problem listed at once."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from decimal import Decimal
from itertools import pairwise

Problems = list[tuple[str, str]]


def descending(path: str, bounds: Sequence[Decimal], what: str) -> Problems:
    """Bounds listed highest first, no two equal (each band starts where the one above ends)."""
    return [
        (f"{path}[{i + 1}]", f"{what} {b} must be below the one before ({a}): highest first")
        for i, (a, b) in enumerate(pairwise(bounds))
        if not a > b
    ]


def positive(path: str, value: Decimal | int | None) -> Problems:
    if value is not None and not value > 0:
        return [(path, f"must be positive, not {value}")]
    return []


def within(path: str, value: Decimal, low: Decimal, high: Decimal) -> Problems:
    if not low <= value <= high:
        return [(path, f"must be between {low} and {high}, not {value}")]
    return []


def distinct(path: str, keys: Iterable[Hashable]) -> Problems:
    seen: set[Hashable] = set()
    found: Problems = []
    for key in keys:
        if key in seen:
            found.append((path, f"{_shown(key)} is listed twice"))
        seen.add(key)
    return found


def every_present(path: str, keys: Iterable[Hashable], wanted: Iterable[Hashable]) -> Problems:
    """Each of ``wanted`` appears among ``keys`` (every level, every position, ...)."""
    have = set(keys)
    return [(path, f"{_shown(key)} is missing") for key in wanted if key not in have]


def _shown(key: Hashable) -> str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key)
    return str(key)
