"""Block statistics: what stored-run comparison and side-by-side A/B test instead of single calls.

Calls of one process share the machine's drift and are autocorrelated, so both comparisons
summarise consecutive calls in blocks (a block's p50, p95 or mean) and test the blocks
(``docs/regressions.md``). The block length and the timer floor are the measuring core's
(:mod:`pytest_mlperf.stability`), the percentiles those of the markers (:mod:`pytest_mlperf.marks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import stats
from ..marks import PERCENTILES, UNITS
from ..stability import TIMER_FLOOR_MS
from ..stability import WINDOW as MIN_BLOCK

__all__ = [
    "MIN_BLOCK",
    "MIN_BLOCKS",
    "TARGET_BLOCKS",
    "TIMER_FLOOR_MS",
    "block_size_for",
    "block_summary",
    "block_values",
    "metric_value",
    "unit_of",
]

TARGET_BLOCKS = 10  # blocks per run aimed at when splitting the raw samples
MIN_BLOCKS = 3  # blocks per run at least for a test; fewer and the verdict says "unknown"
# MIN_BLOCK calls per block at least: the block p95 is then X(19) of 20, not the maximum


def unit_of(metric: str) -> str:
    """``ms`` for latency statistics and CPU time per call, ``rows/s`` for throughput, ``MB``
    for memory."""
    timed = metric in PERCENTILES or metric in ("mean", "cpu_time")
    return "ms" if timed else UNITS.get(metric, "")


def block_size_for(n_baseline: int, n_current: int) -> int:
    """One block size for both runs, so the per-block estimators have the same bias."""
    return max(MIN_BLOCK, min(n_baseline, n_current) // TARGET_BLOCKS)


def block_values(entry: Mapping[str, Any], metric: str, size: int) -> stats.FloatArray:
    """Per-block ``metric`` of a stored result's raw samples: p50/p95 in ms, or rows/s."""
    samples = np.asarray(entry.get("samples_ms", []), dtype=np.float64)
    if metric == "throughput":
        means = np.maximum(stats.block_view(samples, size).mean(axis=1), TIMER_FLOOR_MS)
        rows_per_s: stats.FloatArray = float(entry["batch_size"]) * 1000.0 / means
        return rows_per_s
    return np.maximum(stats.block_percentiles(samples, size, PERCENTILES[metric]), TIMER_FLOOR_MS)


def block_summary(samples_ms: stats.FloatArray) -> dict[str, float]:
    """p50, p95 and mean of one block of calls (ms), floored at the timer's resolution."""
    ordered = np.sort(samples_ms)
    values = {m: stats.percentile(ordered, PERCENTILES[m]) for m in ("p50", "p95")}
    values["mean"] = float(ordered.mean())
    return {m: max(v, TIMER_FLOOR_MS) for m, v in values.items()}


def metric_value(entry: Mapping[str, Any], metric: str) -> float | None:
    """The whole-run figure of a stored result: p50/p95 (ms), throughput (rows/s), CPU time per
    call (ms; None without it), memory (MB)."""
    if metric in ("p50", "p95"):
        return float(entry["latency_ms"][metric])
    if metric == "throughput":
        return float(entry["throughput_rps"])
    if metric == "cpu_time":
        cpu = (entry.get("stability") or {}).get("cpu_ms")
        return None if cpu is None else float(cpu)
    memory = entry.get("memory_mb")
    return None if memory is None else float(memory)
