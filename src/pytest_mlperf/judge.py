"""Turns limits and latency samples into verdicts, look by look, and into `Check`s.

The timed loop asks `Judge.update` at each look whether every limit has its verdict; a verdict,
once reached, is frozen (that is what the sequential design's error rates assume). Messages
quote the figures at the moment of the verdict, so they never contradict it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from . import stability, stats
from .marks import Limit
from .numbers import fmt
from .results import Check

# Mean and throughput limits: a t-test on the means of blocks of 20 calls, looked at every 20
# calls from the fifth block (100 calls) to 2,000, at a per-look level of 0.06 x (1 - confidence)
# (0.003 at 95%). Seeded simulation (tests/test_judge.py) puts each wrong verdict near 3% for
# normal latencies and at most ~8% for very skewed ones (lognormal, sigma = 1).
MEAN_SCHEDULE_QUANTILE = 0.95
MEAN_BLOCK = stability.WINDOW  # the mean limits' blocks are the stability windows
MEAN_MIN_BLOCKS = 5
MEAN_LEVEL_PER_ERROR = 0.06


@dataclass
class _State:
    limit: Limit
    looks: frozenset[int]
    verdict: stats.Verdict | None = None
    n: int = 0

    @property
    def first_look(self) -> int:
        return min(self.looks)

    @property
    def last_look(self) -> int:
        return max(self.looks)


class Judge:
    """Sequential verdicts for the latency, throughput and memory limits of one measurement."""

    def __init__(
        self,
        limits: Sequence[Limit],
        batch_size: int,
        confidence: float,
        run_spread: float = stability.DEFAULT_RUN_SPREAD,
    ) -> None:
        self.batch_size = batch_size
        self.confidence = confidence
        self.run_spread_floor = run_spread
        self.drift = 0.0
        self.cpu_share: float | None = None  # set by the timed loop between windows
        self.run_spread = run_spread  # the floor and the drift seen so far
        self.lower_factor = 1.0  # the most contention seen so far lowers the lower bounds
        # two-sided, as the reported interval, so a verdict never contradicts its printed CI
        self.z_run = float(norm.ppf(0.5 + confidence / 2.0))
        self.memory_limits = [lim for lim in limits if lim.metric == "memory"]
        mean_design = stats.sequential_design(MEAN_SCHEDULE_QUANTILE, confidence)
        self.mean_alpha = MEAN_LEVEL_PER_ERROR * (1 - confidence)
        self.designs: dict[str, stats.SequentialDesign] = {}
        self.states: list[_State] = []
        for lim in limits:
            if lim.metric == "memory":
                continue
            design = mean_design
            if lim.quantile is not None:
                design = stats.sequential_design(lim.quantile, confidence)
                self.designs[lim.metric] = design
            self.states.append(_State(lim, frozenset(design.looks)))
        looks = sorted(set().union(*(s.looks for s in self.states))) if self.states else []
        self.looks: list[int] = looks

    @property
    def has_time_limits(self) -> bool:
        return bool(self.states)

    @property
    def n_max(self) -> int:
        return self.looks[-1] if self.looks else 0

    def done(self) -> bool:
        return all(s.verdict is not None for s in self.states)

    def update(self, samples_ms: np.ndarray, final: bool = False) -> bool:
        """Examine every undecided limit that has a look at this sample count."""
        n = len(samples_ms)
        measured = False
        for state in self.states:
            if state.verdict is not None:
                continue
            # a look on the schedule, or one extra look when a time cap cut the schedule short
            if n in state.looks or (final and state.first_look <= n < state.last_look):
                if not measured:  # the machine's drift once per look, for every limit
                    self._measure_drift(samples_ms)
                    measured = True
                state.verdict = self._decide(state.limit, samples_ms)
                state.n = n
            if state.verdict is None and n >= state.last_look:  # the schedule is over
                state.verdict, state.n = stats.Verdict.INCONCLUSIVE, state.last_look
        if final:
            for state in self.states:
                if state.verdict is None:
                    state.verdict, state.n = stats.Verdict.INCONCLUSIVE, n
        return self.done()

    def _decide(self, limit: Limit, samples_ms: np.ndarray) -> stats.Verdict | None:
        if limit.quantile is not None:
            if len(samples_ms) < stability.min_calls(limit.quantile):
                return None  # too few calls to see clustering or drift: no verdict yet
            lower, upper = self.bounds(limit, samples_ms)
            if upper is not None and upper <= limit.value:
                return stats.Verdict.PASS
            if lower is not None and lower > limit.value:
                return stats.Verdict.FAIL
            return None
        blocks = stats.block_means(samples_ms, MEAN_BLOCK)
        if len(blocks) < MEAN_MIN_BLOCKS:
            return None
        # block means absorb clustering; the run spread widens them as it does percentiles
        mean = float(blocks.mean())
        lower, upper = stats.mean_bounds(blocks, self.mean_alpha)
        lower, upper = stability.widen_interval(
            mean, lower, upper, None, self.run_spread, self.z_run
        )
        lower = None if lower is None else lower * self.lower_factor
        limit_ms = self._mean_limit_ms(limit)
        if upper is not None and upper < limit_ms:
            return stats.Verdict.PASS
        if lower is not None and lower > limit_ms:
            return stats.Verdict.FAIL
        return None

    def _measure_drift(self, samples_ms: np.ndarray) -> None:
        """The largest drift seen so far: a look where it happens to dip never decides alone."""
        self.drift = max(self.drift, stability.speed_drift(samples_ms))
        self.run_spread = stability.combined_spread(self.run_spread_floor, self.drift)
        self.lower_factor = min(self.lower_factor, stability.contention_factor(self.cpu_share))

    def bounds(self, limit: Limit, samples_ms: np.ndarray) -> tuple[float | None, float | None]:
        """The sequential test's bounds of the limit's percentile at this look.

        The exact group-sequential count boundaries, moved by the clustering of calls above
        the estimate and widened by the run spread that `update` measured at this look
        (src/pytest_mlperf/stability.py). PASS is
        ``upper <= limit``, FAIL ``lower > limit``; with independent calls and no run spread
        this is the exact binomial test.
        """
        assert limit.quantile is not None
        ordered = np.sort(samples_ms)
        clustering = stability.design_effect(samples_ms, stats.percentile(ordered, limit.quantile))
        return stability.bounds_from_counts(
            ordered,
            limit.quantile,
            self.designs[limit.metric].bounds,
            clustering,
            self.run_spread,
            self.z_run,
            self.lower_factor,
            self.run_spread_floor,
        )

    def _unsteady(self, limit: Limit, samples_ms: np.ndarray) -> bool:
        """True when the exact test for independent calls would have decided this limit:
        the verdict is missing only because of clustering or the run spread."""
        if limit.quantile is None or len(samples_ms) == 0:
            return False
        ordered = np.sort(samples_ms)
        lower, upper = stability.bounds_from_counts(
            ordered, limit.quantile, self.designs[limit.metric].bounds, 1.0, 0.0, 0.0
        )
        return (upper is not None and upper <= limit.value) or (
            lower is not None and lower > limit.value
        )

    def _mean_limit_ms(self, limit: Limit) -> float:
        if limit.metric == "throughput":
            return self.batch_size * 1000.0 / limit.value
        return limit.value

    def checks(
        self, samples_ms: np.ndarray, memory_mb: float | None, label: str, stop_reason: str = ""
    ) -> list[Check]:
        """The verdicts as `Check`s; `label` names the model, e.g. 'LogisticRegression'."""
        out = [self._time_check(s, samples_ms, label, stop_reason) for s in self.states]
        out += [self._memory_check(lim, memory_mb, label) for lim in self.memory_limits]
        return out

    def _fewest_calls_to_pass(self, limit: Limit) -> int:
        """The first look at which this limit could PASS at all (p95: 100 calls, p99: 500)."""
        if limit.quantile is None:
            return MEAN_BLOCK * MEAN_MIN_BLOCKS
        design = self.designs[limit.metric]
        return next(
            (
                n
                for n, k in zip(design.looks, design.pass_max_k, strict=True)
                if k >= 0 and n >= stability.min_calls(limit.quantile)
            ),
            design.looks[-1],
        )

    def _time_check(
        self, state: _State, samples_ms: np.ndarray, label: str, stop_reason: str
    ) -> Check:
        lim, n = state.limit, state.n
        seen = np.sort(samples_ms[:n])
        level = f"{round(self.confidence * 100):d}% CI"
        context = f"({label}, batch={self.batch_size}, n={n})"
        verdict = state.verdict or stats.Verdict.INCONCLUSIVE
        value: float | None
        if lim.quantile is not None:
            value = stats.percentile(seen, lim.quantile)
            ci = stability.percentile_interval(
                samples_ms[:n],
                lim.quantile,
                self.confidence,
                self.run_spread,
                self.lower_factor,
                self.run_spread_floor,
            )
            what, unit = f"{lim.metric} latency", "ms"
        else:
            lo, hi = mean_interval(
                samples_ms[:n], self.confidence, self.run_spread, self.lower_factor
            )
            value = float(seen.mean())
            ci = (lo, hi)
            what, unit = "mean latency", "ms"
            if lim.metric == "throughput":
                value, ci = self._to_rps(value), (self._to_rps(hi), self._to_rps(lo))
                what, unit = "throughput", "rows/s"
        interval = f"{fmt(ci[0])}, {fmt(ci[1])}"
        if lim.quantile is None and ci == (None, None):
            interval = MEAN_CI_MISSING
        figure = f"{what} {fmt(value)} {unit} [{level} {interval}]"
        bound = f"limit {lim.value:g} {unit}"
        below_is_good = lim.metric != "throughput"
        fewest = self._fewest_calls_to_pass(lim)
        if verdict is stats.Verdict.INCONCLUSIVE and n < fewest:
            message = (
                f"{figure}: no verdict on {bound} after only {n} calls (stopped by "
                f"{stop_reason or 'the sample cap'}); a PASS needs at least {fewest} calls"
                f"{_time_needed(fewest, samples_ms[:n], stop_reason)} {context}"
            )
        elif verdict is stats.Verdict.INCONCLUSIVE and self._unsteady(lim, samples_ms[:n]):
            steadiness = stability.measure(samples_ms[:n], self.run_spread_floor)
            above = bool(stability.wide_above(lim.quantile))
            wide = stability.side_spread(
                lim.quantile, self.run_spread, self.run_spread_floor, up=above
            )
            message = (
                f"{figure}: the machine was too unsteady to decide {bound} ("
                f"{steadiness.summary}, run spread {self.run_spread:.0%}, {wide:.0%} "
                f"{'above' if above else 'below'} the estimate); compare models with "
                f"model_bench.ab, or measure longer (--mlperf-max-time) or alone "
                f"(--mlperf-serial) {context}"
            )
        elif verdict is stats.Verdict.INCONCLUSIVE:
            message = (
                f"{figure} too close to {bound} to decide at "
                f"{round(self.confidence * 100):d}% confidence {context}"
            )
        else:
            good = verdict is stats.Verdict.PASS
            op = ("<=" if good else ">") if below_is_good else (">=" if good else "<")
            message = f"{figure} {op} {bound} {context}"
        return Check(lim.metric, lim.value, value, verdict, message, ci, n)

    def _to_rps(self, mean_ms: float | None) -> float | None:
        if mean_ms is None or mean_ms <= 0:
            return None
        return self.batch_size * 1000.0 / mean_ms

    def _memory_check(self, lim: Limit, memory_mb: float | None, label: str) -> Check:
        context = f"({label}, batch={self.batch_size})"
        if memory_mb is None:
            message = f"memory not measured, cannot check limit {lim.value:g} MB {context}"
            return Check("memory", lim.value, None, stats.Verdict.INCONCLUSIVE, message)
        good = memory_mb <= lim.value
        op = "<=" if good else ">"
        message = f"memory {fmt(memory_mb)} MB {op} limit {lim.value:g} MB {context}"
        return Check("memory", lim.value, memory_mb, stats.Verdict.of(good), message)


def _time_needed(calls: int, samples_ms: np.ndarray, stop_reason: str) -> str:
    """', about 3.2 s of calls: --mlperf-max-time=4 or more' when the time cap stopped it."""
    if stop_reason != "max_time" or len(samples_ms) == 0:
        return ""
    seconds = calls * float(np.mean(samples_ms)) / 1000.0
    return f", about {seconds:.2g} s of calls here: --mlperf-max-time={math.ceil(seconds * 1.2)}"


def mean_interval(
    samples_ms: np.ndarray,
    confidence: float,
    run_spread: float = 0.0,
    lower_factor: float = 1.0,
) -> tuple[float | None, float | None]:
    """Two-sided interval of the mean from block means, widened by ``run_spread`` in log
    space and its lower end lowered by ``lower_factor`` (contention; stability.py), never
    below 0 ms.

    None with fewer than the blocks a mean verdict needs: two blocks leave one degree of
    freedom (t = 12.7 at 95%), whose interval says nothing and often reaches below zero.
    """
    blocks = stats.block_means(samples_ms, MEAN_BLOCK)
    if len(blocks) < MEAN_MIN_BLOCKS:
        return None, None
    lo, hi = stats.mean_ci(blocks, confidence)
    mean = float(blocks.mean())
    z = float(norm.ppf(0.5 + confidence / 2.0))
    low, high = stability.widen_interval(mean, max(lo, 0.0), hi, None, run_spread, z)
    return None if low is None else low * lower_factor, high


# what the reports print in place of a mean (or throughput) interval `mean_interval` left open
MEAN_CI_MISSING = f"n/a: needs \u2265 {MEAN_MIN_BLOCKS} blocks of {MEAN_BLOCK} calls"
