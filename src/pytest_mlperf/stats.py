"""Latency statistics: nearest-rank percentiles, distribution-free CIs, sequential verdicts and
block-based ratio tests for regressions.

Pure functions (numpy and ``scipy.stats`` only, never pytest). Notation: ``p`` is the quantile
(0.95 for p95) and ``q = 1 - p`` the allowed fraction of calls above a latency limit. Each method,
with worked numbers (checked in ``tests/test_stats.py``), is explained in docs/verdicts.md
(intervals and verdicts) and docs/regressions.md (comparisons).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import numpy.typing as npt
from scipy.stats import binom, t, wilcoxon

from .results import Verdict

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "RatioTest",
    "SequentialDesign",
    "Verdict",
    "block_percentiles",
    "block_view",
    "expected_calls_to_verdict",
    "holm_adjust",
    "mean_bounds",
    "mean_ci",
    "mean_decide",
    "min_samples_for_upper_bound",
    "paired_ratio_test",
    "percentile",
    "percentile_ci",
    "percentile_ci_ranks",
    "ratio_verdict",
    "sequential_design",
    "unpaired_ratio_test",
    "upper_bound_rank",
]


def _check_unit(name: str, value: float, *, closed_right: bool = False) -> None:
    ok = 0.0 < value <= 1.0 if closed_right else 0.0 < value < 1.0
    if not ok:
        interval = "(0, 1]" if closed_right else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")


# --------------------------------------------------------------------------------------------
# Percentiles and order-statistic confidence intervals (docs/verdicts.md, intervals from ranks)
# --------------------------------------------------------------------------------------------


def percentile(sorted_ms: npt.ArrayLike, p: float) -> float:
    """Nearest-rank percentile ``X(ceil(n*p))`` of already sorted samples.

    Hyndman-Fan type 1, identical to ``numpy.quantile(x, p, method="inverted_cdf")``: it is
    always an observed latency and it is the point estimate the order-statistic CI brackets.
    The input is not re-sorted (callers keep one sorted copy for all percentiles).
    """
    x = np.asarray(sorted_ms, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError("percentile needs a non-empty 1-D array")
    _check_unit("p", p, closed_right=True)
    # Same float arithmetic as numpy's inverted_cdf, so the two agree bit for bit.
    rank = max(math.ceil(x.size * p), 1)
    return float(x[rank - 1])


def percentile_ci_ranks(n: int, p: float, confidence: float) -> tuple[int | None, int | None]:
    """1-based ranks ``(l, u)`` of the two-sided distribution-free CI ``[X(l), X(u)]`` of ``xi_p``.

    ``P[X(l) <= xi_p < X(u)] = P[l <= Bin(n, p) <= u - 1]``; each tail is kept at or below
    ``(1 - confidence) / 2`` with the tightest ranks, so coverage holds for any continuous
    distribution (conservative with ties). A side is None when no rank in 1..n satisfies its
    tail, i.e. there are too few samples for that bound.
    """
    _check_n(n)
    _check_unit("p", p)
    _check_unit("confidence", confidence)
    half = (1.0 - confidence) / 2.0
    ks = np.arange(n + 1)
    # Largest l with P[Bin <= l-1] <= half; smallest u with P[Bin >= u] <= half.
    lower = int(np.count_nonzero(binom.cdf(ks, n, p) <= half))
    upper = int(np.count_nonzero(binom.sf(ks, n, p) > half)) + 1
    return (lower if lower >= 1 else None, upper if upper <= n else None)


def upper_bound_rank(n: int, p: float, confidence: float) -> int | None:
    """Rank ``u`` of the one-sided upper confidence bound ``X(u)`` of ``xi_p``.

    Smallest ``u`` with ``P[Bin(n, p) <= u - 1] >= confidence``; None when that needs ``u > n``
    (fewer samples than Wilks' rule). ``X(u) <= limit`` is exactly the one-look PASS test.
    """
    _check_n(n)
    _check_unit("p", p)
    _check_unit("confidence", confidence)
    u = int(np.count_nonzero(binom.cdf(np.arange(n + 1), n, p) < confidence)) + 1
    return u if u <= n else None


def min_samples_for_upper_bound(p: float, confidence: float) -> int:
    """Wilks' rule: the fewest samples for which :func:`upper_bound_rank` exists (p95/95%: 59).

    The bound is ``X(n)`` once ``1 - p**n >= confidence``; the closed form is nudged by exact
    checks so float rounding in the logarithms cannot make it off by one.
    """
    _check_unit("p", p)
    _check_unit("confidence", confidence)
    n = max(1, math.ceil(math.log1p(-confidence) / math.log(p)))
    while n > 1 and upper_bound_rank(n - 1, p, confidence) is not None:
        n -= 1
    while upper_bound_rank(n, p, confidence) is None:
        n += 1
    return n


def percentile_ci(
    sorted_ms: npt.ArrayLike, p: float, confidence: float
) -> tuple[float | None, float | None]:
    """Latency values of the CI ranks from :func:`percentile_ci_ranks` (None where too few)."""
    x = np.asarray(sorted_ms, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError("percentile_ci needs a non-empty 1-D array")
    lower, upper = percentile_ci_ranks(x.size, p, confidence)
    return (
        None if lower is None else float(x[lower - 1]),
        None if upper is None else float(x[upper - 1]),
    )


# --------------------------------------------------------------------------------------------
# Mean (Student t) for mean limits
# --------------------------------------------------------------------------------------------


def _mean_and_se(samples: npt.ArrayLike) -> tuple[float, float, int]:
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2:
        raise ValueError("a t-interval of the mean needs at least 2 samples")
    return float(x.mean()), float(x.std(ddof=1)) / math.sqrt(x.size), int(x.size)


def mean_ci(samples: npt.ArrayLike, confidence: float) -> tuple[float, float]:
    """Two-sided Student-t CI of the mean; raises ValueError for fewer than 2 samples.

    Raising (rather than returning NaN) keeps a misconfigured one-sample run from silently
    producing an empty report line.
    """
    _check_unit("confidence", confidence)
    mean, se, n = _mean_and_se(samples)
    half = float(t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return mean - half, mean + half


def block_means(samples: npt.ArrayLike, block: int) -> FloatArray:
    """Means of consecutive blocks of `block` calls (an incomplete last block is dropped).

    Block means are much closer to normal than single skewed latencies and absorb short-range
    correlation between neighbouring calls, so t-intervals built on them hold their level.
    """
    values = np.asarray(samples, dtype=np.float64)
    count = values.size // block
    means: FloatArray = values[: count * block].reshape(count, block).mean(axis=1)
    return means


def mean_bounds(samples: npt.ArrayLike, alpha: float) -> tuple[float, float]:
    """One-sided ``1 - alpha`` lower and upper t-bounds of the mean (at least 2 samples)."""
    _check_unit("alpha", alpha)
    mean, se, n = _mean_and_se(samples)
    half = float(t.ppf(1.0 - alpha, n - 1)) * se
    return mean - half, mean + half


def mean_decide(samples: npt.ArrayLike, limit: float, alpha: float) -> Verdict | None:
    """Mean-limit verdict: PASS if the one-sided ``1 - alpha`` upper t-bound is below ``limit``.

    FAIL if the lower bound is above it, None (keep sampling) otherwise, including with fewer
    than 2 samples. Each wrong verdict has probability <= alpha at a single look when the true
    mean equals the limit (under approximate normality of the sample mean).
    """
    _check_unit("alpha", alpha)
    if np.asarray(samples).size < 2:
        return None
    lower, upper = mean_bounds(samples, alpha)
    if upper < limit:
        return Verdict.PASS
    if lower > limit:
        return Verdict.FAIL
    return None
    mean, se, n = _mean_and_se(samples)
    half = float(t.ppf(1.0 - alpha, n - 1)) * se
    if mean + half < limit:
        return Verdict.PASS
    if mean - half > limit:
        return Verdict.FAIL
    return None


# --------------------------------------------------------------------------------------------
# Group-sequential exact binomial test on exceedances (docs/verdicts.md, the verdict)
# --------------------------------------------------------------------------------------------


def _tails(looks: tuple[int, ...], q: float, floor: float) -> list[tuple[FloatArray, FloatArray]]:
    """Per look, ``(P[Bin(n,q) <= k], P[Bin(n,q) > k])`` for k = 0..K, with ``P[Bin > K] <= floor``.

    Truncating at K keeps every tail value above ``floor`` (all that boundaries at levels
    ``>= floor`` depend on) while the whole schedule costs two vectorised scipy calls.
    """
    ns = np.asarray(looks)
    sizes = np.minimum(ns, np.ceil(ns * q + 8.0 * np.sqrt(ns * q * (1.0 - q)) + 16.0)) + 1
    sizes = sizes.astype(np.int64)
    while True:
        ends = np.cumsum(sizes)
        ks = np.arange(ends[-1]) - np.repeat(ends - sizes, sizes)
        cdf = binom.cdf(ks, np.repeat(ns, sizes), q)
        sf = binom.sf(ks, np.repeat(ns, sizes), q)
        short = (sf[ends - 1] > floor) & (sizes <= ns)
        if not short.any():
            break
        sizes = np.where(short, np.minimum(ns + 1, 2 * sizes), sizes)
    return list(zip(np.split(cdf, ends[:-1]), np.split(sf, ends[:-1]), strict=True))


def _boundaries(
    tails: list[tuple[FloatArray, FloatArray]], alpha: float
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Per look: largest k with ``P[Bin <= k] <= alpha`` (-1: none) and smallest k with
    ``P[Bin >= k] <= alpha`` (n+1: none), the PASS and FAIL boundaries of ``decide``."""
    pass_max = tuple(int(np.count_nonzero(cdf <= alpha)) - 1 for cdf, _ in tails)
    fail_min = tuple(int(np.count_nonzero(sf > alpha)) + 1 for _, sf in tails)
    return pass_max, fail_min


def _run_paths(
    looks: tuple[int, ...],
    pass_max_k: tuple[int, ...],
    fail_min_k: tuple[int, ...],
    rate: float,
) -> tuple[float, float, float]:
    """Exact DP over binomial paths: ``(P(PASS), P(FAIL), E[calls until stop])``.

    ``state[k]`` is the probability of having seen k exceedances without having stopped. Between
    looks it is convolved with the Bin(step, rate) pmf; at a look the mass on either side of the
    boundaries is absorbed. Only the continuation region is kept, so each step is tiny.
    """
    state = np.ones(1)
    pmfs: dict[int, FloatArray] = {}
    p_pass = p_fail = expected = 0.0
    prev = 0
    for n, lo, hi in zip(looks, pass_max_k, fail_min_k, strict=True):
        step = n - prev
        if step not in pmfs:
            pmfs[step] = binom.pmf(np.arange(step + 1), step, rate)
        state = np.convolve(state, pmfs[step])
        passed = float(state[: lo + 1].sum()) if lo >= 0 else 0.0
        failed = float(state[hi:].sum())
        p_pass += passed
        p_fail += failed
        expected += n * (passed + failed)
        state = state[:hi].copy()
        state[: lo + 1] = 0.0
        prev = n
    expected += looks[-1] * float(state.sum())
    return p_pass, p_fail, expected


@dataclasses.dataclass(frozen=True)
class SequentialDesign:
    """Calibrated group-sequential test of "at most a fraction q of calls exceed the limit".

    At each look the exceedance count k is compared with exact binomial tails at the per-look
    level ``alpha_look``, chosen so that the overall false PASS and false FAIL probabilities
    (true exceedance rate exactly q) both stay within ``1 - confidence``.
    """

    p: float
    confidence: float
    looks: tuple[int, ...]
    alpha_look: float
    pass_max_k: tuple[int, ...]
    fail_min_k: tuple[int, ...]

    @property
    def q(self) -> float:
        """Allowed fraction of calls above the limit."""
        return 1.0 - self.p

    def decide(self, n: int, k: int) -> Verdict | None:
        """Verdict after ``k`` exceedances in ``n`` calls, or None to keep sampling.

        Uses the same tail test as the looks, so it also serves a final look at a time cap.
        """
        if not 0 <= k <= n:
            raise ValueError(f"need 0 <= k <= n, got n={n}, k={k}")
        if float(binom.cdf(k, n, self.q)) <= self.alpha_look:
            return Verdict.PASS
        if float(binom.sf(k - 1, n, self.q)) <= self.alpha_look:
            return Verdict.FAIL
        return None

    def bounds(self, n: int) -> tuple[int, int]:
        """``(pass_max_k, fail_min_k)`` after ``n`` calls: PASS with at most ``pass_max_k``
        exceedances, FAIL with at least ``fail_min_k`` (-1 / n+1: not possible at n).

        The looks' own boundaries where ``n`` is a look, else the same tail test at any ``n``
        (a final look cut short by a time cap), exactly as :meth:`decide` applies it.
        """
        _check_n(n)
        if n in self._look_index:
            i = self._look_index[n]
            return self.pass_max_k[i], self.fail_min_k[i]
        ks = np.arange(n + 1)
        pass_max = int(np.count_nonzero(binom.cdf(ks, n, self.q) <= self.alpha_look)) - 1
        fail_min = int(np.count_nonzero(binom.sf(ks - 1, n, self.q) > self.alpha_look))
        return pass_max, fail_min

    @functools.cached_property
    def _look_index(self) -> dict[int, int]:
        return {n: i for i, n in enumerate(self.looks)}

    def error_rates(self) -> tuple[float, float]:
        """Exact ``(P(false PASS), P(false FAIL))`` when the true exceedance rate is exactly q."""
        p_pass, p_fail, _ = _run_paths(self.looks, self.pass_max_k, self.fail_min_k, self.q)
        return p_pass, p_fail


@functools.lru_cache(maxsize=64)
def sequential_design(
    p: float,
    confidence: float = 0.95,
    look_every: int | None = None,
    n_max: int | None = None,
) -> SequentialDesign:
    """Calibrate the sequential test: the largest ``alpha_look`` keeping both errors <= 1-conf.

    Bonferroni (``(1 - confidence) / len(looks)``) is valid but far too strict. The exact error
    rates only change when ``alpha`` crosses a binomial tail value at some look, so the search is
    a bisection over those candidate values (starting from the always-valid Bonferroni level);
    the returned ``alpha_look`` is the tail value that defines the chosen boundaries.
    Defaults: a look every 20 calls up to 2000 when ``q >= 0.05`` (p95), else every ``1/q``
    calls up to 50 looks (p99: 100..5000).
    """
    _check_unit("p", p)
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence!r}")
    q = 1.0 - p
    if look_every is None:
        look_every = 20 if q >= 0.05 else math.ceil(1.0 / q - 1e-9)
    if n_max is None:
        n_max = 2000 if look_every == 20 else 50 * look_every
    if look_every < 1 or n_max < look_every:
        raise ValueError(f"need 1 <= look_every <= n_max, got {look_every}, {n_max}")
    looks = tuple(range(look_every, n_max + 1, look_every))
    if looks[-1] != n_max:
        looks += (n_max,)

    target = 1.0 - confidence
    floor = target / len(looks)  # Bonferroni: both errors <= len(looks) * floor = target
    tails = _tails(looks, q, floor)
    values = np.concatenate([np.concatenate(pair) for pair in tails])
    candidates = np.unique(np.append(values[(values > floor) & (values <= target)], floor))

    def feasible(alpha: float) -> bool:
        p_pass, p_fail, _ = _run_paths(looks, *_boundaries(tails, alpha), q)
        return max(p_pass, p_fail) <= target

    lo, hi = 0, candidates.size  # candidates[lo] is feasible; from hi on they are not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(float(candidates[mid])):
            lo = mid
        else:
            hi = mid
    alpha = float(candidates[lo])
    pass_max_k, fail_min_k = _boundaries(tails, alpha)
    return SequentialDesign(p, confidence, looks, alpha, pass_max_k, fail_min_k)


