"""One way to print figures everywhere: about four significant digits, no exponents.

A figure the record does not have prints as `n/a` (`fmt`, where a bound was not reached) or, for
money, as `MISSING` (`usd`), in the terminal, report.md and report.html alike.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "-"  # a dollar amount the record does not have


def fmt(value: float | None, digits: int = 4) -> str:
    """132.4, 12.31, 1.941, 0.1023; thousands separated: 8,928; None as n/a."""
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    exponent = int(f"{size:e}".split("e")[1])
    return f"{value:.{min(max(0, digits - 1 - exponent), 6)}f}"


def level(confidence: float) -> str:
    """A confidence level as a percent with the digits it needs: 90%, 99%, 99.7%; 99.99%
    rather than a rounded-up 100%."""
    percent = 100.0 * confidence
    for digits in range(1, 6):
        text = f"{percent:.{digits}f}".rstrip("0").rstrip(".")
        if float(text) < 100.0 or percent >= 100.0:
            return f"{text}%"
    return f"{percent}%"


def p_value(value: float) -> str:
    """0.043, 0.0012; below 0.0001 "<0.0001" (what `:.2g` would print as 1.2e-05)."""
    return "<0.0001" if value < 1e-4 else f"{value:.2g}"


def finite(value: Any) -> float | None:
    """The value as a float when it is a finite real number (not a bool), else None.

    Records read back from JSON may hold anything; renderers print what is not a number as
    missing instead of failing on it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def usd(value: Any) -> str:
    """A monthly amount: `$1,234.50`; `MISSING` for None or anything that is not a number."""
    number = finite(value)
    return MISSING if number is None else f"${number:,.2f}"
