"""Envelopes from stored rows: ``tuple.__new__``, the NamedTuple's ``_make``, its constructor.

``python -m bench.envelope_construction``: builds 100,000 envelopes from rows shaped like
``shared.eventstore.EVENT_COLUMNS`` each way, as ``rows_to_envelopes`` does (one actor per page's
distinct actor), and prints the best round of each in CPU time. The figures are in ADR 0011. Not
a suite of ``python -m bench``: it decided one question.
"""

from __future__ import annotations

import functools
import time
import timeit
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.events import Actor, Envelope

ENVELOPES = 100_000
ROUNDS = 15
_new = tuple.__new__


def rows(count: int) -> list[tuple[Any, ...]]:
    """Rows as the store selects them: 18 columns, the actor split in two, a handful of actors."""
    now = datetime.now(UTC)
    return [
        (
            uuid.uuid4(),
            f"trainee-{n % 500}",
            n // 500 + 1,
            n + 1,
            "TraineeEnrolled",
            1,
            now,
            now,
            {"n": n},
            f"user-{n % 4}",
            "admin",
            "branch-1",
            None,
            None,
            None,
            "2024-01",
            "ab" * 32,
            "cd" * 32,
        )
        for n in range(count)
    ]


def with_tuple_new(page: Sequence[tuple[Any, ...]], service: str) -> list[Envelope]:
    actors: dict[tuple[Any, ...], Actor] = {}
    envelopes = []
    for t in page:
        key = t[9:11]
        actor = actors.get(key)
        if actor is None:
            actor = actors[key] = _new(Actor, key)
        envelopes.append(_new(Envelope, (*t[:9], actor, *t[11:16], service, t[16], t[17])))
    return envelopes


def with_constructor(page: Sequence[tuple[Any, ...]], service: str) -> list[Envelope]:
    actors: dict[tuple[Any, ...], Actor] = {}
    envelopes = []
    for t in page:
        key = t[9:11]
        actor = actors.get(key)
        if actor is None:
            actor = actors[key] = Actor(*key)
        fields = (*t[:9], actor, *t[11:16], service, t[16], t[17])
        envelopes.append(Envelope(*fields))
    return envelopes


def with_make(page: Sequence[tuple[Any, ...]], service: str) -> list[Envelope]:
    actors: dict[tuple[Any, ...], Actor] = {}
    envelopes = []
    for t in page:
        key = t[9:11]
        actor = actors.get(key)
        if actor is None:
            actor = actors[key] = Actor._make(key)
        envelopes.append(Envelope._make((*t[:9], actor, *t[11:16], service, t[16], t[17])))
    return envelopes


def best_seconds(
    builds: dict[str, Callable[[Sequence[tuple[Any, ...]], str], list[Envelope]]],
) -> dict[str, float]:
    """The best round of each way in CPU time, the ways interleaved round by round (a busy
    machine slows both alike rather than whichever ran during the burst)."""
    page = rows(ENVELOPES)
    best = dict.fromkeys(builds, float("inf"))
    for _ in range(ROUNDS):
        for name, build in builds.items():
            run = functools.partial(build, page, "enrollment")
            seconds = timeit.timeit(run, timer=time.process_time, number=1)
            best[name] = min(best[name], seconds)
    return best


def main() -> None:
    sample = rows(50)
    assert with_tuple_new(sample, "s") == with_constructor(sample, "s")  # the same envelopes
    assert with_make(sample, "s") == with_constructor(sample, "s")
    best = best_seconds(
        {"tuple.__new__": with_tuple_new, "_make": with_make, "constructor": with_constructor}
    )
    for name, seconds in best.items():
        print(
            f"{name:14} {seconds * 1000:7.1f} ms per {ENVELOPES:,} envelopes,"
            f" {seconds / ENVELOPES * 1e6:.2f} us each"
        )


if __name__ == "__main__":
    main()
