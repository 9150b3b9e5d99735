"""A readable diff of two versions of a policy: one line per change, rows of a table named by
their key rather than their position (``bands[engineer/senior].min_score: 97 → 98``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Fields that name a row of a policy's table (a band, a pay row, an eligibility entry): a list
# of objects whose values of these fields are unique is compared row by row by that key.
KEY_FIELDS = ("category", "position", "level", "plan_level", "department", "code", "topic")


def diff(before: Mapping[str, Any], after: Mapping[str, Any], path: str = "") -> list[str]:
    """The changes from ``before`` to ``after`` (JSON values), in field order."""
    changes: list[str] = []
    for name in [*before, *(k for k in after if k not in before)]:
        where = f"{path}.{name}" if path else name
        if name not in after:
            changes.append(f"{where}: removed (was {_shown(before[name])})")
        elif name not in before:
            changes.append(f"{where}: added {_shown(after[name])}")
        else:
            changes += _changes(before[name], after[name], where)
    return changes


def _changes(old: Any, new: Any, where: str) -> list[str]:
    if old == new:
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return diff(old, new, where)
    if isinstance(old, list) and isinstance(new, list):
        fields = _key_fields([*old, *new])
        keyed_old, keyed_new = _keyed(old, fields), _keyed(new, fields)
        if keyed_old is not None and keyed_new is not None:
            return _rows(keyed_old, keyed_new, fields, where)
        if len(old) == len(new) and all(isinstance(x, Mapping) for x in [*old, *new]):
            return [
                c
                for i, (a, b) in enumerate(zip(old, new, strict=True))
                for c in _changes(a, b, f"{where}[{i}]")
            ]
    return [f"{where}: {_shown(old)} → {_shown(new)}"]


def _rows(old: dict[str, Any], new: dict[str, Any], fields: Sequence[str], where: str) -> list[str]:
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        row = f"{where}[{key}]"
        if key not in new:
            changes.append(f"{row}: removed")
        elif key not in old:
            changes.append(f"{row}: added {_shown(_unkeyed(new[key], fields))}")
        else:
            changes += diff(_unkeyed(old[key], fields), _unkeyed(new[key], fields), row)
    if list(old) != list(new) and set(old) == set(new):
        changes.append(f"{where}: order {', '.join(old)} → {', '.join(new)}")
    return changes


def _key_fields(items: Sequence[Any]) -> list[str]:
    """The key fields every row (of both versions) has; none for a list of plain values."""
    if not items or not all(isinstance(x, Mapping) for x in items):
        return []
    return [f for f in KEY_FIELDS if all(f in x for x in items)]


def _keyed(items: Sequence[Any], fields: Sequence[str]) -> dict[str, Any] | None:
    """The rows by key (``engineer/senior``), or None when they have no unique key."""
    if not fields:
        return None
    rows = {"/".join(str(x[f]) for f in fields): x for x in items}
    return rows if len(rows) == len(items) else None


def _unkeyed(row: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in fields}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return "none" if value is None else str(value)
