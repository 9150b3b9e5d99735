"""What the compensation routes share: path parameters, roles, money on the wire, employees."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from fastapi import Depends, Path
from starlette.datastructures import State

from shared.auth import Role
from shared.batching import lookup
from shared.commands import CommandContext, command
from shared.decider import InvalidCommand
from shared.problems import validation_failed
from shared.requests import RequestBody

from .domain.money import CENT
from .domain.months import Month
from .domain.vocabulary import Category

EmployeeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
# A pay command: a payroll clerk, Idempotency-Key, If-Match and now, resolved as ONE dependency.
PayrollCommand = Annotated[CommandContext, Depends(command(Role.PAYROLL, if_match=True))]


Body = RequestBody  # unknown fields and NUL characters are refused with a 422


def month_path(month: Annotated[str, Path(description="the month, YYYY-MM")]) -> Month:
    """The ``{month}`` of a route, or 422 naming ``path.month``."""
    try:
        return Month.parse(month)
    except InvalidCommand as bad:
        error = {"field": "path.month", "message": bad.detail, "type": "month"}
        raise validation_failed(f"Invalid request: path.month: {bad.detail}", [error]) from None


MonthPath = Annotated[Month, Depends(month_path)]


def money(amount: Decimal) -> str:
    """Money on the wire: a string with two decimals (docs/http.md), rounded half-up."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class KnownEmployee:
    employee_id: str
    category: Category | None  # None: a category this service does not know
    branch_id: str


_FIND_SQL = (
    "SELECT employee_id, category, branch_id FROM known_employees"
    " WHERE employee_id = ANY($1::text[])"
)


async def find_employee(state: State, employee_id: str) -> KnownEmployee | None:
    """The employee as enrollment described it (consumers.py), None before its enrolment arrived.

    ``state`` is the app's (``request.app.state``): concurrent commands' lookups share one
    statement (:class:`shared.batching.Lookup`)."""
    row = await lookup(state, _FIND_SQL)(employee_id)
    if row is None:
        return None
    try:
        category: Category | None = Category(row["category"])
    except ValueError:
        category = None
    return KnownEmployee(employee_id, category, row["branch_id"])