def expected_calls_to_verdict(
    design: SequentialDesign, true_rate: float
) -> tuple[float, float, float, float]:
    """Exact ``(P(PASS), P(FAIL), P(INCONCLUSIVE), E[calls until stopping])`` at a true rate.

    Tells users how long a clearly passing or failing test runs (INCONCLUSIVE stops at n_max).
    """
    if not 0.0 <= true_rate <= 1.0:
        raise ValueError(f"true_rate must be in [0, 1], got {true_rate!r}")
    p_pass, p_fail, expected = _run_paths(
        design.looks, design.pass_max_k, design.fail_min_k, true_rate
    )
    return p_pass, p_fail, max(0.0, 1.0 - p_pass - p_fail), expected


# --------------------------------------------------------------------------------------------
# Ratio tests between a baseline and a candidate (docs/regressions.md)
# --------------------------------------------------------------------------------------------
#
# The unit of every test below is a *block* of consecutive calls, never a single call: calls of
# one process are autocorrelated and share the machine's drift, so tests that treat them as
# independent raise false alarms many times their nominal rate (docs/regressions.md, "Why not
# just compare two numbers?").


@dataclasses.dataclass(frozen=True)
class RatioTest:
    """Candidate/baseline ratio of a block statistic, its CI and both one-sided p-values.

    ``p_greater`` tests "the candidate's statistic is larger" (slower, for a latency),
    ``p_less`` the opposite. ``n`` is the number of pairs (paired test) or the smaller number
    of blocks of the two sides (unpaired test).
    """

    ratio: float
    ci: tuple[float, float]
    confidence: float
    p_greater: float
    p_less: float
    n: int
    method: str

    def to_dict(self) -> dict[str, object]:
        return {
            "ratio": self.ratio,
            "ci": list(self.ci),
            "confidence": self.confidence,
            "p_greater": self.p_greater,
            "p_less": self.p_less,
            "n": self.n,
            "method": self.method,
        }


