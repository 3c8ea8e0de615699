"""Cost estimates for measured results, and the checks that budgets make of them.

The plugin prices every result with the run's cost configuration (plus a test's `budget`
marker overrides) and turns a budget into a `Check`, so a broken budget fails its test the
same way a broken latency limit does. Pure: no pytest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .cost import BudgetSpec, CostConfig, CostConfigError, check_budget, estimate_for_result
from .cost.estimate import judged_tier
from .results import Check, Verdict


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
