"""The aggregate that the eventsourcing comparison saves (a module of its own so that importing the
store suite does not import the library; its topic must be importable for decoding)."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event


class Learner(Aggregate):
    """One stream: created by one event, then one event per recorded score."""

    @event("Registered")
    def __init__(self) -> None:
        self.scores = 0

    @event("ScoreRecorded")
    def record_score(self, data: dict[str, Any]) -> None:
        self.scores += 1
