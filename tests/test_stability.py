"""Verdicts and intervals across runs, on seeded synthetic streams shaped like a shared machine.

Each synthetic "run" has its own speed (a run-level factor), slow spells that last several calls
(clustered slow calls) and a speed that drifts from window to window. The long-run p95 is the
p95 of a very long stream of the same process. No test sleeps or reads a real clock.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_mlperf import Benchmarker, Limit, stability, stats
from pytest_mlperf.stability import (
    bounds_from_counts,
    contention_factor,
    cpu_share,
    design_effect,
    measure,
    percentile_interval,
    side_spread,
    speed_drift,
)


def shared_machine_stream(
    rng: np.random.Generator,
    n: int,
    *,
    median_ms: float = 4.0,
    run_sd: float = 0.08,
    spell_rate: float = 0.003,
    spell_calls: int = 10,
    spell_factor: float = 2.5,
    drift_sd: float = 0.05,
) -> np.ndarray:
    """Latencies (ms) of one process: its own speed (log-sd ``run_sd``), slow spells of about
    ``spell_calls`` calls, and a speed that drifts between windows of 20 calls (a stationary
    AR(1) in log space with sd ``drift_sd``)."""
    run_factor = np.exp(rng.normal(0.0, run_sd))
    base = median_ms * run_factor * np.exp(rng.normal(0.0, 0.15, n))
    slow = np.zeros(n, dtype=bool)
    for start in np.flatnonzero(rng.random(n) < spell_rate):
        slow[start : start + rng.geometric(1.0 / spell_calls)] = True
    windows = n // 20 + 1
    level = np.empty(windows)
    level[0] = rng.normal(0.0, drift_sd)
    for i in range(1, windows):
        level[i] = 0.9 * level[i - 1] + rng.normal(0.0, drift_sd * np.sqrt(1 - 0.81))
    out: np.ndarray = base * np.where(slow, spell_factor, 1.0) * np.repeat(np.exp(level), 20)[:n]
    return out


@functools.lru_cache(maxsize=8)
def long_run_p95(seed: int = 999, **shape: float) -> float:
    """The p95 of 100 separate long processes pooled: what a long bare loop converges to."""
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([shared_machine_stream(rng, 3000, **shape) for _ in range(100)])  # type: ignore[arg-type]
    return stats.percentile(np.sort(pooled), 0.95)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class Replay:
    """A model whose calls take the next latency of a recorded stream (on the fake clock)."""

    def __init__(self, clock: FakeClock, samples_ms: np.ndarray) -> None:
        self.clock, self.samples, self.i = clock, samples_ms, 0

    def predict(self, batch: Any) -> None:
        self.clock.now += int(self.samples[self.i % len(self.samples)] * 1e6)
        self.i += 1


X = np.zeros((64, 2))


def run_once(samples_ms: np.ndarray, limits: list[Limit], **options: Any) -> Any:
    clock = FakeClock()
    settings: dict[str, Any] = {"warmup": 0, "warmup_time": 0, "max_time": 1e6, **options}
    bench = Benchmarker(measure_memory=False, clock=clock, **settings)
    return bench.benchmark(Replay(clock, samples_ms), X, limits=limits)


def test_independent_calls_keep_the_exact_bounds() -> None:
    rng = np.random.default_rng(1)
    streams = [rng.lognormal(0, 0.3, 400) for _ in range(200)]
    clusterings = [design_effect(x, float(np.quantile(x, 0.95))) for x in streams]
    # the dispersion test lets through about its level's share of chance rejections
    assert np.mean(np.asarray(clusterings) == 1.0) >= 0.85


def test_clustered_slow_calls_raise_the_design_effect() -> None:
    rng = np.random.default_rng(2)
    values = []
    for _ in range(20):
        x = shared_machine_stream(rng, 1000, spell_rate=0.004, spell_calls=25, drift_sd=0.0)
        values.append(design_effect(x, stats.percentile(np.sort(x), 0.95)))
    assert np.median(values) > 3.0


def test_speed_drift_is_measured_and_zero_without_it() -> None:
    rng = np.random.default_rng(3)
    steady = [speed_drift(rng.lognormal(0, 0.3, 1000)) for _ in range(20)]
    assert np.median(steady) < 0.02
    drifting = [
        speed_drift(shared_machine_stream(rng, 1000, spell_rate=0.0, drift_sd=0.05))
        for _ in range(20)
    ]
    # a log-speed of sd 0.05 that moves slowly between windows; windows of 100 average it a bit
    assert 0.02 < np.median(drifting) < 0.1


def runs(min_calls: int) -> st.SearchStrategy[tuple[np.ndarray, float]]:
    """Sorted seeded log-normal calls (``min_calls`` to 600) and a percentile to bound."""
    shape = st.tuples(
        st.integers(min_value=min_calls, max_value=600),
        st.integers(min_value=0, max_value=2**32 - 1),
        st.sampled_from([0.5, 0.9, 0.95, 0.99]),
    )
    return shape.map(lambda t: (np.sort(np.random.default_rng(t[1]).lognormal(0, 0.5, t[0])), t[2]))


@settings(max_examples=200, deadline=None)
@given(run=runs(20), limit_quantile=st.floats(min_value=0.01, max_value=0.999))
def test_without_clustering_or_run_spread_the_bounds_are_the_exact_test(
    run: tuple[np.ndarray, float], limit_quantile: float
) -> None:
    ordered, p = run
    n = len(ordered)
    limit = float(np.quantile(ordered, limit_quantile))
    design = stats.sequential_design(p, 0.95)
    lower, upper = bounds_from_counts(ordered, p, design.bounds, 1.0, 0.0, 1.96)
    exact = design.decide(n, int(np.count_nonzero(ordered > limit)))
    ours = (
        stats.Verdict.PASS
        if upper is not None and upper <= limit
        else stats.Verdict.FAIL
        if lower is not None and lower > limit
        else None
    )
    assert ours == exact


@settings(max_examples=200, deadline=None)
@given(run=runs(100), clustering=st.floats(min_value=1.0, max_value=30.0))
def test_clustering_never_narrows_the_bounds_of_independent_calls(
    run: tuple[np.ndarray, float], clustering: float
) -> None:
    """From ranks of n / D calls, or the delta method where those run out: a clustered run's
    bounds are never inside the exact ones, and a bound beyond every rank lies beyond the
    slowest (fastest) call."""
    ordered, p = run
    n = len(ordered)
    design = stats.sequential_design(p, 0.95)
    lower, upper = bounds_from_counts(ordered, p, design.bounds, 1.0, 0.0, 1.96)
    c_lower, c_upper = bounds_from_counts(ordered, p, design.bounds, clustering, 0.0, 1.96)
    if upper is not None:
        assert c_upper is not None and c_upper >= upper
    if lower is not None and c_lower is not None:
        assert c_lower <= lower
    effective = max(1, int(n / clustering))
    pass_max_k, fail_min_k = design.bounds(effective)
    if pass_max_k < 0 and c_upper is not None:  # no rank of n / D calls: the delta method
        assert c_upper >= ordered[-1]
    if fail_min_k > effective and c_lower is not None:
        assert c_lower <= ordered[0]


def test_where_no_rank_is_far_enough_the_bound_is_the_delta_methods() -> None:
    """100 calls that count as 10: no order statistic bounds the p95, so the exact bound of
    100 independent calls is moved sqrt(10) times as far from the estimate."""
    ordered = np.sort(np.random.default_rng(11).lognormal(0, 0.3, 100))
    design = stats.sequential_design(0.95, 0.95)
    assert design.bounds(10)[0] < 0  # 10 independent calls cannot PASS a p95
    _, exact = bounds_from_counts(ordered, 0.95, design.bounds, 1.0, 0.0, 1.96)
    _, upper = bounds_from_counts(ordered, 0.95, design.bounds, 10.0, 0.0, 1.96)
    estimate = stats.percentile(ordered, 0.95)
    assert exact is not None and upper is not None
    expected = max(float(ordered[-1]), estimate + np.sqrt(10) * (exact - estimate))
    assert upper == pytest.approx(expected)


def test_bounds_at_a_look_are_the_designs_own_boundaries() -> None:
    design = stats.sequential_design(0.95, 0.95)
    for i in (0, 4, 10, len(design.looks) - 1):
        n = design.looks[i]
        # recomputed from alpha_look at any n, equal to the calibrated table at the looks
        assert design.bounds(n) == (design.pass_max_k[i], design.fail_min_k[i])
        object.__setattr__(design, "_look_index", {})  # force the recomputation path
        assert design.bounds(n) == (design.pass_max_k[i], design.fail_min_k[i])
        del design.__dict__["_look_index"]


def test_run_spread_widens_in_log_space_and_zero_is_exact() -> None:
    x = np.random.default_rng(4).lognormal(0, 0.3, 500)
    exact = stats.percentile_ci(np.sort(x), 0.95, 0.95)
    assert percentile_interval(x, 0.95, 0.95, 0.0) == exact
    lo, hi = percentile_interval(x, 0.95, 0.95, 0.15)
    assert lo is not None and hi is not None and exact[0] is not None and exact[1] is not None
    estimate = stats.percentile(np.sort(x), 0.95)
    assert lo < exact[0] and hi > exact[1]
    # at least the run spread alone: exp(+-1.96 * 0.15) around the estimate
    assert hi >= estimate * np.exp(1.96 * 0.15) * 0.999
    assert lo <= estimate * np.exp(-1.96 * 0.15) * 1.001


def test_the_stated_spread_counts_more_on_the_side_where_a_run_errs_most() -> None:
    drift = 0.1
    run_spread = float(np.hypot(0.15, drift))
    wide = pytest.approx(np.hypot(0.225, drift))
    for p in (0.9, 0.95, 0.99):  # the tail reads low: wide above the estimate
        assert side_spread(p, run_spread, 0.15, up=True) == wide
        assert side_spread(p, run_spread, 0.15, up=False) == run_spread
    # the median reads high: wide below it
    assert side_spread(0.5, run_spread, 0.15, up=False) == wide
    assert side_spread(0.5, run_spread, 0.15, up=True) == run_spread
    for up in (True, False):  # the mean, which holds both, is symmetric
        assert side_spread(None, run_spread, 0.15, up=up) == run_spread
    assert side_spread(0.95, run_spread, 0.0, up=True) == run_spread  # nothing stated
    x = np.random.default_rng(4).lognormal(0, 0.3, 500)
    for p, down, up in ((0.95, 0.15, 0.225), (0.5, 0.225, 0.15)):
        estimate = stats.percentile(np.sort(x), p)
        lo, hi = percentile_interval(x, p, 0.95, 0.15, stated=0.15)
        assert lo is not None and hi is not None
        assert lo <= estimate * np.exp(-1.96 * down) * 1.001
        assert hi >= estimate * np.exp(1.96 * up) * 0.999
        symmetric = percentile_interval(x, p, 0.95, 0.15)
        assert symmetric[0] is not None and symmetric[1] is not None
        assert (lo < symmetric[0]) == (p == 0.5) and (hi > symmetric[1]) == (p == 0.95)


@settings(max_examples=200, deadline=None)
@given(
    p=st.sampled_from([None, 0.5, 0.9, 0.95, 0.99]),
    stated=st.floats(min_value=0.0, max_value=2.0),
    drift=st.floats(min_value=0.0, max_value=2.0),
)
def test_one_side_is_wide_and_the_other_is_the_run_spread(
    p: float | None, stated: float, drift: float
) -> None:
    run_spread = float(np.hypot(stated, drift))
    up = side_spread(p, run_spread, stated, up=True)
    down = side_spread(p, run_spread, stated, up=False)
    assert min(up, down) == run_spread
    wide = run_spread if p is None else np.hypot(1.5 * stated, drift)  # the mean: symmetric
    assert max(up, down) == pytest.approx(wide)


def phased_machine_stream(rng: np.random.Generator, n: int) -> np.ndarray:
    """A machine whose slow phases last longer than a run: one run in four meets one, and
    in it slow spells come forty times as often as in a quiet run. The long run mixes both."""
    slow = rng.random() < 0.25
    return shared_machine_stream(rng, n, spell_rate=0.02 if slow else 0.0005, spell_factor=2.0)


def test_runs_that_miss_the_slow_phases_still_cover_the_long_run_p95() -> None:
    """Most runs meet no slow phase and read the tail low: the interval's wider upper side
    covers the long run, where a symmetric one misses more often."""
    rng = np.random.default_rng(999)
    pooled = np.concatenate([phased_machine_stream(rng, 3000) for _ in range(300)])
    truth = stats.percentile(np.sort(pooled), 0.95)
    rng = np.random.default_rng(1)
    covered = symmetric = low = 0
    for _ in range(40):
        result = run_once(phased_machine_stream(rng, 400), [])
        samples = np.asarray(result.samples_ms)
        lo, hi = result.ci["p95"]
        covered += (lo is None or lo <= truth) and (hi is None or truth <= hi)
        slo, shi = percentile_interval(samples, 0.95, 0.95, result.stability.run_spread)
        symmetric += (slo is None or slo <= truth) and (shi is None or truth <= shi)
        low += stats.percentile(np.sort(samples), 0.95) < truth
    assert low >= 30  # the shape this test is about: most runs read the tail low
    assert covered >= 38
    assert symmetric < covered


def test_intervals_cover_the_long_run_p95_across_runs() -> None:
    """The reported 95% interval of p95 holds the long-run p95 in at least 9 of 10 runs."""
    truth = long_run_p95()
    rng = np.random.default_rng(5)
    covered = exact_covered = 0
    for _ in range(40):
        x = shared_machine_stream(rng, 400)
        lo, hi = run_once(x, []).ci["p95"]  # None: too few effective calls for that side
        covered += (lo is None or lo <= truth) and (hi is None or truth <= hi)
        elo, ehi = stats.percentile_ci(np.sort(x), 0.95, 0.95)
        exact_covered += elo is not None and ehi is not None and elo <= truth <= ehi
    assert covered >= 36  # 9 in 10
    assert exact_covered < covered  # the exact interval for independent calls misses more


def verdicts_over_runs(factor: float, runs: int = 32, seed: int = 6) -> list[str]:
    """The verdict on a p95 limit at ``factor`` x the long-run p95 in separate seeded runs."""
    truth = long_run_p95()
    rng = np.random.default_rng(seed)
    limits = [Limit("p95", factor * truth)]
    streams = [shared_machine_stream(rng, 3000) for _ in range(runs)]
    return [run_once(x, limits).checks[0].verdict for x in streams]


@pytest.mark.parametrize("factor", [0.85, 1.2])
def test_limits_near_the_long_run_p95_never_flip(factor: float) -> None:
    verdicts = verdicts_over_runs(factor)
    assert not ("pass" in verdicts and "fail" in verdicts), verdicts


def test_without_the_stability_terms_the_same_limits_flip() -> None:
    """The exact test for independent calls, on the same runs, says PASS and FAIL."""
    truth = long_run_p95()
    rng = np.random.default_rng(6)
    verdicts = []
    for _ in range(32):
        x = shared_machine_stream(rng, 3000)
        design = stats.sequential_design(0.95, 0.95)
        verdict = None
        for n in design.looks:
            verdict = design.decide(n, int(np.count_nonzero(x[:n] > 1.2 * truth)))
            if verdict is not None:
                break
        verdicts.append(verdict)
    assert stats.Verdict.PASS in verdicts and stats.Verdict.FAIL in verdicts


@pytest.mark.parametrize(("factor", "expected"), [(0.6, "fail"), (1.7, "pass")])
def test_clear_limits_stay_decided(factor: float, expected: str) -> None:
    verdicts = verdicts_over_runs(factor)
    # 31 and 27 of 32 on this seed (docs/verdicts.md); a run whose own window was slow stays
    # INCONCLUSIVE
    assert verdicts.count(expected) >= 26, verdicts
    assert set(verdicts) <= {expected, "inconclusive"}


@pytest.mark.parametrize(("factor", "expected"), [(0.2, "pass"), (4.0, "fail")])
def test_far_limits_are_decided_within_300_calls(factor: float, expected: str) -> None:
    """A model at 0.2x or 4x its limit: the limit is 5x or 1/4 of the long-run p95."""
    truth = long_run_p95()
    rng = np.random.default_rng(8)
    for _ in range(8):
        check = run_once(shared_machine_stream(rng, 3000), [Limit("p95", truth / factor)]).checks[0]
        assert check.verdict == expected
        assert check.n <= 300


def test_far_limits_are_decided_quickly_when_slow_calls_cluster() -> None:
    """Slow spells of about 25 calls take one call in ten: 100 calls count as a handful of
    independent ones, too few for any rank to bound a p95. A model at 0.2x its limit still
    PASSes within 300 calls (one run in 16 needed 520 when such runs had no upper bound)."""
    shape = {"spell_rate": 0.004, "spell_calls": 25}
    truth = long_run_p95(**shape)
    rng = np.random.default_rng(8)
    for _ in range(16):
        x = shared_machine_stream(rng, 3000, **shape)  # type: ignore[arg-type]
        check = run_once(x, [Limit("p95", 5 * truth)]).checks[0]
        assert check.verdict == "pass"
        assert check.n <= 300


@pytest.mark.parametrize("seed", [12, 14, 15, 16])
def test_a_slow_start_does_not_fail_a_p99_limit_the_run_meets(seed: int) -> None:
    """Slow calls in the first 100 are one or two above a p99 per window: their clustering
    cannot be seen yet, and deciding there FAILed a limit 1.2x the run's own p99 (recorded
    hours too, section 11). No p99 verdict comes before 300 calls; a model 4x over its limit
    still FAILs there."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 0.1, 3000)
    truth = float(np.percentile(x, 99))
    x[:20] *= 1.2  # a slow start ...
    x[[0, 1, 2, 12, 17, 41, 60, 82, 85]] *= 1.8  # ... with slow calls in it
    near = run_once(x, [Limit("p99", 1.2 * truth)]).checks[0]
    far = run_once(x, [Limit("p99", truth / 4)]).checks[0]
    assert near.verdict != "fail"
    assert far.verdict == "fail"
    assert far.n == stability.min_calls(0.99) == 300


