"""R-6 placement: the placement exam's average fixes the starting position and the plan level."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from shared.policy import PolicyBook, PolicyVersion
from shared.policy_checks import Problems, descending, distinct, every_present, within

from ..domain.vocabulary import PlanLevel, Position


class Band(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_average: Decimal  # a lower bound, inclusive
    position: Position
    plan_level: PlanLevel


class PlacementPolicy(PolicyVersion):
    bands: tuple[Band, ...]  # highest band first

    def problems(self) -> Problems:
        """Bands highest first within 0..100, every plan level once, and the lowest starting
        at 0 (no average without a band)."""
        found = descending("bands", [b.min_average for b in self.bands], "min_average")
        for i, band in enumerate(self.bands):
            found += within(f"bands[{i}].min_average", band.min_average, Decimal(0), Decimal(100))
        found += distinct("bands", [b.plan_level for b in self.bands])
        found += every_present("bands", [b.plan_level for b in self.bands], PlanLevel)
        if self.bands and self.bands[-1].min_average != 0:
            lowest = self.bands[-1].min_average
            found.append(("bands", f"averages below {lowest} have no band: the lowest starts at 0"))
        return found


@dataclass(frozen=True)
class Placement:
    average: Decimal
    position: Position
    plan_level: PlanLevel
    policy_version: str
    rule_trace: tuple[str, ...]


# The versions this release ships (the seed of the ``placement`` stream): read-only; a running
# app resolves the version from its own book (app.state.policies, shared.policy_store).
PLACEMENT = PolicyBook.load(PlacementPolicy, Path(__file__).with_name("placement.json"))


def place(written: Decimal, practical: Decimal | None, policy: PlacementPolicy) -> Placement:
    """The average is the written score alone when no practical part was taken (R-6)."""
    if practical is None:
        average = written
        trace = [f"R-6: no practical part; average = written {written}"]
    else:
        average = (written + practical) / 2
        trace = [f"R-6: average = ({written} + {practical}) / 2 = {average}"]
    band = next(b for b in policy.bands if average >= b.min_average)
    trace.append(
        f"R-6: {average} >= {band.min_average} -> {band.position.value}, "
        f"{band.plan_level.value} plan ({policy.version})"
    )
    return Placement(average, band.position, band.plan_level, policy.version, tuple(trace))
