"""How steady the machine was during a measurement, and how that widens percentile intervals.

A percentile interval from order statistics assumes independent calls from one fixed
distribution. On a shared machine neither holds: slow calls come in clusters (a preempted
process is slow for several calls in a row), and the machine's speed moves from one
few-second window to the next, so two runs of unchanged code see different tails. Two terms,
both measured or stated, widen the exact interval (docs/verdicts.md explains them):

- **clustering** (design effect ``D``): the variance of the per-window count of calls above
  the percentile, divided by what independent calls would give. ``D`` calls carry the
  information of one independent call, so the order-statistic ranks are computed for
  ``n / D`` calls. Measured in every run; 1 when calls behave independently. Where ``n / D``
  calls are too few for any rank (a p95 upper bound needs 72, 98 in a verdict), the delta
  method gives the bound: clustering multiplies the estimate's variance by ``D``, so the
  exact bound for ``n`` calls is moved ``sqrt(D)`` times as far from the estimate, in ms,
  and never inside the slowest (fastest) call measured. Without it a heavily clustered run
  could not bound a p95 at all for hundreds of calls, however far under its limit it was.
- **run spread** (``sigma``): the spread, between separate runs, of the log of a percentile
  that no window of the run itself can show (the run lasts a second; the machine's slow spells
  come every few seconds). Added in log space: ``exp(+-z*sigma)`` around the estimate, combined
  with the sampling half-width in quadrature. It adds, as variances, a stated floor (the
  ``--mlperf-run-spread`` setting) and the drift of the window medians measured in the run.
  The stated floor counts ``SLOW_SIDE`` times on the side where a short run errs most: above
  a tail percentile (p90 and up), whose slow phases a run usually misses, and below the median,
  which a run inside a phase where the whole machine is slower reads high. The mean, which
  holds both, keeps the same spread on both sides.

With ``D = 1`` and ``sigma = 0`` every bound is the exact one, so the statistics stay exact
where their assumptions hold.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import chi2, norm

from . import stats
from .probe import CONTENTION_FREE, PROBE_VERSION, Stamp, WindowClock
from .results import Stability

WINDOW = 20  # consecutive calls per window (the same blocks as the mean limits use)
TARGET_WINDOWS = 10  # windows grow past WINDOW calls so that a long run has about this many
MIN_WINDOWS = 4  # fewer windows and nothing is estimated: D = 1, no measured drift
MIN_CALLS = 5 * WINDOW  # no percentile verdict before five windows show how steady calls are
MIN_ABOVE = 3  # ... nor before three calls are expected above the percentile (p99: 300 calls)
DISPERSION_TEST_LEVEL = 0.10  # clustering is used once independence is rejected at this level
TIMER_FLOOR_MS = 1e-6  # one nanosecond: estimates are floored here before taking logs
DEFAULT_RUN_SPREAD = 0.15  # stated floor: log-sd of p95 between runs of a shared 2-core box
CONTENTION_POWER = 3.0  # a contended run's lower bounds fall as share**3: see contention_factor
SLOW_SIDE = 1.5  # the stated floor counts x1.5 on the side where a short run errs most
TAIL_FROM = 0.9  # percentiles from p90 up are tail percentiles


def min_calls(p: float) -> int:
    """The first call count at which a verdict on the ``p`` quantile may be given: five windows,
    and three calls expected above the percentile (p99: 300, where a PASS first becomes
    possible). Clustering above a p99 cannot be seen in the one or two calls of 100 that lie
    above it, so a slow start would count as independent slow calls and FAIL a limit that
    longer runs PASS (replayed: benchmarks/replay.py --metric p99)."""
    return max(MIN_CALLS, math.ceil(MIN_ABOVE / (1.0 - p) - 1e-9))


def windows_of(samples_ms: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The complete windows of consecutive calls, one row each (the incomplete tail dropped)."""
    count = len(samples_ms) // window
    shaped: np.ndarray = np.asarray(samples_ms[: count * window], dtype=np.float64).reshape(
        count, window
    )
    return shaped


