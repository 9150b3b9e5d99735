"""``shared.inbox.SetwiseHandler`` and ``distinct_runs``: which events go together, in what order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.events import Envelope
from shared.inbox import SetwiseHandler, distinct_runs
from tests.support import delivered

NO_CONNECTION: Any = None  # the handlers here record calls only


def ev(service: str, type_: str, key: str) -> Envelope:
    return delivered(service, type_, f"s-{key}", {"k": key})


def keys(envelopes: Sequence[Envelope]) -> list[str]:
    return [e.data["k"] for e in envelopes]


async def test_stretches_of_a_set_wise_type_go_together_and_the_rest_one_by_one_in_order():
    calls: list[tuple[str, list[str]]] = []

    async def one(conn: object, envelope: Envelope) -> None:
        calls.append(("one", [envelope.data["k"]]))

    async def many(conn: object, envelopes: Sequence[Envelope]) -> None:
        calls.append(("many", keys(envelopes)))

    handler = SetwiseHandler(one, {("up", "Enrolled"): many})
    events = [
        ev("up", "Enrolled", "a"),
        ev("up", "Enrolled", "b"),
        ev("up", "Withdrawn", "a"),
        ev("other", "Enrolled", "x"),
        ev("up", "Enrolled", "c"),
        ev("up", "Placed", "c"),
        ev("up", "Placed", "d"),
        ev("up", "Enrolled", "d"),
    ]

    await handler.apply(NO_CONNECTION, events)

    assert calls == [
        ("many", ["a", "b"]),
        ("one", ["a"]),
        ("one", ["x"]),  # same type, another service: not the set-wise kind
        ("many", ["c"]),
        ("one", ["c"]),
        ("one", ["d"]),
        ("many", ["d"]),
    ]
    calls.clear()
    await handler(NO_CONNECTION, events[0])  # called directly: the one-by-one form
    assert calls == [("one", ["a"])]


def test_distinct_runs_cut_before_a_repeated_key_and_keep_order():
    events = [ev("up", "E", k) for k in ["a", "b", "a", "c", "c", "d"]]
    runs = list(distinct_runs(events, key=lambda e: e.data["k"]))
    assert [keys(run) for run in runs] == [["a", "b"], ["a", "c"], ["c", "d"]]
    assert list(distinct_runs([], key=lambda e: e.data["k"])) == []
    assert [keys(r) for r in distinct_runs(events[:1], key=lambda e: e.data["k"])] == [["a"]]
