"""Money: yuan with two decimals, computed exactly and rounded once, half-up (section 7)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from shared.decider import InvalidCommand

CENT = Decimal("0.01")
MICROS = 10**6  # a rule trace shows exact amounts to six decimals


def round_money(exact: Fraction) -> Decimal:
    """``exact`` rounded once to 0.01, half away from zero (``ROUND_HALF_UP``): 354.545… -> 354.55.

    Amounts are summed as :class:`~fractions.Fraction` so that 2600 / 22 x 3 stays exact until here.
    The rounding is done on the fraction's integers, floor(|n| / d x 100 + 1/2) =
    (200 |n| + d) // 2d: a payroll rounds every line of every payslip, and each Fraction
    operation costs a gcd and a new object.
    """
    numerator, denominator = exact.numerator, exact.denominator
    cents = (200 * abs(numerator) + denominator) // (2 * denominator)
    return Decimal(cents if numerator >= 0 else -cents).scaleb(-2)


def show(exact: Fraction) -> str:
    """An exact amount for a rule trace: six decimals, with an ellipsis when it goes on."""
    numerator, denominator = abs(exact.numerator), exact.denominator
    micros = numerator * MICROS // denominator  # floor(|exact| x 10^6), on integers
    whole, fraction = divmod(micros, MICROS)
    text = f"{whole}.{fraction:06d}".rstrip("0").rstrip(".")  # 3200.500000 -> 3200.5
    sign = "-" if exact.numerator < 0 else ""
    return f"{sign}{text}" if micros * denominator == numerator * MICROS else f"{sign}{text}…"


def check_money(field: str, amount: Decimal, rule: str | None = None) -> Decimal:
    """A money input: finite, 0 or more, with at most two decimals."""
    if not amount.is_finite():
        raise InvalidCommand(field, f"{amount} is not a number", rule)
    if amount < 0:
        raise InvalidCommand(field, f"{amount} is negative", rule)
    if amount != amount.quantize(CENT):
        raise InvalidCommand(field, f"{amount} has more than two decimals", rule)
    return amount