def test_unsteady_machine_says_so_in_the_message() -> None:
    x = np.random.default_rng(9).lognormal(0.0, 0.3, 400)
    ordered = np.sort(x)
    limit = stats.percentile(ordered, 0.99)  # far enough for the exact test to PASS at n=400
    assert run_once(x, [Limit("p95", limit)], run_spread=0.0).checks[0].verdict == "pass"
    check = run_once(x, [Limit("p95", limit)], run_spread=0.5, max_samples=400).checks[0]
    assert check.verdict == "inconclusive"
    assert "too unsteady" in check.message
    assert "run spread 50%, 75% above the estimate" in check.message  # the tail's wide side
    assert "model_bench.ab" in check.message and "--mlperf-max-time" in check.message


def test_stability_figures_reach_the_result_and_its_record() -> None:
    rng = np.random.default_rng(10)
    result = run_once(shared_machine_stream(rng, 400, drift_sd=0.05), [])
    assert result.stability is not None
    record = result.to_record()["stability"]
    assert set(record) == {
        *("speed_drift", "clustering", "run_spread", "windows", "cpu_share"),
        *("cpu_ms", "cpu_windows_ms", "probe_ms", "probe_windows_ms", "probe_version"),
    }
    assert record["cpu_ms"] is None and record["probe_ms"] is None  # a fake clock: no readings
    assert record["run_spread"] >= 0.15
    assert "speed drift" in str(result)
    assert measure(np.array([]), 0.15).run_spread == 0.15


