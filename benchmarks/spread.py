"""min / median / max over repeats, and ratios of medians: the figures docs/performance.md shows."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Spread:
    min: float
    median: float
    max: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        data = sorted(values)
        if not data:
            raise ValueError("a spread needs at least one value")
        return cls(data[0], statistics.median(data), data[-1], len(data))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scaled(self, factor: float) -> Spread:
        return Spread(self.min * factor, self.median * factor, self.max * factor, self.n)

    def text(self, unit: str = "", digits: int = 3) -> str:
        """'min / **median** / max unit' in Markdown."""

        def f(x: float) -> str:
            return f"{x:.{digits}g}" if abs(x) < 10**digits else f"{x:.0f}"

        suffix = f" {unit}" if unit else ""
        return f"{f(self.min)} / **{f(self.median)}** / {f(self.max)}{suffix}"


def ratio_of_medians(numerator: Spread, denominator: Spread) -> float:
    return numerator.median / denominator.median
