"""How long enrollment keeps the personal data of people it no longer works with (issue 19): per
category, the years after the day they left at which they are proposed for erasure
(``GET /people/erasure-proposals``). An administrator approves each proposal by erasing the
person (``POST /people/{id}/erasure``); nothing is erased by the policy alone."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from shared.policy import PolicyBook, PolicyVersion
from shared.policy_checks import Problems, distinct, every_present

MAX_YEARS = 30


class RetentionCategory(StrEnum):
    """Whom the policy covers, and the day their years count from."""

    WITHDRAWN_TRAINEE = "withdrawn_trainee"  # from the withdrawal's day (TraineeWithdrawn)
    FORMER_STAFF = "former_staff"  # from the day they left (StaffLeft)


class Retention(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: RetentionCategory
    years: int  # after the day the person left: then proposed for erasure


class RetentionPolicy(PolicyVersion):
    categories: tuple[Retention, ...]

    def problems(self) -> Problems:
        """Every category once, each kept 1 to 30 years."""
        found = distinct("categories", [c.category for c in self.categories])
        found += every_present(
            "categories", [c.category for c in self.categories], RetentionCategory
        )
        for i, kept in enumerate(self.categories):
            if not 1 <= kept.years <= MAX_YEARS:
                found.append(
                    (f"categories[{i}].years", f"{kept.years} is not within 1..{MAX_YEARS}")
                )
        return found

    def years(self, category: RetentionCategory) -> int:
        return next(c.years for c in self.categories if c.category == category)


def due_on(since: date, years: int) -> date:
    """``years`` after ``since``; 29 February counts to 28 February in a common year."""
    try:
        return since.replace(year=since.year + years)
    except ValueError:
        return since.replace(year=since.year + years, day=28)


# The versions this release ships (the seed of the ``retention`` stream).
RETENTION = PolicyBook.load(RetentionPolicy, Path(__file__).with_name("retention.json"))
