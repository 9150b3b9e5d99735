"""Events of the enrollment service (published as ``enrollment.<EventType>``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.events import Event, EventRegistry

from .vocabulary import Category, Education, PlanLevel, Position

registry = EventRegistry()


@registry.register
class TraineeEnrolled(Event):
    """R-3: the enrollment record."""

    event_type = "TraineeEnrolled"
    trainee_id: str
    name: str
    category: Category
    branch_id: str
    education: Education
    experience_years: Decimal
    certificates: list[str]
    product_series: list[str]  # mastered at enrollment
    enrolled_on: date


@registry.register
class PlacementExamScored(Event):
    """R-6: the placement exam fixes the starting position and the plan level."""

    event_type = "PlacementExamScored"
    trainee_id: str
    written: Decimal
    practical: Decimal | None
    average: Decimal
    position: Position
    plan_level: PlanLevel
    policy_version: str
    rule_trace: list[str]
    scored_on: date


@registry.register
class TraineeWithdrawn(Event):
    event_type = "TraineeWithdrawn"
    trainee_id: str
    reason: str
    withdrawn_on: date