def _log_positive(name: str, values: npt.ArrayLike) -> FloatArray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size and not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ValueError(f"{name} must be finite and positive to take a ratio")
    return np.log(x)


def _t_result(
    mean: float, se: float, df: float, n: int, confidence: float, method: str
) -> RatioTest:
    """RatioTest from a mean log-ratio, its standard error and Student-t degrees of freedom.

    A zero standard error (identical blocks) gives a degenerate interval and p-values of 0 or 1
    according to the sign of the mean, and 1 both ways when nothing changed at all.
    """
    ratio = math.exp(mean)
    if se == 0.0:
        p_greater = 0.0 if mean > 0 else 1.0
        p_less = 0.0 if mean < 0 else 1.0
        return RatioTest(ratio, (ratio, ratio), confidence, p_greater, p_less, n, method)
    tval = mean / se
    half = float(t.ppf(0.5 + confidence / 2.0, df)) * se
    return RatioTest(
        ratio,
        (math.exp(mean - half), math.exp(mean + half)),
        confidence,
        float(t.sf(tval, df)),
        float(t.cdf(tval, df)),
        n,
        method,
    )


def paired_ratio_test(
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    method: str = "t",
) -> RatioTest:
    """Paired test on ``d_i = ln(candidate_i / baseline_i)`` over blocks measured side by side.

    The ratio estimate is ``exp(mean d)`` (a geometric mean of the per-pair ratios) with a
    Student-t interval. ``method="wilcoxon"`` takes the p-values from the signed-rank test
    instead (robust to one wild pair; the interval stays the t interval). Pairing cancels what
    the two blocks of a pair share: the machine's speed at that moment.
    """
    _check_unit("confidence", confidence)
    if method not in ("t", "wilcoxon"):
        raise ValueError(f"method must be 't' or 'wilcoxon', got {method!r}")
    a = _log_positive("baseline", baseline)
    b = _log_positive("candidate", candidate)
    if a.size != b.size:
        raise ValueError(f"paired blocks differ in number: {a.size} and {b.size}")
    if a.size < 2:
        raise ValueError("a paired ratio test needs at least 2 pairs")
    d = b - a
    mean = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(d.size)
    result = _t_result(mean, se, d.size - 1, int(d.size), confidence, "paired t on log ratios")
    if method == "t":
        return result
    if not np.any(d != 0):
        greater = less = 1.0
    else:
        greater = float(wilcoxon(d, alternative="greater").pvalue)
        less = float(wilcoxon(d, alternative="less").pvalue)
    return dataclasses.replace(
        result, p_greater=greater, p_less=less, method="Wilcoxon signed-rank on log ratios"
    )