def window_for(n: int) -> int:
    """Calls per window: ``WINDOW``, or longer so that a run holds about ``TARGET_WINDOWS``.

    Longer runs get longer windows, so clusters longer than 20 calls still fall inside one
    window and show in the variance between windows (batch means, in simulation terms).
    """
    return max(WINDOW, n // TARGET_WINDOWS)


@functools.lru_cache(maxsize=256)
def _dispersion_critical(df: int) -> float:
    return float(chi2.ppf(1.0 - DISPERSION_TEST_LEVEL, df))


def design_effect(samples_ms: np.ndarray, threshold: float) -> float:
    """Variance of per-window counts above ``threshold`` over the binomial variance (>= 1).

    Independent calls give about 1; clustered slow calls give more. The estimate is used only
    when a dispersion test rejects independence at the 10% level (with few windows it is too
    noisy to move the exact bounds otherwise); fewer than ``MIN_WINDOWS`` windows, or no call
    (or every call) above the threshold, give 1.
    """
    window = WINDOW  # short-range clustering; slower movement is the speed drift's part
    rows = windows_of(samples_ms, window)
    k = len(rows)
    if k < MIN_WINDOWS:
        return 1.0
    fractions = (rows > threshold).mean(axis=1)
    rate = float(fractions.mean())
    if rate <= 0.0 or rate >= 1.0:
        return 1.0
    ratio = float(fractions.var(ddof=1)) / (rate * (1.0 - rate) / window)
    if ratio * (k - 1) <= _dispersion_critical(k - 1):
        return 1.0
    return ratio


def speed_drift(samples_ms: np.ndarray) -> float:
    """Log-sd of window medians, less the part that sampling noise alone would give.

    The noise part is the large-sample variance of a median, ``(pi/2) * s**2 / w`` for
    windows of ``w`` calls, with ``s`` a robust (MAD) spread of log latencies within windows;
    what is left is how much the machine's speed moved between windows.
    """
    rows = windows_of(samples_ms, window_for(len(samples_ms)))
    if len(rows) < MIN_WINDOWS:
        return 0.0
    logs = np.log(np.maximum(rows, TIMER_FLOOR_MS))
    medians = np.median(logs, axis=1)
    spread = 1.4826 * float(np.median(np.abs(logs - medians[:, None])))
    noise = (math.pi / 2.0) * spread**2 / rows.shape[1]
    return math.sqrt(max(0.0, float(np.var(medians, ddof=1)) - noise))


def combined_spread(floor: float, drift: float) -> float:
    """The run spread an interval allows for: the stated floor (what no window of the run can
    show) and the drift measured in it (what it did show), added as variances."""
    return math.hypot(floor, drift)


def wide_above(p: float | None) -> bool | None:
    """Which side of the ``p`` quantile's estimate is the wide one (:func:`side_spread`): above
    for a tail percentile, below for the median and other central ones, neither (None) for
    the mean."""
    return None if p is None else p >= TAIL_FROM


def side_spread(p: float | None, run_spread: float, stated: float, up: bool) -> float:
    """The run spread on one side of the estimate of the ``p`` quantile (``None``: the mean):
    ``run_spread``, with its ``stated`` part counted ``SLOW_SIDE`` times on the side where a
    short run errs most.

    Replayed on thirteen recorded hours of a shared 2-core box (benchmarks/replay.py), a
    400-call run read the long-run p95 between x0.42 and x1.43 (2.5% and 97.5% of runs), the
    long-run median between x0.78 and x1.85. A tail gets fat in slow phases a second-long
    run usually misses, so it reads low: the upper side is the wide one. The whole machine
    is slower in other phases, and a run inside one reads the median high: for it the lower
    side is the wide one. The mean holds both and keeps ``run_spread`` on both sides:
    replayed, a wider lower side bought no flip and no wrong verdict and cost a third of its
    clear FAILs.
    """
    if wide_above(p) != up:
        return run_spread
    return math.hypot(run_spread, math.sqrt(SLOW_SIDE**2 - 1.0) * stated)


def cpu_share(windows: Sequence[tuple[Stamp, Stamp, int]]) -> float | None:
    """The share of the wall time the process held a CPU while other processes wanted it.

    ``windows`` are ``(start, end, calls)`` with stamps ``(process CPU ns, wall ns,
    involuntary context switches)`` (:class:`probe.WindowClock`). A window in which the
    scheduler took the CPU away (an involuntary switch) counts with its CPU time over its wall
    time; a window without one counts as 1, so a model
    that waits on its own (a GPU, I/O, a sleep) is not mistaken for a contended one. The median
    over windows, at most 1 (several BLAS threads hold more than one CPU); None without windows.
    """
    shares = []
    for (cpu0, wall0, preempt0), (cpu1, wall1, preempt1), _ in windows:
        if wall1 <= wall0:
            continue
        preempted = preempt1 > preempt0
        shares.append(min(1.0, (cpu1 - cpu0) / (wall1 - wall0)) if preempted else 1.0)
    return float(np.median(shares)) if shares else None


def contention_factor(share: float | None) -> float:
    """What a lower bound is multiplied by when other processes competed for the CPU.

    Contention only ever slows calls down, so a contended run's figures may be too high, never
    too low: its lower bounds come down by ``(share / 0.95) ** CONTENTION_POWER`` and its
    upper bounds stay. On a 2-core box shared by four busy processes, a BLAS-bound model's p95
    moved x5 between runs whose share was about 0.7, a forest's x2.5; ``(0.7 / 0.95) ** 3``
    is 1/2.5, and a run at a share of 0.5 cannot FAIL a limit within 7x of what it measured.
    1 (no change) for an uncontended run or without a measured share.
    """
    if share is None or share >= CONTENTION_FREE:
        return 1.0
    return float((max(share, 0.01) / CONTENTION_FREE) ** CONTENTION_POWER)


def measure(
    samples_ms: np.ndarray,
    run_spread_floor: float,
    drift_seen: float = 0.0,
    windows: WindowClock | None = None,
) -> Stability:
    """The stability figures of one measurement (the p95's clustering); ``drift_seen`` is the
    largest drift the verdict's looks saw, so the figures match what the verdicts used, and
    ``windows`` the clock readings between windows (None or off with a test's own clock)."""
    samples = np.asarray(samples_ms, dtype=np.float64)
    readings = _readings(windows)
    if samples.size == 0:
        return Stability(run_spread=run_spread_floor, **readings)
    p95 = stats.percentile(np.sort(samples), 0.95)
    drift = max(drift_seen, speed_drift(samples))
    return Stability(
        speed_drift=drift,
        clustering=design_effect(samples, p95),
        run_spread=combined_spread(run_spread_floor, drift),
        windows=len(samples) // window_for(len(samples)),
        **readings,
    )


def _readings(windows: WindowClock | None) -> dict[str, Any]:
    """CPU share, CPU time per call and probe time from the readings between windows."""
    if windows is None or not windows.windows:
        return {}
    per_call = windows.cpu_ms_per_call()
    return {
        "cpu_share": cpu_share(windows.windows),
        "cpu_ms": float(np.median(per_call)),
        "cpu_windows_ms": [round(x, 6) for x in per_call],
        "probe_ms": windows.probe_ms(),
        "probe_windows_ms": [round(x, 6) for x in windows.probe_windows_ms()],
        "probe_version": PROBE_VERSION,
    }


def widen(estimate: float, bound: float | None, sd: float, z: float, up: bool) -> float | None:
    """Combine a sampling bound and the run spread ``z*sd`` in quadrature, in log space.

    A lower bound at or below zero stays where it is: the log scale has no room for it.
    """
    if bound is None:
        return None
    if sd <= 0.0 or (not up and bound <= 0.0):
        return bound
    est = max(estimate, TIMER_FLOOR_MS)
    half = abs(math.log(max(bound, TIMER_FLOOR_MS) / est))
    total = math.hypot(half, z * sd)
    return est * math.exp(total if up else -total)


def widen_interval(
    estimate: float,
    lower: float | None,
    upper: float | None,
    p: float | None,
    run_spread: float,
    z: float,
    stated: float = 0.0,
) -> tuple[float | None, float | None]:
    """Both sampling bounds of the ``p`` quantile (``None``: the mean) widened by the run
    spread of their side (:func:`side_spread`)."""
    return (
        widen(estimate, lower, side_spread(p, run_spread, stated, up=False), z, up=False),
        widen(estimate, upper, side_spread(p, run_spread, stated, up=True), z, up=True),
    )


Boundaries = Callable[[int], tuple[int, int]]


def bounds_from_counts(
    sorted_ms: np.ndarray,
    p: float,
    boundaries: Boundaries,
    clustering: float,
    run_spread: float,
    z: float,
    lower_factor: float = 1.0,
    stated: float = 0.0,
) -> tuple[float | None, float | None]:
    """``(lower, upper)`` latency bounds of the ``p`` quantile from exact count boundaries.

    ``boundaries(m)`` gives, for ``m`` independent calls, the largest count of calls above a
    limit that still proves PASS and the smallest that proves FAIL. With clustering ``D``
    the ``n`` calls count as ``m = n / D`` independent ones and each observed count as
    ``1/D`` of a count, so the boundaries for ``m`` calls are scaled by ``D``. ``upper <=
    limit`` is then exactly "few enough calls above the limit", ``lower > limit`` "enough";
    the run spread widens both bounds (each side by :func:`side_spread`, with ``stated`` the
    stated part of ``run_spread``) and ``lower_factor`` (:func:`contention_factor`) lowers
    the lower one. Where no count of ``n / D`` calls is enough but one of ``n`` is, the bound
    is the delta method's (module docstring); None where not even that exists.
    """
    n = len(sorted_ms)
    effective = n if clustering <= 1.0 else max(1, int(n / clustering))
    pass_max_k, fail_min_k = boundaries(effective)
    scale = n / effective
    k_pass = math.floor(pass_max_k * scale + 1e-9) if pass_max_k >= 0 else -1
    k_fail = math.ceil(fail_min_k * scale - 1e-9)
    estimate = stats.percentile(sorted_ms, p)
    upper = float(sorted_ms[n - k_pass - 1]) if 0 <= k_pass < n else None
    lower = float(sorted_ms[n - k_fail]) if 1 <= k_fail <= n else None
    if effective < n and (upper is None or lower is None):
        # no rank of n / D calls is far enough out: the delta method (module docstring)
        iid_pass, iid_fail = boundaries(n)
        root = math.sqrt(n / effective)
        if upper is None and 0 <= iid_pass < n:
            reach = root * (float(sorted_ms[n - iid_pass - 1]) - estimate)
            upper = max(float(sorted_ms[-1]), estimate + reach)
        if lower is None and 1 <= iid_fail <= n:
            reach = root * (estimate - float(sorted_ms[n - iid_fail]))
            floor = min(float(sorted_ms[0]), estimate - reach)
            lower = floor if floor > 0.0 else None
    low, high = widen_interval(estimate, lower, upper, p, run_spread, z, stated)
    return None if low is None else low * lower_factor, high


def percentile_interval(
    samples_ms: np.ndarray,
    p: float,
    confidence: float,
    run_spread: float,
    lower_factor: float = 1.0,
    stated: float = 0.0,
) -> tuple[float | None, float | None]:
    """Two-sided interval of the ``p`` quantile of calls in time order: exact ranks, widened
    by the clustering of calls above the estimate and by ``run_spread`` (of which ``stated``
    is the stated floor: see :func:`side_spread`)."""
    ordered = np.sort(samples_ms)

    def boundaries(m: int) -> tuple[int, int]:
        # ranks as exceedance counts: X(l) > limit iff at least m - l + 1 calls are above it
        lower_rank, upper_rank = stats.percentile_ci_ranks(m, p, confidence)
        fail_min_k = m + 1 - lower_rank if lower_rank is not None else m + 1
        return (m - upper_rank if upper_rank is not None else -1), fail_min_k

    clustering = design_effect(samples_ms, stats.percentile(ordered, p))
    z = float(norm.ppf(0.5 + confidence / 2.0))
    return bounds_from_counts(
        ordered, p, boundaries, clustering, run_spread, z, lower_factor, stated
    )
