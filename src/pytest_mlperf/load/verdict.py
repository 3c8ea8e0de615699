"""Verdicts on latency measured under load, where neighbouring requests are not independent.

Requests that arrive during one busy period all wait behind the same queue, so their latencies
rise and fall together; the exact binomial test the single-call judge uses assumes independent
calls and would be far too confident. Here the run is cut into consecutive blocks (batch means,
the classic method for simulation output) and each limit is judged on the spread *between*
blocks: for a percentile limit, the fraction of each block's requests over the limit; for a
mean limit, each block's mean. The blocks are assumed long enough to be nearly independent of
each other (much longer than a busy period); the pooled binomial bound is kept as a floor so
that blocks which happen to agree exactly never look more certain than independent calls would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom
from scipy.stats import t as student_t

from .. import stats
from ..marks import PERCENTILES, Limit
from ..numbers import fmt
from ..results import Check

BLOCKS = 20  # blocks per run when there are enough requests
MIN_BLOCKS = 5
MIN_EXCEEDANCES_PER_BLOCK = 5  # expected, at the limit: p95 -> blocks of 100 requests

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Blocking:
    """How a run's requests are cut into blocks for one limit."""

    blocks: int
    size: int

    @property
    def usable(self) -> bool:
        return self.blocks >= MIN_BLOCKS


