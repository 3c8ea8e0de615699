"""Budgets: what a `budget` marker asks, the per-test check, and the session check.

A test's `budget` marker (parsed here into a `BudgetSpec`) limits the monthly cost of its
results; `--mlperf-budget-usd` limits the total over the run (and over merged shards). Each
budget judges the cost entries that `estimate.py` made, so a broken budget fails its test or
the run the same way a broken latency limit does (docs/cost-model.md, "Budgets"). Pure: no
pytest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..results import Check, Verdict
from .assumptions import dollars, validate_overrides
from .cost_config import CostConfig
from .errors import CostConfigError
from .estimate import estimate_for_result
from .model import TIER_GROUPS, TIERS


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


@dataclass(frozen=True)
class TestBudget:
    """A test's cost configuration, and what its budget marker asks (if it has one)."""

    config: CostConfig
    spec: BudgetSpec | None = None


def price_result(
    record: dict[str, Any], budget: TestBudget, latency_limit_ms: float | None
) -> tuple[dict[str, Any], Check | None, str | None]:
    """(cost entry, budget check or None, warning or None) for one result record."""
    entry = estimate_for_result(
        record, budget.config.assumptions, budget.config.prices, latency_limit_ms=latency_limit_ms
    )
    spec = budget.spec
    if spec is None:
        return entry, None, None
    limit = spec.max_monthly_usd if spec.max_monthly_usd is not None else spec.warn_monthly_usd
    assert limit is not None  # parse_budget requires one of them
    try:
        verdict, message = check_budget(
            entry, spec.max_monthly_usd, spec.tier, spec.warn_monthly_usd
        )
        row = judged_tier(entry, spec.tier)
    except CostConfigError as exc:
        verdict, message, row = "fail", str(exc), None
    value = None if row is None else row.get("monthly_usd")
    failed = verdict == "fail"
    check = Check("monthly_cost", limit, value, Verdict.of(not failed), message)
    return entry, check, message if verdict == "warn" else None


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


def session_budget(
    costs: Sequence[Mapping[str, Any]],
    max_monthly_usd: float | None,
    warn_monthly_usd: float | None = None,
) -> dict[str, Any] | None:
    """report.json's `budget` section: the session limits and their verdict over `costs`
    (every benchmark of the run, or of all merged shards); None without a session budget."""
    if max_monthly_usd is None and warn_monthly_usd is None:
        return None
    verdict, message = check_session_budget(costs, max_monthly_usd, warn_monthly_usd)
    return {
        "max_monthly_usd": max_monthly_usd,
        "warn_monthly_usd": warn_monthly_usd,
        "verdict": verdict,
        "message": message,
    }


def merged_budget(
    budgets: Sequence[Mapping[str, Any] | None], costs: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The session budget over every shard's benchmarks together (the first budgeted shard's
    limits: the shards of one run share their settings)."""
    given = [b for b in budgets if b]
    if not given:
        return None
    return session_budget(costs, given[0].get("max_monthly_usd"), given[0].get("warn_monthly_usd"))