def test_a_time_cap_too_short_for_any_verdict_says_what_it_needs() -> None:
    """50 ms calls and a 1 s cap: 21 calls, and a p95 PASS needs 100 of them (5 s)."""
    check = run_once(np.full(500, 50.0), [Limit("p95", 1000.0)], max_time=1.0).checks[0]
    assert check.verdict == "inconclusive"
    assert "a PASS needs at least 100 calls, about 5 s of calls here" in check.message
    assert "--mlperf-max-time=6" in check.message


@pytest.mark.parametrize("metric", ["mean", "throughput"])
def test_mean_and_throughput_limits_allow_for_the_run_spread(metric: str) -> None:
    """A steady model 20% inside its mean (or throughput) limit: decided for one run's window
    alone, INCONCLUSIVE once the run spread is allowed for."""
    x = np.random.default_rng(11).lognormal(np.log(4.0), 0.2, 2000)
    mean_ms = float(x.mean())
    limit = (
        Limit("mean", mean_ms * 1.2)
        if metric == "mean"
        else Limit("throughput", 1000 / mean_ms / 1.2)
    )
    assert run_once(x, [limit], run_spread=0.0).checks[0].verdict == "pass"
    check = run_once(x, [limit], run_spread=0.15).checks[0]
    assert check.verdict == "inconclusive"
    lo, hi = check.ci  # the printed interval holds the limit, so it agrees with the verdict
    assert lo is not None and hi is not None and lo <= limit.value <= hi


