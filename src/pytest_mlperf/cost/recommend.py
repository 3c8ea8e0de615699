"""Choosing one tier: cheapest eligible by default, or fastest, or a weighted balance.

The strategies follow AWS Lambda Power Tuning (`lambda/analyzer.js`): `cost` takes the lowest
cost (ties to the faster), `speed` the lowest predicted p95 (ties to the cheaper), `balanced`
minimises w·cost/max cost + (1 - w)·p95/max p95 over the eligible tiers.
"""

from __future__ import annotations

from collections.abc import Sequence

from .assumptions import STRATEGIES
from .errors import CostConfigError
from .model import CostEstimate


def recommend(
    estimates: Sequence[CostEstimate], strategy: str = "cost", balanced_weight: float = 0.5
) -> CostEstimate | None:
    """The recommended estimate among the eligible ones, or None when none is eligible."""
    if strategy not in STRATEGIES:
        raise CostConfigError(
            f"strategy: expected one of {', '.join(STRATEGIES)}, got {strategy!r}"
        )
    if not 0 <= balanced_weight <= 1:
        raise CostConfigError(f"balanced_weight: expected 0..1, got {balanced_weight!r}")
    pool = [(i, e) for i, e in enumerate(estimates) if e.eligible and e.priced]
    if not pool:
        return None

    def p95(e: CostEstimate) -> float:
        return e.predicted_p95_ms if e.predicted_p95_ms is not None else float("inf")

    def cents(e: CostEstimate) -> float:
        return round(e.total_cost, 2)

    if strategy == "cost":
        return min(pool, key=lambda ie: (cents(ie[1]), p95(ie[1]), ie[0]))[1]
    if strategy == "speed":
        return min(pool, key=lambda ie: (round(p95(ie[1]), 6), cents(ie[1]), ie[0]))[1]
    max_cost = max(e.total_cost for _, e in pool) or 1.0
    max_p95 = max(p95(e) for _, e in pool) or 1.0
    w = balanced_weight

    def score(e: CostEstimate) -> float:
        return w * e.total_cost / max_cost + (1 - w) * p95(e) / max_p95

    return min(pool, key=lambda ie: (round(score(ie[1]), 9), cents(ie[1]), ie[0]))[1]
