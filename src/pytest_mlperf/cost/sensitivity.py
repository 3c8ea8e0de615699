"""How the answer moves with traffic: peak x0.5 and x2, traffic x10, and the traffic level at
which pay-per-request ("serverless") tiers stop being cheaper than provisioned ones."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from ..numbers import fmt
from .assumptions import Assumptions
from .model import TIERS, CostEstimate
from .pricing import PriceTable
from .recommend import recommend
from .tiers import estimate_tiers
from .workload import Workload

SEARCH_DECADES = 3  # the crossover is searched from 1/1,000 to 1,000 x the assumed traffic
_STEPS_PER_DECADE = 8
_BISECTIONS = 30


def _cheapest(estimates: Sequence[CostEstimate], pay_per_request: bool) -> CostEstimate | None:
    pool = [
        e
        for e in estimates
        if e.eligible and e.priced and TIERS[e.name].pay_per_request == pay_per_request
    ]
    return min(pool, key=lambda e: e.total_cost) if pool else None


def _side(estimate: CostEstimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {"tier": estimate.name, "monthly_usd": round(estimate.total_cost, 6)}


def sensitivity(
    workload: Workload,
    assumptions: Assumptions,
    prices: PriceTable,
    latency_limit_ms: float | None = None,
) -> dict[str, Any]:
    """Scenarios (recommended tier and cost, cheapest serverless and provisioned tier), the
    crossover traffic, and one sentence saying where serverless stops being cheaper."""

    def run(a: Assumptions) -> list[CostEstimate]:
        return estimate_tiers(workload, a, prices, latency_limit_ms)

    par, n = assumptions.peak_to_average, assumptions.requests_per_month
    cases = [
        ("assumed", assumptions),
        ("peak x0.5", dataclasses.replace(assumptions, peak_to_average=max(1.0, par * 0.5))),
        ("peak x2", dataclasses.replace(assumptions, peak_to_average=par * 2)),
        ("traffic x10", dataclasses.replace(assumptions, requests_per_month=n * 10)),
    ]
    scenarios = []
    for label, a in cases:
        estimates = run(a)
        best = recommend(estimates, a.strategy, a.balanced_weight)
        scenarios.append(
            {
                "label": label,
                "requests_per_month": a.requests_per_month,
                "peak_to_average": a.peak_to_average,
                "recommended": best.name if best else None,
                "recommended_usd": round(best.total_cost, 6) if best else None,
                "serverless": _side(_cheapest(estimates, True)),
                "provisioned": _side(_cheapest(estimates, False)),
            }
        )

    def gap(multiplier: float) -> float:
        """Cheapest serverless minus cheapest provisioned at `multiplier` x the traffic."""
        estimates = run(dataclasses.replace(assumptions, requests_per_month=n * multiplier))
        s, p = _cheapest(estimates, True), _cheapest(estimates, False)
        if s is None:
            return math.inf
        if p is None:
            return -math.inf
        return s.total_cost - p.total_cost

    base = scenarios[0]
    crossover = _crossover(gap) if base["serverless"] and base["provisioned"] else None
    return {
        "scenarios": scenarios,
        "crossover_requests_per_month": None if crossover is None else n * crossover,
        "summary": _sentence(base, crossover, n),
    }


def _crossover(gap: Callable[[float], float]) -> float | None:
    """The traffic multiplier nearest 1 where the sign of `gap` changes (log-space search)."""
    cheaper_now = gap(1.0) < 0
    direction = 1 if cheaper_now else -1
    previous = 1.0
    for step in range(1, SEARCH_DECADES * _STEPS_PER_DECADE + 1):
        current = 10 ** (direction * step / _STEPS_PER_DECADE)
        if (gap(current) < 0) != cheaper_now:
            lo, hi = math.log10(previous), math.log10(current)
            for _ in range(_BISECTIONS):
                mid = (lo + hi) / 2
                if (gap(10**mid) < 0) == cheaper_now:
                    lo = mid
                else:
                    hi = mid
            return float(10 ** ((lo + hi) / 2))
        previous = current
    return None


def _round3(value: float) -> float:
    if value <= 0:
        return value
    digits = 2 - math.floor(math.log10(value))
    return round(value, digits)


def _sentence(base: dict[str, Any], crossover: float | None, requests: float) -> str:
    s, p = base["serverless"], base["provisioned"]
    if s is None and p is None:
        return "No tier is eligible, so there is nothing to compare."
    if s is None:
        return "No pay-per-request (serverless) tier is eligible or considered here."
    if p is None:
        return "No provisioned tier is eligible or considered here; only serverless can serve it."
    s_text = f"{s['tier']}, ${s['monthly_usd']:,.2f}/month"
    p_text = f"{p['tier']}, ${p['monthly_usd']:,.2f}/month"
    span = 10**SEARCH_DECADES
    if s["monthly_usd"] < p["monthly_usd"]:
        if crossover is None:
            return (
                f"Serverless ({s_text}) is cheaper than the cheapest provisioned tier ({p_text}) "
                f"at every traffic level up to {span:,}x the assumed {requests:,.0f} "
                "requests/month."
            )
        return (
            f"Serverless ({s_text}) is cheaper than the cheapest provisioned tier ({p_text}) up "
            f"to about {_round3(requests * crossover):,.0f} requests/month "
            f"({fmt(_round3(crossover))}x the assumed traffic); above that, provisioned is cheaper."
        )
    if crossover is None:
        return (
            f"Provisioned ({p_text}) is cheaper than serverless ({s_text}) at every traffic "
            f"level down to 1/{span:,} of the assumed {requests:,.0f} requests/month."
        )
    return (
        f"Provisioned ({p_text}) is cheaper than serverless ({s_text}) here; serverless "
        f"becomes cheaper below about {_round3(requests * crossover):,.0f} requests/month "
        f"({fmt(_round3(crossover))}x the assumed traffic)."
    )
