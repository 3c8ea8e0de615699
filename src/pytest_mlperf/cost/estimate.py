"""The entry points the plugin and the CLI call: one cost entry per benchmark.

`estimate_for_result` turns one entry of report.json's `results` into one plain, JSON-able
entry of its `costs` list; the budgets (`cost/budget.py`) judge those entries. Estimating and
judging stay apart, as in infracost: the report is written from the entries, then the verdicts
decide the exit status.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .assumptions import Assumptions, check_against_prices
from .errors import CostConfigError
from .model import CostEstimate
from .pricing import PriceTable, bundled_prices
from .recommend import recommend
from .sensitivity import sensitivity
from .tiers import estimate_tiers
from .workload import Workload

SCHEMA = "pytest-mlperf-cost/1"  # of the CLI's JSON output; report.json has its own


def estimate_workload(
    workload: Workload,
    assumptions: Assumptions | None = None,
    prices: PriceTable | None = None,
    latency_limit_ms: float | None = None,
    today: dt.date | None = None,
    *,
    with_sensitivity: bool = True,
) -> dict[str, Any]:
    """The cost entry for a measured workload (what `estimate_for_result` returns)."""
    assumptions = assumptions or Assumptions()
    prices = prices or bundled_prices()
    check_against_prices(assumptions, prices, where="cost assumptions")
    if latency_limit_ms is not None and (
        not isinstance(latency_limit_ms, int | float)
        or not math.isfinite(latency_limit_ms)
        or latency_limit_ms <= 0
    ):
        raise CostConfigError(
            f"latency_limit_ms: expected a number above 0, got {latency_limit_ms!r}"
        )
    limit = latency_limit_ms if latency_limit_ms is not None else assumptions.latency_limit_ms
    estimates = estimate_tiers(workload, assumptions, prices, limit)
    best = recommend(estimates, assumptions.strategy, assumptions.balanced_weight)
    return {
        "name": workload.name,
        "batch_size": workload.batch_size,
        "request": f"one call on {workload.batch_size} row(s), as measured"
        + sizing_basis(workload),
        "inputs": {
            "mean_ms": workload.mean_ms,
            "p95_ms": workload.p95_ms,
            "memory_mb": workload.memory_mb,
            "throughput_rps": workload.throughput_rps,
            "calls_per_second": workload.calls_per_second,
            "capacity_rps": workload.capacity_rps,
            "capacity_workers": workload.capacity_workers,
            "measured_calls_per_second": workload.measured_calls_per_second,
            "sized_from": workload.sized_from,
        },
        "latency_limit_ms": limit,
        "tiers": [e.to_dict() for e in estimates],
        "recommended": best.name if best else None,
        "recommended_monthly_usd": round(best.total_cost, 6) if best else None,
        "recommendation": _why(best, estimates, assumptions),
        "strategy": assumptions.strategy,
        "balanced_weight": assumptions.balanced_weight,
        "assumptions": assumptions.to_dict(),
        "currency": prices.currency,
        "prices_as_of": prices.as_of.isoformat(),
        "prices_origin": prices.origin,
        "stale_warning": prices.stale_warning(today),
        "sensitivity": sensitivity(workload, assumptions, prices, limit)
        if with_sensitivity
        else None,
        "notes": _notes(workload, assumptions),
    }


def estimate_for_result(
    record: Mapping[str, Any],
    assumptions: Assumptions | None = None,
    prices: PriceTable | None = None,
    latency_limit_ms: float | None = None,
    today: dt.date | None = None,
    *,
    with_sensitivity: bool = True,
) -> dict[str, Any]:
    """One entry of report.json's `costs` list for one entry of its `results` list.

    `record` needs latency_ms.mean and .p95 (ms), and may give throughput_rps (rows/s),
    memory_mb, batch_size, nodeid, name, model and method. `latency_limit_ms` is the test's
    p95 limit, if any: a tier whose predicted p95 breaks it is not eligible. `today` is for
    the staleness check (default: the current date).
    """
    entry = estimate_workload(
        Workload.from_record(record),
        assumptions,
        prices,
        latency_limit_ms,
        today,
        with_sensitivity=with_sensitivity,
    )
    method = record.get("method") or "predict"
    entry["request"] = (
        f"one {method} call on {entry['batch_size']} row(s), as measured"
        + sizing_basis(Workload.from_record(record))
    )
    return {
        "nodeid": str(record.get("nodeid", "")),
        "model": str(record.get("model", "")),
        **entry,
    }


def sizing_basis(workload: Workload) -> str:
    """With a measured capacity, the sentence that says it priced the replica-based tiers,
    beside the Little's-law figure it replaced; nothing otherwise."""
    measured = workload.measured_calls_per_second
    if measured is None:
        return ""
    return (
        f"; replicas sized from the measured capacity, {measured:,.4g} requests/s per worker "
        f"({workload.capacity_rps:,.4g} with {workload.capacity_workers}), not "
        f"{workload.calls_per_second:,.4g} from single-call latency (Little's law)"
    )


def _why(best: CostEstimate | None, estimates: Sequence[CostEstimate], a: Assumptions) -> str:
    if best is None:
        reasons = "; ".join(f"{e.name}: {e.reason}" for e in estimates) or "no tier considered"
        return f"no eligible tier ({reasons})"
    if a.strategy == "cost":
        return "cheapest eligible tier (ties go to the lower predicted p95)"
    if a.strategy == "speed":
        return "lowest predicted p95 among eligible tiers (ties go to the cheaper)"
    return (
        f"balanced: lowest {a.balanced_weight:g}·cost/max cost + "
        f"{1 - a.balanced_weight:g}·p95/max p95 among eligible tiers"
    )


def _notes(workload: Workload, a: Assumptions) -> list[str]:
    notes = [
        "Model, not measurement: list prices, no discounts, savings plans or taxes.",
        "Latency on the target = CI latency x speed_factor; fractional vCPUs (Lambda below "
        "1,769 MB, small tasks) slow single-threaded calls in proportion.",
        "Cold starts are not included in predicted latency or cost.",
    ]
    if workload.memory_mb is None:
        notes.append("Memory was not measured: sizes come from base_memory_mb alone.")
    if not a.base_memory_mb and workload.rss_mb:
        notes.append(
            "Each replica holds the resident memory of the process that measured it (rss_mb, "
            "model loaded) plus its calls' peaks; set base_memory_mb to override."
        )
    if not a.apply_free_tier:
        notes.append("Free tiers are not applied (apply_free_tier = false).")
    if a.response_bytes <= 0:
        notes.append("Data transfer out is not included (response_bytes = 0).")
    return notes