def unpaired_ratio_test(
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    run_sd: float = 0.0,
    run_df: float | None = None,
) -> RatioTest:
    """Welch test on the log block statistics of two runs measured apart (a stored baseline).

    ``exp(mean ln candidate - mean ln baseline)`` is the ratio of geometric means. The blocks
    show the spread *within* each run; they cannot show a whole run being slower than usual
    (another job, another machine state). ``run_sd`` adds that run-to-run spread (standard
    deviation of a run's log statistic) to both sides; ``run_df`` is its degrees of freedom when
    it was estimated from earlier runs (None: taken as known). Degrees of freedom of the sum
    follow Welch-Satterthwaite.
    """
    _check_unit("confidence", confidence)
    if not (math.isfinite(run_sd) and run_sd >= 0):
        raise ValueError(f"run_sd must be a finite number >= 0, got {run_sd!r}")
    if run_df is not None and not run_df > 0:
        raise ValueError(f"run_df must be positive, got {run_df!r}")
    a = _log_positive("baseline", baseline)
    b = _log_positive("candidate", candidate)
    if a.size < 2 or b.size < 2:
        raise ValueError("an unpaired ratio test needs at least 2 blocks on each side")
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    vr = 2.0 * run_sd**2
    se = math.sqrt(va + vb + vr)
    spread = va**2 / (a.size - 1) + vb**2 / (b.size - 1)
    spread += 0.0 if run_df is None else vr**2 / run_df
    df = (va + vb + vr) ** 2 / spread if spread > 0 else math.inf
    mean = float(b.mean() - a.mean())
    n = int(min(a.size, b.size))
    method = "Welch t on log block statistics"
    if run_sd > 0:
        method += f" + run-to-run spread {run_sd:.3f}"
    return _t_result(mean, se, df, n, confidence, method)


