"""Monthly cost per infrastructure tier from measured latency, throughput and memory.

Pure (no pytest): the plugin calls `estimate_for_result` for each benchmark and the budget
checks (`budget.py`) on the entries; the CLI calls the same functions. Formulas and assumptions:
docs/cost-model.md.
"""

from __future__ import annotations

from .assumptions import KEYS as ASSUMPTION_KEYS
from .assumptions import Assumptions, validate_overrides
from .budget import (
    BudgetSpec,
    check_budget,
    check_session_budget,
    parse_budget,
    total_monthly_usd,
)
from .cost_config import CostConfig, config_from_mapping, load_cost_config
from .errors import CostConfigError
from .estimate import estimate_for_result, estimate_workload
from .model import (
    TIER_GROUPS,
    TIER_NAMES,
    CostEstimate,
    InfrastructureTier,
    LineItem,
    Sizing,
)
from .optimizer import CostOptimizer
from .pricing import STALE_AFTER_DAYS, PriceTable, bundled_prices, load_prices
from .recommend import recommend
from .tiers import estimate_tiers
from .workload import Workload

__all__ = [
    "ASSUMPTION_KEYS",
    "STALE_AFTER_DAYS",
    "TIER_GROUPS",
    "TIER_NAMES",
    "Assumptions",
    "BudgetSpec",
    "CostConfig",
    "CostConfigError",
    "CostEstimate",
    "CostOptimizer",
    "InfrastructureTier",
    "LineItem",
    "PriceTable",
    "Sizing",
    "Workload",
    "bundled_prices",
    "check_budget",
    "check_session_budget",
    "config_from_mapping",
    "estimate_for_result",
    "estimate_tiers",
    "estimate_workload",
    "load_cost_config",
    "load_prices",
    "parse_budget",
    "recommend",
    "total_monthly_usd",
    "validate_overrides",
]
