"""Injected slowdowns for the A/A and A/B protocol (section 5), used inside the pytest tests.

`slowed(fn, fraction, mode, base_ns)` wraps a workload in the same code path for every
condition, so A/A compares two identical wrappers and A/B differs only by a busy-wait:

- "proportional" (the default): after each call, busy-wait `fraction` x that call's own
  duration. Every statistic of the distribution (p50, p95, mean) grows by exactly `fraction`,
  which is what "a +10% slowdown of p95" means in the goals of issue 4.
- "fixed": busy-wait `fraction` x `base_ns` (the quiet reference median) after each call, as
  the peers' protocol does (research/measured-here.md). The median and the mean then grow by
  about `fraction`, but the p95 only by `fraction` x median / p95 (about half of it for W1).

The compare processes of the stored-run tools read their fraction from $MLPERF_BENCH_FRACTION.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

FRACTION_ENV = "MLPERF_BENCH_FRACTION"
MODES = ("proportional", "fixed")


def fraction_from_env() -> float:
    return float(os.environ.get(FRACTION_ENV, "0"))


def slowed(
    fn: Callable[[Any], Any], fraction: float, mode: str = "proportional", base_ns: float = 0.0
) -> Callable[[Any], Any]:
    """`fn` followed by a busy-wait (none when `fraction` is 0): see the module docstring."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    clock = time.perf_counter_ns
    proportional = mode == "proportional"
    delay = int(fraction * base_ns)

    def call(batch: Any) -> Any:
        t0 = clock()
        out = fn(batch)
        if fraction:
            now = clock()
            end = now + (int((now - t0) * fraction) if proportional else delay)
            while clock() < end:
                pass
        return out

    return call
