"""The entry points the plugin and the CLI call: one cost entry per benchmark, budget checks.

`estimate_for_result` turns one entry of report.json's `results` into one plain, JSON-able
entry of its `costs` list; `check_budget` and `check_session_budget` judge those entries.
Estimating and judging stay apart, as in infracost: the report is written from the entries,
then the verdicts decide the exit status.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .assumptions import Assumptions, check_against_prices, dollars, validate_overrides
from .errors import CostConfigError
from .model import TIER_GROUPS, TIERS, CostEstimate
from .pricing import PriceTable, bundled_prices
from .recommend import recommend
from .sensitivity import sensitivity
from .tiers import estimate_tiers
from .workload import Workload

SCHEMA = "pytest-mlperf-cost/1"  # of the CLI's JSON output; report.json has its own
VERDICTS = ("pass", "warn", "fail")


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


# --- budgets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSpec:
    """What a `budget` marker asks: limits, the tier to judge, and assumption overrides."""

    max_monthly_usd: float | None = None
    warn_monthly_usd: float | None = None
    tier: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)


def parse_budget(kwargs: Mapping[str, Any], *, where: str = "budget marker") -> BudgetSpec:
    """Validate a budget marker's keyword arguments.

    `max_monthly_usd` and/or `warn_monthly_usd` (at least one), `tier` (a tier or group to
    judge instead of the recommended one), and any cost assumption as an override
    (e.g. `requests_per_month`, `peak_to_average`).
    """
    rest = dict(kwargs)
    limits: dict[str, float | None] = {}
    for key in ("max_monthly_usd", "warn_monthly_usd"):
        value = rest.pop(key, None)
        limits[key] = None if value is None else dollars(where, key, value)
    if limits["max_monthly_usd"] is None and limits["warn_monthly_usd"] is None:
        raise CostConfigError(f"{where}: give max_monthly_usd (or warn_monthly_usd)")
    high, low = limits["max_monthly_usd"], limits["warn_monthly_usd"]
    if high is not None and low is not None and low > high:
        raise CostConfigError(
            f"{where}: warn_monthly_usd ({low:g}) is above max_monthly_usd ({high:g})"
        )
    tier = rest.pop("tier", None)
    if tier is not None and (
        not isinstance(tier, str) or (tier not in TIERS and tier not in TIER_GROUPS)
    ):
        raise CostConfigError(
            f"{where}: tier: unknown tier {tier!r}; known tiers: {', '.join(TIERS)}; "
            f"groups: {', '.join(TIER_GROUPS)}"
        )
    return BudgetSpec(high, low, tier, validate_overrides(rest, where=where))


def _money(value: float) -> str:
    return f"${value:,.2f}"


def judged_tier(entry: Mapping[str, Any], tier: str | None) -> dict[str, Any] | None:
    """The tier row to judge: the named one, the best of a named group, or the recommended."""
    rows: list[dict[str, Any]] = list(entry.get("tiers", []))
    if tier is None:
        return next((r for r in rows if r["tier"] == entry.get("recommended")), None)
    names = TIER_GROUPS.get(tier, (tier,))
    if tier not in TIERS and tier not in TIER_GROUPS:
        raise CostConfigError(f"budget: tier: unknown tier {tier!r}")
    group = [r for r in rows if r["tier"] in names]
    if not group:
        raise CostConfigError(
            f"budget: tier {tier!r} was not estimated (tiers = {[r['tier'] for r in rows]})"
        )
    priced = [r for r in group if r["monthly_usd"] is not None]
    eligible = [r for r in priced if r["eligible"]]
    pool = eligible or priced
    if not pool:
        return group[0]
    return min(pool, key=lambda r: (round(r["monthly_usd"], 2), r["predicted_p95_ms"] or 0))


def _context(entry: Mapping[str, Any]) -> str:
    name = entry.get("name") or entry.get("model") or entry.get("nodeid") or "model"
    requests = entry.get("assumptions", {}).get("requests_per_month")
    return f"({name}, {requests:,.0f} requests/month)" if requests else f"({name})"


def check_budget(
    cost_entry: Mapping[str, Any],
    max_monthly_usd: float | None,
    tier: str | None = None,
    warn_monthly_usd: float | None = None,
) -> tuple[str, str]:
    """('pass' | 'warn' | 'fail', one line giving the cost, the limit and the tier).

    Judges the recommended tier, or `tier` (a tier, or a group such as ``kubernetes`` whose
    best row is taken). No eligible tier at all is a failure: nothing can serve the model.
    """
    if max_monthly_usd is None and warn_monthly_usd is None:
        raise CostConfigError("budget: give max_monthly_usd or warn_monthly_usd")
    row = judged_tier(cost_entry, tier)
    context = _context(cost_entry)
    if row is None:
        return "fail", f"no eligible tier, so no cost to check {context}: " + str(
            cost_entry.get("recommendation", "")
        )
    if row["monthly_usd"] is None:
        return "fail", f"{row['tier']} cannot serve this model: {row['reason']} {context}"
    cost = float(row["monthly_usd"])
    where = f"on {row['tier']}"
    if not row["eligible"]:
        where += f" (not eligible: {row['reason']})"
    if max_monthly_usd is not None and cost > max_monthly_usd:
        return "fail", (
            f"monthly cost {_money(cost)} {where} > budget {_money(max_monthly_usd)} {context}"
        )
    if warn_monthly_usd is not None and cost > warn_monthly_usd:
        return "warn", (
            f"monthly cost {_money(cost)} {where} > warning level {_money(warn_monthly_usd)}"
            + (f" (budget {_money(max_monthly_usd)})" if max_monthly_usd is not None else "")
            + f" {context}"
        )
    limit = max_monthly_usd if max_monthly_usd is not None else warn_monthly_usd
    assert limit is not None
    return "pass", f"monthly cost {_money(cost)} {where} <= budget {_money(limit)} {context}"


def total_monthly_usd(costs: Sequence[Mapping[str, Any]]) -> tuple[float, int]:
    """Sum of the recommended tiers' monthly cost, and how many entries had none."""
    values = [c.get("recommended_monthly_usd") for c in costs]
    return float(sum(v for v in values if v is not None)), sum(v is None for v in values)


def check_session_budget(
    costs: Sequence[Mapping[str, Any]],
    max_monthly_usd: float | None,
    warn_monthly_usd: float | None = None,
) -> tuple[str, str]:
    """The session budget: the total over all benchmarks' recommended tiers.

    Benchmarks with no eligible tier are left out of the total and make the verdict at
    least 'warn', because the total then understates the bill.
    """
    if max_monthly_usd is None and warn_monthly_usd is None:
        raise CostConfigError("session budget: give max_monthly_usd or warn_monthly_usd")
    total, missing = total_monthly_usd(costs)
    head = f"total monthly cost {_money(total)} over {len(costs)} benchmark(s)"
    tail = f" ({missing} without an eligible tier, not counted)" if missing else ""
    if max_monthly_usd is not None and total > max_monthly_usd:
        return "fail", f"{head} > session budget {_money(max_monthly_usd)}{tail}"
    if warn_monthly_usd is not None and total > warn_monthly_usd:
        return "warn", f"{head} > session warning level {_money(warn_monthly_usd)}{tail}"
    limit = max_monthly_usd if max_monthly_usd is not None else warn_monthly_usd
    assert limit is not None
    return ("warn" if missing else "pass"), f"{head} <= session budget {_money(limit)}{tail}"
