"""The traffic profile and deployment assumptions every estimate depends on, validated once.

Each key has a default that the report prints, because every figure depends on them. Users set
them in `[tool.pytest-mlperf.cost]`, on the command line, or per test through the `budget`
marker; `validate_overrides` is the one gate all three go through.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import CostConfigError
from .model import TIER_GROUPS, TIER_NAMES, expand_tiers
from .pricing import PriceTable

STRATEGIES = ("cost", "speed", "balanced")
ARCH_CHOICES = ("x86_64", "arm64", "any")
_ARCH_ALIASES = {"x86": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm": "arm64"}
# Other names for two keys, accepted as synonyms: `monthly_requests` is `CostEstimate`'s field
# (docs/reference.md#compatibility-names), `latency_slo_ms` the usual SLO spelling.
ALIASES = {"monthly_requests": "requests_per_month", "latency_slo_ms": "latency_limit_ms"}
CLOUD_RUN_UTILIZATION = 0.6  # Cloud Run's autoscaler aims at 60 % CPU and concurrency
DEFAULT_UTILIZATION = 0.7  # common practice elsewhere (not a documented default)
# Upper bounds keep the arithmetic finite (1e308 requests a month is infinite dollars).
HUGE = 1e15  # requests a month: a million times the busiest public APIs


@dataclass(frozen=True)
class Assumptions:
    """Traffic and deployment assumptions; see docs/cost-model.md for each key."""

    requests_per_month: float = 1_000_000
    peak_to_average: float = 3.0
    peak_hours: float = 8.0
    target_utilization: float | None = None  # None: 0.6 on Cloud Run, 0.7 elsewhere
    min_replicas: int | None = None  # None: 0 for pay-per-request tiers, 1 for the rest
    autoscaling: bool = True
    region: str = "us-east-1"
    gcp_region: str = "us-central1"
    arch: str = "x86_64"
    speed_factor: float = 1.0
    memory_headroom: float = 1.25
    base_memory_mb: float = 0.0
    apply_free_tier: bool = False
    strategy: str = "cost"
    balanced_weight: float = 0.5
    tiers: tuple[str, ...] = TIER_NAMES
    latency_limit_ms: float | None = None
    lambda_min_vcpu: float = 1.0
    lambda_memory_mb: int | None = None
    container_vcpu: float = 1.0
    ec2_instance_type: str | None = None
    eks_node_type: str | None = None
    gke_node_type: str | None = None
    cluster_share: float = 1.0
    account_concurrency: int = 1000
    gpu: bool = False
    gpu_memory_mb: float = 0.0
    response_bytes: float = 0.0
    model_artifact_gb: float = 0.0

    def replace(self, overrides: Mapping[str, Any], *, where: str = "overrides") -> Assumptions:
        """A copy with `overrides` validated and applied."""
        return dataclasses.replace(self, **validate_overrides(overrides, where=where))

    def utilization(self, tier: str) -> float:
        if self.target_utilization is not None:
            return self.target_utilization
        return CLOUD_RUN_UTILIZATION if tier.startswith("cloud_run") else DEFAULT_UTILIZATION

    def min_replicas_for(self, tier: str, *, pay_per_request: bool) -> int:
        if self.min_replicas is not None:
            return self.min_replicas
        return 0 if pay_per_request else 1

    def archs(self) -> tuple[str, ...]:
        return ("x86_64", "arm64") if self.arch == "any" else (self.arch,)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["tiers"] = list(self.tiers)
        return data


def _problem(where: str, key: str, text: str, value: Any) -> CostConfigError:
    return CostConfigError(f"{where}: {key}: {text}, got {value!r}")


def _is_number(value: Any) -> bool:
    # numbers.Real admits NumPy scalars; a huge int is no number the arithmetic can use
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _bounded_number(
    low: float, high: float = math.inf, *, low_open: bool = False, integer: bool = False
) -> Callable[[str, str, Any], Any]:
    def check(where: str, key: str, value: Any) -> Any:
        kind = "a whole number" if integer else "a number"
        rule = f"{kind} above {low:g}" if low_open else f"{kind} of at least {low:g}"
        if high != math.inf:
            rule += f" and at most {high:g}"
        if not _is_number(value) or not math.isfinite(float(value)):
            raise _problem(where, key, f"expected {rule}", value)
        if integer and float(value) != int(value):
            raise _problem(where, key, f"expected {rule}", value)
        if value < low or (low_open and value == low) or value > high:
            raise _problem(where, key, f"expected {rule}", value)
        return int(value) if integer else float(value)

    return check


# A monthly amount in dollars: a budget, a warning threshold (an upper bound keeps sums finite).
dollars = _bounded_number(0, HUGE, low_open=True)


def _optional(inner: Callable[[str, str, Any], Any]) -> Callable[[str, str, Any], Any]:
    def check(where: str, key: str, value: Any) -> Any:
        return None if value is None else inner(where, key, value)

    return check


def _boolean(where: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _problem(where, key, "expected true or false", value)
    return value


def _choice(choices: tuple[str, ...], aliases: Mapping[str, str] | None = None) -> Any:
    def check(where: str, key: str, value: Any) -> str:
        text = value.strip().lower() if isinstance(value, str) else value
        text = (aliases or {}).get(text, text)
        if text not in choices:
            raise _problem(where, key, f"expected one of {', '.join(choices)}", value)
        return str(text)

    return check


def _name(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(where, key, "expected a non-empty string", value)
    return value.strip()


def _tiers(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise _problem(where, key, "expected a non-empty list of tier names", value)
    for name in value:
        if not isinstance(name, str) or (name not in TIER_NAMES and name not in TIER_GROUPS):
            choices = [*TIER_NAMES, *TIER_GROUPS]
            hint = difflib.get_close_matches(str(name), choices, n=1)
            raise CostConfigError(
                f"{where}: {key}: unknown tier {name!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; known tiers: {', '.join(TIER_NAMES)}; groups: {', '.join(TIER_GROUPS)}"
            )
    return expand_tiers(value)


_CHECKS: dict[str, Callable[[str, str, Any], Any]] = {
    "requests_per_month": _bounded_number(0, HUGE, low_open=True),
    "peak_to_average": _bounded_number(1, 1e6),
    "peak_hours": _bounded_number(0, 24, low_open=True),
    "target_utilization": _optional(_bounded_number(0, 1, low_open=True)),
    "min_replicas": _optional(_bounded_number(0, 1e6, integer=True)),
    "autoscaling": _boolean,
    "region": _name,
    "gcp_region": _name,
    "arch": _choice(ARCH_CHOICES, _ARCH_ALIASES),
    "speed_factor": _bounded_number(0, 1e6, low_open=True),
    "memory_headroom": _bounded_number(1, 1e3),
    "base_memory_mb": _bounded_number(0, 1e9),
    "apply_free_tier": _boolean,
    "strategy": _choice(STRATEGIES),
    "balanced_weight": _bounded_number(0, 1),
    "tiers": _tiers,
    "latency_limit_ms": _optional(_bounded_number(0, 1e9, low_open=True)),
    "lambda_min_vcpu": _bounded_number(0, 6),
    "lambda_memory_mb": _optional(_bounded_number(128, 10240, integer=True)),
    "container_vcpu": _bounded_number(0, 16, low_open=True),
    "ec2_instance_type": _optional(_name),
    "eks_node_type": _optional(_name),
    "gke_node_type": _optional(_name),
    "cluster_share": _bounded_number(0, 1, low_open=True),
    "account_concurrency": _bounded_number(1, 1e9, integer=True),
    "gpu": _boolean,
    "gpu_memory_mb": _bounded_number(0, 1e9),
    "response_bytes": _bounded_number(0, 1e12),
    "model_artifact_gb": _bounded_number(0, 1e6),
}
KEYS: tuple[str, ...] = tuple(_CHECKS)


def validate_overrides(overrides: Mapping[str, Any], *, where: str = "overrides") -> dict[str, Any]:
    """Check a flat mapping of assumption overrides; return it normalised.

    Synonyms (`monthly_requests`, `latency_slo_ms`) are mapped to their keys, tier groups are
    expanded, numbers become floats. Raises `CostConfigError` naming `where` and the key.
    """
    if not isinstance(overrides, Mapping):
        raise CostConfigError(f"{where}: expected a table of cost assumptions, got {overrides!r}")
    out: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        key = ALIASES.get(raw_key, raw_key)
        if key not in _CHECKS:
            hint = difflib.get_close_matches(str(raw_key), [*KEYS, *ALIASES], n=1)
            raise CostConfigError(
                f"{where}: unknown key {raw_key!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
        if key in out:
            raise CostConfigError(f"{where}: {raw_key}: given twice (also as {key!r})")
        out[key] = _CHECKS[key](where, raw_key, value)
    return out


def check_against_prices(assumptions: Assumptions, prices: PriceTable, *, where: str) -> None:
    """Regions and named instance types must exist in the price table being used."""
    if assumptions.region != prices.aws_region:
        raise CostConfigError(
            f"{where}: region: no prices for {assumptions.region!r}; the price table covers "
            f"{prices.aws_region!r} (set aws_region and that region's prices under "
            "[tool.pytest-mlperf.pricing])"
        )
    if assumptions.gcp_region != prices.gcp_region:
        raise CostConfigError(
            f"{where}: gcp_region: no prices for {assumptions.gcp_region!r}; the price table "
            f"covers {prices.gcp_region!r} (set gcp_region and that region's prices under "
            "[tool.pytest-mlperf.pricing])"
        )
    for key, table in (
        ("ec2_instance_type", prices.aws_ec2),
        ("eks_node_type", prices.aws_ec2),
        ("gke_node_type", prices.gce),
    ):
        value = getattr(assumptions, key)
        if value is not None and value not in table:
            raise CostConfigError(
                f"{where}: {key}: no price for instance type {value!r}; priced: "
                f"{', '.join(sorted(table))}"
            )
