"""The markers' interface: each marker is a plain function whose signature *is* the marker.

`pytest --markers` shows these signatures and docstrings, and `parse_marker` validates a
marker's arguments against them when the test is collected, so a typo becomes a clear error
for that test instead of a crash of the whole session.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .validate import unknown_names

PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
UNITS = {"throughput": "rows/s", "memory": "MB"}


class MarkerError(ValueError):
    """A marker was given arguments it cannot use."""


@dataclass(frozen=True)
class Limit:
    """One budget: a percentile or the mean in ms, a minimum rows/s, or a maximum MB."""

    metric: str  # "p50" | "p90" | "p95" | "p99" | "mean" | "throughput" | "memory"
    value: float

    @property
    def quantile(self) -> float | None:
        return PERCENTILES.get(self.metric)

    @property
    def unit(self) -> str:
        return UNITS.get(self.metric, "ms")

    @property
    def is_latency(self) -> bool:
        return self.metric in PERCENTILES or self.metric == "mean"

    def describe(self) -> str:
        op = ">=" if self.metric == "throughput" else "<="
        return f"{self.metric} {op} {self.value:g} {self.unit}"


def latency(
    *,
    p50_ms: float | None = None,
    p90_ms: float | None = None,
    p95_ms: float | None = None,
    p99_ms: float | None = None,
    mean_ms: float | None = None,
) -> list[Limit]:
    """Latency limits per call, in milliseconds; percentiles are judged statistically."""
    given = {"p50": p50_ms, "p90": p90_ms, "p95": p95_ms, "p99": p99_ms, "mean": mean_ms}
    return [Limit(metric, value) for metric, value in given.items() if value is not None]


def throughput(*, min_rps: float) -> list[Limit]:
    """Minimum throughput in rows per second (batch_size rows per call)."""
    return [Limit("throughput", min_rps)]


def memory(*, max_mb: float) -> list[Limit]:
    """Maximum peak extra memory of one call, in MB (native allocations included)."""
    return [Limit("memory", max_mb)]


MARKERS: dict[str, Callable[..., list[Limit]]] = {
    "latency": latency,
    "throughput": throughput,
    "memory": memory,
}


def budget(
    *,
    max_monthly_usd: float | None = None,
    warn_monthly_usd: float | None = None,
    tier: str | None = None,
    **assumptions: Any,
) -> None:
    """Monthly cost limit (USD) on the recommended or named tier; other keywords override cost
    assumptions such as requests_per_month. Validated by `pytest_mlperf.cost.parse_budget`."""


def regression(*, max_pct: float) -> None:
    """Slow-down (percent) this test's results tolerate against the stored baseline or in
    model_bench.ab before a significant change counts as a regression."""


BUDGET_MARKER = "budget"
REGRESSION_MARKER = "regression"


def marker_help(name: str) -> str:
    """The line `pytest --markers` prints for one marker, built from its signature."""
    func = {BUDGET_MARKER: budget, REGRESSION_MARKER: regression}.get(name) or MARKERS[name]
    params = ", ".join(
        f"{p.name}=..." if p.kind is p.KEYWORD_ONLY else f"**{p.name}"
        for p in inspect.signature(func).parameters.values()
    )
    doc = (func.__doc__ or "").strip().splitlines()[0]
    return f"{name}({params}): pytest-mlperf: {doc}"


def _positive_number(where: str, key: str, value: Any) -> float:
    # numbers.Real admits NumPy scalars (np.int64 is not an int); bool is not a limit
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise MarkerError(f"{where}: {key} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or number <= 0:
        raise MarkerError(f"{where}: {key} must be a positive finite number, got {value!r}")
    return number


def parse_marker(name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Limit]:
    """Validate one marker's arguments; raise `MarkerError` naming what is wrong."""
    func = MARKERS[name]
    accepted = list(inspect.signature(func).parameters)
    where = f"@pytest.mark.{name}"
    if args:
        raise MarkerError(
            f"{where} takes keyword arguments only ({', '.join(accepted)}), got positional {args!r}"
        )
    problem = unknown_names(kwargs, accepted, "argument")
    if problem:
        raise MarkerError(f"{where}: {problem}")
    for key, value in kwargs.items():
        if value is not None:
            _positive_number(where, key, value)
    if all(kwargs.get(key) is None for key in accepted):
        raise MarkerError(f"{where} needs at least one limit: {', '.join(accepted)}")
    limits: list[Limit] = func(**{k: float(v) for k, v in kwargs.items() if v is not None})
    _check_percentile_order(where, limits)
    return limits


def _check_percentile_order(where: str, limits: list[Limit]) -> None:
    """A lower percentile's limit above a higher one's can never decide anything: p50 <= p95
    always, so `p50_ms=100, p95_ms=0.1` is a typo in one of them."""
    given = [lim for lim in limits if lim.quantile is not None]  # p50, p90, p95, p99 order
    for low, high in itertools.pairwise(given):
        if low.value > high.value:
            raise MarkerError(
                f"{where}: {low.metric}_ms={low.value:g} is above {high.metric}_ms="
                f"{high.value:g}, but the {low.metric} is never above the {high.metric}"
            )


def parse_regression(args: Sequence[Any], kwargs: Mapping[str, Any]) -> float:
    """The regression marker's tolerance in percent, validated like a limit."""
    where = f"@pytest.mark.{REGRESSION_MARKER}"
    if args:
        raise MarkerError(f"{where} takes keyword arguments only (max_pct), got {args!r}")
    unknown = sorted(set(kwargs) - {"max_pct"})
    if unknown:
        raise MarkerError(f"{where}: unknown argument {', '.join(unknown)}; accepted: max_pct")
    value = kwargs.get("max_pct")
    if value is None:
        raise MarkerError(f"{where} needs max_pct, e.g. @pytest.mark.regression(max_pct=5)")
    return _positive_number(where, "max_pct", value)
