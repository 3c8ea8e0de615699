"""Helpers that run inside the generated pytest tests: the reference loop and the output.

The reference loop is the yardstick: two `perf_counter_ns` reads around each call and nothing
else in the timed region, with the garbage collector off as pytest-mlperf's timed loop has it.
It runs inside a pytest test, so the process's warning filters are the ones a plugin sees
(scikit-learn forests re-apply every active filter around each tree, measured-here.md).
"""

from __future__ import annotations

import gc
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

OUT_ENV = "MLPERF_BENCH_OUT"  # JSON-lines file the tests append their records to


def reference_loop(
    fn: Callable[[Any], Any], batches: Sequence[Any], calls: int, warmup: int = 20
) -> list[int]:
    """Nanoseconds of `calls` timed calls, cycling over `batches`, after `warmup` calls."""
    count = len(batches)
    for i in range(warmup):
        fn(batches[i % count])
    samples: list[int] = []
    append = samples.append
    clock = time.perf_counter_ns
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for i in range(calls):
            batch = batches[i % count]
            t0 = clock()
            fn(batch)
            t1 = clock()
            append(t1 - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile X(ceil(n*q)) of sorted values: pytest-mlperf's estimator."""
    return float(ordered[max(math.ceil(len(ordered) * q), 1) - 1])


def summary_ns(samples: Sequence[int]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "mean_ns": sum(ordered) / len(ordered),
        "min_ns": float(ordered[0]),
        "p50_ns": nearest_rank(ordered, 0.50),
        "p95_ns": nearest_rank(ordered, 0.95),
        "p99_ns": nearest_rank(ordered, 0.99),
        "max_ns": float(ordered[-1]),
    }


def host_conditions() -> dict[str, Any]:
    """What changes the latency of the same code: warning filters, GC state, process."""
    return {
        "warning_filters": len(warnings.filters),
        "gc_enabled": gc.isenabled(),
        "pid": os.getpid(),
    }


def emit(kind: str, record: dict[str, Any]) -> None:
    """Append one record to the output file named by $MLPERF_BENCH_OUT."""
    with open(os.environ[OUT_ENV], "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"kind": kind, **record}) + "\n")
