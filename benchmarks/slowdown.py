"""Injected slowdowns for the A/A and A/B protocol (section 5), used inside the pytest tests.

`slowed(fn, fraction, mode, base_ns)` wraps a workload in the same code path for every
condition, so A/A compares two identical wrappers and A/B differs only by a busy-wait:

- "proportional" (the default): after each call, busy-wait `fraction` x that call's own
  duration. Every statistic of the distribution (p50, p95, mean) grows by exactly `fraction`,
  which is what "a +10% slowdown of p95" means in the goals of issue 4.
- "fixed": busy-wait `fraction` x `base_ns` (the quiet reference median) after each call, as
  the peers' protocol does. The median and the mean then grow by about `fraction`, but the
  p95 only by `fraction` x median / p95 (about half of it for W1).
- "work": after each call, `fraction` x that call's duration of extra *work*: a fixed Python
  arithmetic loop whose speed is calibrated once per process, as a code change adds work. The
  busy-wait modes read the clock in a tight loop, and on this machine that slows the code
  that runs after it (the machine-speed probe read about 30% slower after a +25% busy-wait, and
  not at all after +25% of work: docs/performance.md, section 5).

The compare processes of the stored-run tools read their fraction from $MLPERF_BENCH_FRACTION.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

FRACTION_ENV = "MLPERF_BENCH_FRACTION"
MODES = ("proportional", "fixed", "work")
CALIBRATION_STEPS = 200_000


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
    if mode == "work":
        return _with_work(fn, fraction)

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


def _work(steps: int) -> int:
    total = 0
    for i in range(steps):
        total += i
    return total


def _with_work(fn: Callable[[Any], Any], fraction: float) -> Callable[[Any], Any]:
    """`fn` followed by `fraction` x its duration of calibrated work (no clock in the loop)."""
    start = time.perf_counter_ns()
    _work(CALIBRATION_STEPS)
    ns_per_step = max(1e-3, (time.perf_counter_ns() - start) / CALIBRATION_STEPS)
    clock = time.perf_counter_ns

    def call(batch: Any) -> Any:
        t0 = clock()
        out = fn(batch)
        if fraction:
            _work(int((clock() - t0) * fraction / ns_per_step))
        return out

    return call