def blocking(n: int, quantile: float | None) -> Blocking:
    """Up to 20 blocks, each long enough to expect 10 requests over a percentile's limit."""
    smallest = 10 if quantile is None else math.ceil(MIN_EXCEEDANCES_PER_BLOCK / (1 - quantile))
    blocks = min(BLOCKS, n // smallest)
    return Blocking(blocks, n // blocks if blocks else 0)


def min_requests(quantile: float | None) -> int:
    """Requests a limit needs before it can be judged at all (5 blocks)."""
    smallest = 10 if quantile is None else math.ceil(MIN_EXCEEDANCES_PER_BLOCK / (1 - quantile))
    return MIN_BLOCKS * smallest


def exceedance_tests(
    samples_ms: FloatArray, thresholds: FloatArray, block: Blocking, alpha: float, target: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per threshold: (P(latency > threshold) is below `target`, ... is above it), each at
    one-sided level alpha, by the block t-bound and the pooled Clopper-Pearson bound together.

    The Clopper-Pearson upper bound is below `target` exactly when P(Bin(n, target) <= k) <
    alpha (and the lower bound above it when P(Bin(n, target) >= k) < alpha), which spares
    inverting the beta distribution at every threshold.
    """
    used = samples_ms[: block.blocks * block.size].reshape(block.blocks, block.size)
    ordered = np.sort(used, axis=1)
    over = np.stack(
        [block.size - np.searchsorted(row, thresholds, side="right") for row in ordered]
    ).astype(np.float64)
    fractions = over / block.size
    mean = fractions.mean(axis=0)
    half = float(student_t.ppf(1 - alpha, block.blocks - 1)) * (
        fractions.std(axis=0, ddof=1) / math.sqrt(block.blocks)
    )
    total = block.blocks * block.size
    k = over.sum(axis=0)
    below = (mean + half < target) & (binom.cdf(k, total, target) < alpha)
    above = (mean - half > target) & (binom.sf(k - 1, total, target) < alpha)
    return below, above


def percentile_verdict(
    samples_ms: FloatArray, quantile: float, limit_ms: float, confidence: float
) -> tuple[stats.Verdict, tuple[float | None, float | None], Blocking]:
    """PASS when P(latency > limit) is shown below 1 - q, FAIL when shown above it; the
    interval of the percentile is every threshold not rejected."""
    block = blocking(samples_ms.size, quantile)
    if not block.usable:
        return stats.Verdict.INCONCLUSIVE, (None, None), block
    alpha = 1 - confidence
    passes, fails = exceedance_tests(samples_ms, np.array([limit_ms]), block, alpha, 1 - quantile)
    if passes[0]:
        verdict = stats.Verdict.PASS
    elif fails[0]:
        verdict = stats.Verdict.FAIL
    else:
        verdict = stats.Verdict.INCONCLUSIVE
    return verdict, percentile_interval(samples_ms, quantile, block, alpha), block


def percentile_interval(
    samples_ms: FloatArray, quantile: float, block: Blocking, alpha: float
) -> tuple[float | None, float | None]:
    """(largest value every smaller threshold FAILs at, smallest value every larger PASSes at)."""
    candidates = np.unique(samples_ms[: block.blocks * block.size])
    passes, fails = exceedance_tests(samples_ms, candidates, block, alpha, 1 - quantile)
    # a threshold is a bound only if the whole tail beyond it agrees
    pass_tail = np.flip(np.logical_and.accumulate(np.flip(passes)))
    fail_head = np.logical_and.accumulate(fails)
    hi = float(candidates[np.argmax(pass_tail)]) if pass_tail.any() else None
    lo = float(candidates[np.count_nonzero(fail_head) - 1]) if fail_head.any() else None
    return lo, hi


def mean_verdict(
    samples_ms: FloatArray, limit_ms: float, confidence: float
) -> tuple[stats.Verdict, tuple[float | None, float | None], Blocking]:
    """The single-call judge's t-test of the mean, on the means of up to 20 blocks."""
    block = blocking(samples_ms.size, None)
    if not block.usable:
        return stats.Verdict.INCONCLUSIVE, (None, None), block
    means = stats.block_means(samples_ms, block.size)
    verdict = stats.mean_decide(means, limit_ms, 1 - confidence) or stats.Verdict.INCONCLUSIVE
    lo, hi = stats.mean_ci(means, confidence)
    return verdict, (lo, hi), block


def judge_load(
    samples_ms: FloatArray,
    limits: Sequence[Limit],
    *,
    confidence: float,
    context: str,
    saturated: str,
    achieved_rows_per_s: float,
) -> list[Check]:
    """Checks for a load result: `context` names rps, workers and pool; `saturated` is the
    reason the run was saturated, or empty. A saturated run FAILs every latency limit."""
    checks = []
    level = f"{round(confidence * 100):d}% CI"
    for lim in limits:
        if lim.metric == "memory":
            message = (
                f"memory is not measured under load, cannot check limit {lim.value:g} MB {context}"
            )
            checks.append(Check("memory", lim.value, None, stats.Verdict.INCONCLUSIVE, message))
            continue
        if lim.metric == "throughput":
            checks.append(_throughput(lim, achieved_rows_per_s, context, saturated))
            continue
        quantile = lim.quantile
        value = (
            float(stats.percentile(np.sort(samples_ms), quantile))
            if quantile
            else float(samples_ms.mean())
            if samples_ms.size
            else math.nan
        )
        what = f"{lim.metric} latency" if quantile else "mean latency"
        if saturated:
            message = (
                f"{what} {fmt(value)} ms under load, limit {lim.value:g} ms: FAIL because the run "
                f"was saturated ({saturated}) {context}"
            )
            checks.append(
                Check(
                    lim.metric, lim.value, value, stats.Verdict.FAIL, message, None, samples_ms.size
                )
            )
            continue
        if quantile is not None:
            verdict, ci, block = percentile_verdict(samples_ms, quantile, lim.value, confidence)
        else:
            verdict, ci, block = mean_verdict(samples_ms, lim.value, confidence)
        figure = f"{what} {fmt(value)} ms [{level} {fmt(ci[0])}, {fmt(ci[1])}]"
        blocks = f"{block.blocks} blocks of {block.size} requests"
        if not block.usable:
            message = (
                f"{figure}: no verdict on limit {lim.value:g} ms from only {samples_ms.size} "
                f"requests under load; a verdict needs at least {min_requests(quantile)} "
                f"(run longer or at a higher rps) {context}"
            )
        elif verdict is stats.Verdict.INCONCLUSIVE:
            message = (
                f"{figure} too close to limit {lim.value:g} ms to decide at "
                f"{round(confidence * 100):d}% confidence ({blocks}) {context}"
            )
        else:
            op = "<=" if verdict is stats.Verdict.PASS else ">"
            message = f"{figure} {op} limit {lim.value:g} ms ({blocks}) {context}"
        checks.append(Check(lim.metric, lim.value, value, verdict, message, ci, samples_ms.size))
    return checks


def _throughput(lim: Limit, rows_per_s: float, context: str, saturated: str) -> Check:
    good = rows_per_s >= lim.value and not saturated
    op = ">=" if rows_per_s >= lim.value else "<"
    why = f" but the run was saturated ({saturated})" if saturated else ""
    message = (
        f"achieved throughput {fmt(rows_per_s)} rows/s {op} limit {lim.value:g} rows/s{why} "
        f"{context}"
    )
    return Check("throughput", lim.value, rows_per_s, stats.Verdict.of(good), message)


def block_intervals(
    samples_ms: FloatArray, confidence: float
) -> dict[str, tuple[float | None, float | None]]:
    """Intervals of each percentile and the mean that allow for dependent requests."""
    alpha = 1 - confidence
    out: dict[str, tuple[float | None, float | None]] = {}
    for metric, q in PERCENTILES.items():
        block = blocking(samples_ms.size, q)
        out[metric] = (
            percentile_interval(samples_ms, q, block, alpha) if block.usable else (None, None)
        )
    block = blocking(samples_ms.size, None)
    if block.usable:
        lo, hi = stats.mean_ci(stats.block_means(samples_ms, block.size), confidence)
        out["mean"] = (lo, hi)
    else:
        out["mean"] = (None, None)
    return out