def holm_adjust(pvalues: npt.ArrayLike) -> list[float]:
    """Holm step-down adjusted p-values: reject those ``<= alpha`` at family-wise level alpha.

    Valid under any dependence between the tests (p50, p95 and throughput of one test are
    strongly dependent), and uniformly more powerful than Bonferroni.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    if p.size == 0:
        return []
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must be in [0, 1]")
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return [float(x) for x in adjusted]


def block_view(samples: npt.ArrayLike, block_size: int) -> FloatArray:
    """Consecutive, non-overlapping blocks of ``block_size`` samples as rows; the tail is dropped.

    Samples must be in measurement order: blocks of neighbouring calls are what carry the
    machine's drift, so a shuffled sample would hide exactly what the block tests account for.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size!r}")
    x = np.asarray(samples, dtype=np.float64).ravel()
    count = x.size // block_size
    return x[: count * block_size].reshape(count, block_size)


def block_percentiles(samples: npt.ArrayLike, block_size: int, p: float) -> FloatArray:
    """Nearest-rank percentile of each block of :func:`block_view` (same estimator as reports)."""
    _check_unit("p", p, closed_right=True)
    blocks = block_view(samples, block_size)
    if blocks.shape[0] == 0:
        return np.empty(0)
    rank = max(math.ceil(block_size * p), 1)
    return np.sort(blocks, axis=1)[:, rank - 1].copy()


