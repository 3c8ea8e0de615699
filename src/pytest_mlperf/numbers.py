"""One way to print figures everywhere: about four significant digits, no exponents."""

from __future__ import annotations


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


def p_value(value: float) -> str:
    """0.043, 0.0012; below 0.0001 "<0.0001" (what `:.2g` would print as 1.2e-05)."""
    return "<0.0001" if value < 1e-4 else f"{value:.2g}"
