"""Injected slowdowns for the A/A and A/B protocol (section 5), used inside the pytest tests.

`slowed(fn, fraction, mode, base_ns, sample)` wraps a workload in the same code path for every
condition, so A/A compares two identical wrappers and A/B differs only by the added wait or work:

- "proportional" (the default): after each call, busy-wait `fraction` x that call's own
  duration. Every statistic of the distribution (p50, p95, mean) grows by exactly `fraction`,
  which is what "a +10% slowdown of p95" means in the goals of issue 4.
- "fixed": busy-wait `fraction` x `base_ns` (the quiet reference median) after each call, as
  the peers' protocol does. The median and the mean then grow by about `fraction`, but the
  p95 only by `fraction` x median / p95 (about half of it for W1).
- "work": after each call, a fixed amount of extra *work* (a Python arithmetic loop), as a code
  change adds work: `fraction` x the model's typical call, measured once per wrapper in loop
  steps by timing calls and chunks of the loop in turn, so the machine's speed cancels. No
  clock is read inside the wrapped call: sizing the work by each call's own duration read the
  clock there, and on a loaded machine a read that enters the kernel is where the scheduler
  takes the CPU away, so the slowed model was preempted more often than the other. Like a code
  change, it raises the mean and median by `fraction` and the p95 by a little less. The
  busy-wait modes read the clock in a tight loop, and on this machine that slows the code
  that runs after it (the machine-speed probe read about 30% slower after a +25% busy-wait, and
  not at all after +25% of work: docs/performance.md, section 5).

The compare processes of the stored-run tools read their fraction from $MLPERF_BENCH_FRACTION.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

FRACTION_ENV = "MLPERF_BENCH_FRACTION"
MODES = ("proportional", "fixed", "work")
CALIBRATION_TURNS = 31  # call + chunk of work, timed in turn
CALIBRATION_CHUNK = 2_000  # steps of work per turn (about 0.1 ms)


def fraction_from_env() -> float:
    return float(os.environ.get(FRACTION_ENV, "0"))


def slowed(
    fn: Callable[[Any], Any],
    fraction: float,
    mode: str = "proportional",
    base_ns: float = 0.0,
    sample: Any = None,
) -> Callable[[Any], Any]:
    """`fn` followed by a busy-wait (none when `fraction` is 0): see the module docstring."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    clock = time.perf_counter_ns
    proportional = mode == "proportional"
    delay = int(fraction * base_ns)
    if mode == "work":
        return _with_work(fn, fraction, sample)

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


def _steps_for(fn: Callable[[Any], Any], sample: Any, fraction: float) -> int:
    """Steps of work that take `fraction` of one call of `fn`: the median over turns of a call
    and a chunk of work, timed in CPU time back to back so that the machine's speed cancels;
    measured twice, the second time with chunks of about the size found, as the loop's cost
    per step depends a little on how long it runs."""
    clock = time.process_time_ns
    steps = float(CALIBRATION_CHUNK)
    for _ in range(2):
        chunk = max(1, round(steps))
        ratios = []
        for _ in range(CALIBRATION_TURNS):
            t0 = clock()
            fn(sample)
            t1 = clock()
            _work(chunk)
            t2 = clock()
            ratios.append((t1 - t0) / max(1, t2 - t1) * chunk)
        steps = fraction * statistics.median(ratios)
    return round(steps)


def _with_work(fn: Callable[[Any], Any], fraction: float, sample: Any) -> Callable[[Any], Any]:
    """`fn` followed by a fixed amount of work: `fraction` x one call, in calibrated steps."""
    steps = _steps_for(fn, sample, fraction) if fraction else 0

    def call(batch: Any) -> Any:
        out = fn(batch)
        if steps:
            _work(steps)
        return out

    return call