def test_cpu_share_counts_only_windows_where_the_scheduler_took_the_cpu() -> None:
    ms = 1_000_000
    # (process CPU ns, wall ns, involuntary switches) at the ends of 4 windows of 10 ms wall
    stamps = [(0, 0, 0), (5 * ms, 10 * ms, 3), (10 * ms, 20 * ms, 6), (10 * ms, 30 * ms, 6)]
    stamps.append((20 * ms, 40 * ms, 6))
    windows = [(a, b, 20) for a, b in itertools.pairwise(stamps)]
    # preempted windows held the CPU half the time; the third waited on its own (no switch)
    assert cpu_share(windows) == 0.75  # the median of [0.5, 0.5, 1.0, 1.0]
    assert cpu_share([]) is None
    two_threads = [((0, 0, 0), (20 * ms, 10 * ms, 1), 20)]  # two BLAS threads: more CPU
    assert cpu_share(two_threads) == 1.0


def test_contention_lowers_only_the_lower_bounds() -> None:
    assert contention_factor(None) == 1.0 == contention_factor(1.0) == contention_factor(0.95)
    assert contention_factor(0.5) < contention_factor(0.8) < 1.0
    assert contention_factor(0.7) == pytest.approx((0.7 / 0.95) ** 3)
    x = np.random.default_rng(12).lognormal(0, 0.3, 500)
    ordered = np.sort(x)
    design = stats.sequential_design(0.95, 0.95)
    clean = bounds_from_counts(ordered, 0.95, design.bounds, 1.0, 0.15, 1.96)
    contended = bounds_from_counts(
        ordered, 0.95, design.bounds, 1.0, 0.15, 1.96, contention_factor(0.7)
    )
    assert clean[0] is not None and contended[0] is not None
    assert contended[0] == pytest.approx(clean[0] * (0.7 / 0.95) ** 3)
    assert contended[1] == clean[1]  # a contended run's figures are never too low


def test_a_real_run_records_its_cpu_share() -> None:
    """Without a test clock the loop reads the CPU clocks between windows."""
    result = Benchmarker(measure_memory=False, samples=200).benchmark(lambda b: sum(range(200)), X)
    assert result.stability is not None and result.stability.cpu_share is not None
    assert 0.0 < result.stability.cpu_share <= 1.0
    assert result.to_record()["stability"]["cpu_share"] == result.stability.cpu_share
