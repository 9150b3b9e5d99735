"""Months as ``YYYY-MM``: payroll, travel days, piece-rate and ratings belong to one (R-32)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache

from shared.decider import InvalidCommand

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str, field: str = "month") -> Month:
        """``YYYY-MM``; anything else is refused naming ``field`` (HTTP 422)."""
        found = _parsed(value) if isinstance(value, str) else None
        if found is None:
            raise InvalidCommand(field, f"{value!r} is not a month YYYY-MM")
        return found

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @cached_property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    def day(self, number: int) -> date:
        return date(self.year, self.month, number)

    def contains(self, day: date) -> bool:
        return (day.year, day.month) == (self.year, self.month)


@lru_cache(maxsize=1024)
def _parsed(value: str) -> Month | None:
    """A payroll parses the same few months for every employee: each text is parsed once (the
    months are immutable, so they can be shared)."""
    match = _MONTH.fullmatch(value)
    if match is None or int(match[1]) < 1:
        return None
    return Month(int(match[1]), int(match[2]))


def check_month(value: str, field: str = "month") -> str:
    """The month in its canonical ``YYYY-MM`` form, or :class:`InvalidCommand` naming ``field``."""
    return str(Month.parse(value, field))
