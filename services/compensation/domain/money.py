"""Money: yuan with two decimals, computed exactly and rounded once, half-up (section 7)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from shared.decider import InvalidCommand

CENT = Decimal("0.01")
HALF = Fraction(1, 2)


def round_money(exact: Fraction) -> Decimal:
    """``exact`` rounded once to 0.01, half away from zero (``ROUND_HALF_UP``): 354.545… -> 354.55.

    Amounts are summed as :class:`~fractions.Fraction` so that 2600 / 22 x 3 stays exact until here.
    """
    cents = abs(exact) * 100
    rounded = math.floor(cents + HALF)
    return Decimal(rounded if exact >= 0 else -rounded).scaleb(-2)


def show(exact: Fraction) -> str:
    """An exact amount for a rule trace: six decimals, with an ellipsis when it goes on."""
    shown = Decimal(math.floor(abs(exact) * 10**6)).scaleb(-6)
    text = f"{'-' if exact < 0 else ''}{shown.normalize():f}"
    return text if shown == abs(exact) else text + "…"


def check_money(field: str, amount: Decimal, rule: str | None = None) -> Decimal:
    """A money input: finite, 0 or more, with at most two decimals."""
    if not amount.is_finite():
        raise InvalidCommand(field, f"{amount} is not a number", rule)
    if amount < 0:
        raise InvalidCommand(field, f"{amount} is negative", rule)
    if amount != amount.quantize(CENT):
        raise InvalidCommand(field, f"{amount} has more than two decimals", rule)
    return amount
