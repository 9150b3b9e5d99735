"""R-6 placement: the placement exam's average fixes the starting position and the plan level."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from shared.policy import PolicyBook, PolicyVersion

from ..domain.vocabulary import PlanLevel, Position


class Band(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_average: Decimal  # a lower bound, inclusive
    position: Position
    plan_level: PlanLevel


class PlacementPolicy(PolicyVersion):
    bands: tuple[Band, ...]  # highest band first


@dataclass(frozen=True)
class Placement:
    average: Decimal
    position: Position
    plan_level: PlanLevel
    policy_version: str
    rule_trace: tuple[str, ...]


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
