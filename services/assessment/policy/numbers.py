"""How decimals appear in rule traces: as people write them, never in exponent form."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal) -> str:
    """96.0 -> "96", 79.98 -> "79.98", 100 -> "100" (not "1E+2")."""
    return format(value.normalize(), "f")


def percent(rate: Decimal) -> str:
    """A rate for reading (0.4 -> "40%", 1/3 -> "33.33%"); decisions never use this text."""
    return f"{plain((rate * 100).quantize(Decimal('0.01')))}%"