def ratio_verdict(
    test: RatioTest,
    *,
    tolerance: float,
    alpha: float,
    higher_is_worse: bool = True,
    p_worse: float | None = None,
    p_better: float | None = None,
    p_high: float | None = None,
) -> str:
    """``"regression"``, ``"improvement"``, ``"same"`` or ``"unknown"`` for a ratio test.

    A change counts only when it is significant (one-sided ``p < alpha``) *and* beyond the
    tolerance (``ratio > 1 + tolerance`` in the worse direction, ``< 1 - tolerance`` in the
    better), so small real changes and large noisy ones never gate. ``unknown``: the estimate is
    beyond the tolerance without being significant, or (with ``p_high``, Pinpoint's grey zone)
    the p-value is at most ``p_high`` and the interval still reaches past the tolerance, or the
    interval reaches past it on both sides (too wide to call anything the same) — the cases
    where more blocks could change the answer. ``p_worse``/``p_better`` override the
    test's own one-sided p-values (e.g. after a Holm adjustment).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    _check_unit("alpha", alpha)
    up, down = 1.0 + tolerance, 1.0 - tolerance
    lo, hi = test.ci
    if higher_is_worse:
        pw = test.p_greater if p_worse is None else p_worse
        pb = test.p_less if p_better is None else p_better
        worse, better = test.ratio > up, test.ratio < down
        ci_worse, ci_better = hi > up, lo < down
    else:
        pw = test.p_less if p_worse is None else p_worse
        pb = test.p_greater if p_better is None else p_better
        worse, better = test.ratio < down, test.ratio > up
        ci_worse, ci_better = lo < down, hi > up
    if worse and pw < alpha:
        return "regression"
    if better and pb < alpha:
        return "improvement"
    if worse or better:
        return "unknown"
    if p_high is not None and (
        (pw <= p_high and ci_worse) or (pb <= p_high and ci_better) or (ci_worse and ci_better)
    ):
        return "unknown"  # a grey-zone p-value, or an interval too wide to call it the same
    return "same"
