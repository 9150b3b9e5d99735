"""Commands of the enrollment service: imperative, carrying ``now`` and ids (never read a clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .vocabulary import Category, Education


@dataclass(frozen=True)
class EnrollTrainee:
    trainee_id: str
    name: str
    category: Category
    branch_id: str
    education: Education
    experience_years: Decimal
    certificates: tuple[str, ...]
    product_series: tuple[str, ...]
    enrolled_on: date
    today: date


@dataclass(frozen=True)
class ScorePlacement:
    trainee_id: str
    written: Decimal
    practical: Decimal | None
    today: date


@dataclass(frozen=True)
class WithdrawTrainee:
    trainee_id: str
    reason: str
    today: date


Command = EnrollTrainee | ScorePlacement | WithdrawTrainee
