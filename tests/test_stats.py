"""Tests for pytest_mlperf.stats: the research notes' worked numbers, properties, simulations."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import binom, norm
from scipy.stats import t as student_t

from pytest_mlperf.results import Check, RunVerdict
from pytest_mlperf.stats import (
    SequentialDesign,
    Verdict,
    expected_calls_to_verdict,
    mean_ci,
    mean_decide,
    min_samples_for_upper_bound,
    percentile,
    percentile_ci,
    percentile_ci_ranks,
    sequential_design,
    upper_bound_rank,
)

PROPERTY = settings(max_examples=150, deadline=None, database=None)


def design_at(p: float, looks: tuple[int, ...], alpha: float) -> SequentialDesign:
    """A design with boundaries derived independently from the rule in the research notes."""
    q = 1.0 - p
    pass_max, fail_min = [], []
    for n in looks:
        ks = np.arange(n + 1)
        passing = ks[binom.cdf(ks, n, q) <= alpha]
        failing = ks[binom.sf(ks - 1, n, q) <= alpha]
        pass_max.append(int(passing.max()) if passing.size else -1)
        fail_min.append(int(failing.min()) if failing.size else n + 1)
    return SequentialDesign(p, 0.95, looks, alpha, tuple(pass_max), tuple(fail_min))


# ---------------------------------------------------------------------------------------------
# Research section 5.4 and 6(a): minimum samples, CI ranks, one-look verdicts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "confidence", "expected"),
    [
        (0.50, 0.95, 5),
        (0.90, 0.95, 29),
        (0.95, 0.95, 59),
        (0.99, 0.95, 299),
        (0.50, 0.99, 7),
        (0.90, 0.99, 44),
        (0.95, 0.99, 90),
        (0.99, 0.99, 459),
    ],
)
def test_wilks_minimum_samples(p: float, confidence: float, expected: int) -> None:
    assert min_samples_for_upper_bound(p, confidence) == expected
    assert upper_bound_rank(expected, p, confidence) == expected
    assert upper_bound_rank(expected - 1, p, confidence) is None


@pytest.mark.parametrize(("p", "expected"), [(0.50, 6), (0.90, 36), (0.95, 72), (0.99, 368)])
def test_two_sided_minimum_samples(p: float, expected: int) -> None:
    complete = [n for n in range(1, expected + 1) if None not in percentile_ci_ranks(n, p, 0.95)]
    assert complete[0] == expected


@pytest.mark.parametrize(
    ("p", "n", "ucb", "ci"),
    [
        (0.95, 100, 99, (90, 100)),
        (0.95, 200, 196, (184, 197)),
        (0.95, 500, 484, (465, 485)),
        (0.95, 1000, 962, (936, 964)),
        (0.95, 2000, 1917, (1880, 1920)),
        (0.95, 10000, 9537, (9457, 9543)),
        (0.99, 500, 499, (490, 500)),
        (0.99, 1000, 996, (983, 997)),
        (0.99, 2000, 1988, (1971, 1989)),
        (0.99, 10000, 9917, (9880, 9920)),
    ],
)
def test_rank_tables(p: float, n: int, ucb: int, ci: tuple[int, int]) -> None:
    assert upper_bound_rank(n, p, 0.95) == ucb
    assert percentile_ci_ranks(n, p, 0.95) == ci


@pytest.mark.parametrize("n", [100, 200])
def test_p99_has_no_bounds_below_wilks(n: int) -> None:
    assert upper_bound_rank(n, 0.99, 0.95) is None
    assert percentile_ci_ranks(n, 0.99, 0.95)[1] is None


@pytest.mark.parametrize(
    ("p", "confidence", "first_n_allowing"),
    [
        (0.95, 0.95, {0: 59, 1: 93, 2: 124, 3: 153, 5: 208}),
        (0.99, 0.95, {0: 299, 1: 473, 2: 628, 3: 773}),
        (0.95, 0.99, {0: 90, 1: 130}),
        (0.99, 0.99, {0: 459, 1: 662}),
    ],
)
def test_one_look_pass_needs(p: float, confidence: float, first_n_allowing: dict[int, int]) -> None:
    # UCB X(u) <= limit  <=>  at most n - u calls above the limit.
    for k, n in first_n_allowing.items():
        for m, allowed in ((n - 1, False), (n, True)):
            u = upper_bound_rank(m, p, confidence)
            assert (u is not None and m - u >= k) is allowed, (k, m)


@pytest.mark.parametrize(
    ("p", "fail_k_of_n"),
    [
        (0.95, [(2, 2), (4, 20), (7, 59), (10, 100), (16, 200)]),
        (0.99, [(1, 1), (3, 50), (4, 100), (7, 299)]),
    ],
)
def test_one_look_fail_counts(p: float, fail_k_of_n: list[tuple[int, int]]) -> None:
    # A one-look design at level 0.05 is the research's 95% one-look verdict.
    for k, n in fail_k_of_n:
        single = design_at(p, (n,), 0.05)
        assert single.fail_min_k == (k,)
        assert single.decide(n, k) is Verdict.FAIL
        assert single.decide(n, k - 1) is not Verdict.FAIL


def test_one_look_pass_at_wilks() -> None:
    single = design_at(0.95, (59,), 0.05)
    assert single.decide(59, 0) is Verdict.PASS
    assert single.decide(58, 0) is None


# ---------------------------------------------------------------------------------------------
# Percentiles and CIs: properties
# ---------------------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e9, max_value=1e9)
quantile = st.one_of(
    st.floats(min_value=0.0, max_value=1.0, exclude_min=True),
    st.sampled_from([0.5, 0.9, 0.95, 0.99, 0.999, 0.07, 0.29, 1.0]),
)


@PROPERTY
@given(arrays(np.float64, st.integers(1, 300), elements=finite), quantile)
def test_percentile_matches_numpy_inverted_cdf(x: npt.NDArray[np.float64], p: float) -> None:
    x = np.sort(x)
    assert percentile(x, p) == float(np.quantile(x, p, method="inverted_cdf"))


def test_percentile_rejects_bad_input() -> None:
    for bad_p in (0.0, -0.1, 1.5, math.nan):
        with pytest.raises(ValueError):
            percentile(np.arange(3.0), bad_p)
    with pytest.raises(ValueError):
        percentile(np.array([]), 0.5)
    assert percentile(np.arange(1.0, 101.0), 1.0) == 100.0
    assert percentile(np.arange(1.0, 101.0), 0.95) == 95.0


@PROPERTY
@given(
    st.integers(1, 3000),
    st.floats(0.01, 0.995),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_ci_ranks_ordered_exact_and_tight(n: int, p: float, confidence: float) -> None:
    lower, upper = percentile_ci_ranks(n, p, confidence)
    half = (1.0 - confidence) / 2.0
    nearest = max(math.ceil(n * p), 1)
    if lower is not None:
        assert 1 <= lower <= nearest
        assert binom.cdf(lower - 1, n, p) <= half  # lower tail within alpha/2 ...
        assert lower == n or binom.cdf(lower, n, p) > half  # ... and as tight as possible
    else:
        assert binom.cdf(0, n, p) > half
    if upper is not None:
        assert nearest <= upper <= n
        assert binom.sf(upper - 1, n, p) <= half
        assert upper == 1 or binom.sf(upper - 2, n, p) > half
    else:
        assert binom.sf(n - 1, n, p) > half
    # Exact coverage P[l <= Bin(n, p) <= u - 1] (a missing side bounds nothing).
    below = 0.0 if lower is None else binom.cdf(lower - 1, n, p)
    inside = (1.0 if upper is None else binom.cdf(upper - 1, n, p)) - below
    assert inside >= confidence - 1e-12


@PROPERTY
@given(st.integers(1, 3000), st.floats(0.05, 0.995), st.sampled_from([0.9, 0.95, 0.99]))
def test_upper_bound_rank_monotone_and_exact(n: int, p: float, confidence: float) -> None:
    u, u_next = upper_bound_rank(n, p, confidence), upper_bound_rank(n + 1, p, confidence)
    if u is None:
        assert binom.cdf(n - 1, n, p) < confidence
    else:
        assert u_next is not None and u <= u_next <= u + 1
        assert binom.cdf(u - 1, n, p) >= confidence
        assert u == 1 or binom.cdf(u - 2, n, p) < confidence


def test_percentile_ci_values() -> None:
    x = np.arange(1.0, 1001.0)  # value == rank
    assert percentile_ci(x, 0.95, 0.95) == (936.0, 964.0)
    assert percentile_ci(x[:100], 0.99, 0.95) == (97.0, None)  # no upper bound below n=368
    assert percentile_ci(x[:500], 0.99, 0.95) == (490.0, 500.0)
    with pytest.raises(ValueError):
        percentile_ci(np.array([]), 0.95, 0.95)


# ---------------------------------------------------------------------------------------------
# Research section 6(b): sequential design
# ---------------------------------------------------------------------------------------------

P95_BOUNDS = {20: (-1, 5), 60: (-1, 9), 100: (0, 12), 140: (1, 15), 200: (2, 19),
              300: (6, 26), 500: (13, 39), 1000: (33, 69), 2000: (76, 126)}  # fmt: skip
P99_BOUNDS = {100: (-1, 5), 500: (0, 12), 700: (1, 15), 1000: (2, 19), 2000: (9, 32),
              3000: (17, 45), 5000: (33, 68)}  # fmt: skip


@pytest.mark.parametrize(
    ("p", "n_looks", "alpha", "errors", "bounds"),
    [
        (0.95, 100, 0.0067, (0.048, 0.049), P95_BOUNDS),
        (0.99, 50, 0.0089, (0.044, 0.050), P99_BOUNDS),
    ],
)
def test_default_designs(
    p: float,
    n_looks: int,
    alpha: float,
    errors: tuple[float, float],
    bounds: dict[int, tuple[int, int]],
) -> None:
    design = sequential_design(p)
    step = design.looks[0]
    assert design.looks == tuple(range(step, step * n_looks + 1, step))
    assert design.alpha_look == pytest.approx(alpha, abs=5e-4)
    table = {n: (design.pass_max_k[i], design.fail_min_k[i]) for i, n in enumerate(design.looks)}
    assert {n: table[n] for n in bounds} == bounds
    false_pass, false_fail = design.error_rates()
    assert false_pass <= 0.05 and false_fail <= 0.05
    assert (false_pass, false_fail) == pytest.approx(errors, abs=1.5e-3)


@pytest.mark.parametrize("p", [0.95, 0.99, 0.9, 0.5])
def test_alpha_look_is_the_largest_valid_level(p: float) -> None:
    design = sequential_design(p)
    assert design == design_at(p, design.looks, design.alpha_look)
    # The next binomial tail value above alpha_look at any look moves a boundary: too lax.
    q = 1.0 - p
    nxt = min(
        float(tails[tails > design.alpha_look].min())
        for n in design.looks
        for ks in [np.arange(n + 1)]
        for tails in [np.concatenate([binom.cdf(ks, n, q), binom.sf(ks, n, q)])]
    )
    assert max(design_at(p, design.looks, nxt).error_rates()) > 0.05
    assert max(design.error_rates()) <= 0.05


def test_decide_matches_boundary_tables() -> None:
    for p in (0.95, 0.99):
        design = sequential_design(p)
        for n, lo, hi in zip(design.looks, design.pass_max_k, design.fail_min_k, strict=True):
            for k in {*range(max(lo - 1, 0), lo + 3), *range(hi - 2, min(hi + 1, n) + 1)}:
                expected = Verdict.PASS if k <= lo else Verdict.FAIL if k >= hi else None
                assert design.decide(n, k) is expected, (p, n, k)
        assert design.decide(0, 0) is None
        with pytest.raises(ValueError):
            design.decide(10, 11)


def test_coarse_schedule_with_mlperf_level() -> None:
    # Research 6(b): alpha_L = 0.01 on the p95 x2 schedule 60..1920 gives errors 0.026/0.037;
    # levels just under 0.0173 (p95) and 0.0199 (p99 300..4800) still keep both within 5%.
    p95_looks = tuple(60 * 2**i for i in range(6))
    p99_looks = tuple(300 * 2**i for i in range(5))
    assert design_at(0.95, p95_looks, 0.01).error_rates() == pytest.approx((0.026, 0.037), abs=1e-3)
    assert max(design_at(0.95, p95_looks, 0.0172).error_rates()) <= 0.05
    assert max(design_at(0.99, p99_looks, 0.0198).error_rates()) <= 0.05


def test_design_defaults_and_validation() -> None:
    assert sequential_design(0.9).looks == tuple(range(20, 2001, 20))
    assert sequential_design(0.999).looks == tuple(range(1000, 50001, 1000))
    custom = sequential_design(0.95, look_every=50, n_max=1020)
    assert custom.looks[-2:] == (1000, 1020)
    assert max(custom.error_rates()) <= 0.05
    assert sequential_design(0.95) is sequential_design(0.95)  # cached
    for kwargs in ({"p": 1.0}, {"p": 0.95, "confidence": 0.4}, {"p": 0.95, "n_max": 10}):
        with pytest.raises(ValueError):
            sequential_design(**kwargs)


@pytest.mark.parametrize(
    ("p", "multiple", "verdict", "probability", "calls"),
    [
        (0.95, 0.2, Verdict.PASS, 1.000, 159),
        (0.95, 0.5, Verdict.PASS, 1.000, 412),
        (0.95, 2.0, Verdict.FAIL, 1.000, 180),
        (0.95, 4.0, Verdict.FAIL, 1.000, 41),
        (0.99, 0.2, Verdict.PASS, 1.000, 796),
        (0.99, 0.5, Verdict.PASS, 0.97, 1984),
        (0.99, 2.0, Verdict.FAIL, 1.000, 878),
        (0.99, 4.0, Verdict.FAIL, 1.000, 211),
    ],
)
def test_expected_calls_to_verdict(
    p: float, multiple: float, verdict: Verdict, probability: float, calls: float
) -> None:
    design = sequential_design(p)
    p_pass, p_fail, p_inconclusive, expected = expected_calls_to_verdict(
        design, multiple * (1.0 - p)
    )
    assert p_pass + p_fail + p_inconclusive == pytest.approx(1.0)
    assert (p_pass if verdict is Verdict.PASS else p_fail) == pytest.approx(probability, abs=5e-3)
    assert expected == pytest.approx(calls, rel=0.05)


def test_expected_calls_at_the_limit_matches_error_rates() -> None:
    design = sequential_design(0.95)
    p_pass, p_fail, p_inconclusive, expected = expected_calls_to_verdict(design, 0.05)
    assert (p_pass, p_fail) == pytest.approx(design.error_rates())
    assert p_inconclusive > 0.9 and expected <= design.looks[-1]


# ---------------------------------------------------------------------------------------------
# Seeded simulations on lognormal latency streams
# ---------------------------------------------------------------------------------------------

SIGMA = 0.5  # log-sd of the simulated latencies; median 10 ms


def lognormal_latencies(
    rng: np.random.Generator, shape: tuple[int, int]
) -> npt.NDArray[np.float64]:
    return rng.lognormal(mean=math.log(10.0), sigma=SIGMA, size=shape)


def true_quantile(p: float) -> float:
    return 10.0 * math.exp(SIGMA * float(norm.ppf(p)))


def run_sequential(
    design: SequentialDesign, latencies: npt.NDArray[np.float64], limit: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Vectorised looks over many streams: (verdict code 1 PASS / -1 FAIL / 0, calls used)."""
    looks = np.asarray(design.looks)
    counts = np.cumsum(latencies > limit, axis=1)[:, looks - 1]
    passed = counts <= np.asarray(design.pass_max_k)
    failed = counts >= np.asarray(design.fail_min_k)
    stopped = passed | failed
    first = np.where(stopped.any(axis=1), stopped.argmax(axis=1), looks.size - 1)
    rows = np.arange(len(first))
    code = np.where(passed[rows, first], 1, np.where(failed[rows, first], -1, 0))
    return code, looks[first]


@pytest.mark.parametrize(("p", "replicates"), [(0.95, 8000), (0.99, 3000)])
def test_simulated_errors_at_the_limit(p: float, replicates: int) -> None:
    design = sequential_design(p)
    rng = np.random.default_rng(20240601)
    limit, shape = true_quantile(p), (500, design.looks[-1])
    codes = np.concatenate(
        [
            run_sequential(design, lognormal_latencies(rng, shape), limit)[0]
            for _ in range(0, replicates, 500)
        ]
    )
    se = math.sqrt(0.05 * 0.95 / replicates)
    exact = design.error_rates()
    for observed, expected in zip((np.mean(codes == 1), np.mean(codes == -1)), exact, strict=True):
        assert observed <= 0.05 + 3.5 * se
        assert abs(observed - expected) <= 4.0 * se


def test_simulated_clear_pass_by_100_calls() -> None:
    design = sequential_design(0.95)
    rng = np.random.default_rng(7)
    limit = 5.0 * true_quantile(0.95)
    for stream in lognormal_latencies(rng, (300, 100)):
        exceed = np.cumsum(stream > limit)
        verdicts = [design.decide(n, int(exceed[n - 1])) for n in design.looks if n <= 100]
        assert verdicts[-1] is Verdict.PASS
        assert Verdict.FAIL not in verdicts


def test_simulated_clear_fail_by_300_calls() -> None:
    design = sequential_design(0.95)
    rng = np.random.default_rng(11)
    limit = 0.25 * true_quantile(0.95)
    codes, calls = run_sequential(design, lognormal_latencies(rng, (1000, 2000)), limit)
    assert np.all(codes == -1) and calls.max() <= 300
    stream = lognormal_latencies(rng, (1, 20))[0]
    assert design.decide(20, int(np.sum(stream > limit))) is Verdict.FAIL


# ---------------------------------------------------------------------------------------------
# Mean limits (Student t)
# ---------------------------------------------------------------------------------------------


def test_mean_ci_matches_scipy() -> None:
    x = np.random.default_rng(3).normal(10.0, 2.0, 40)
    expected = student_t.interval(0.95, 39, loc=x.mean(), scale=x.std(ddof=1) / math.sqrt(40))
    assert mean_ci(x, 0.95) == pytest.approx(expected)
    with pytest.raises(ValueError):
        mean_ci(np.array([1.0]), 0.95)


def test_mean_decide_clear_cases() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        x = rng.normal(10.0, 1.0, 30)
        assert mean_decide(x, 12.0, 0.05) is Verdict.PASS
        assert mean_decide(x, 8.0, 0.05) is Verdict.FAIL
    assert mean_decide(np.array([1.0]), 5.0, 0.05) is None
    assert mean_decide(np.full(5, 3.0), 5.0, 0.05) is Verdict.PASS


def test_mean_decide_error_rate_at_the_limit() -> None:
    rng = np.random.default_rng(9)
    replicates, alpha = 4000, 0.05
    verdicts = [mean_decide(rng.normal(10.0, 1.0, 20), 10.0, alpha) for _ in range(replicates)]
    bound = alpha + 3.5 * math.sqrt(alpha * (1 - alpha) / replicates)
    assert verdicts.count(Verdict.PASS) / replicates <= bound
    assert verdicts.count(Verdict.FAIL) / replicates <= bound


def test_a_check_verdict_has_one_json_and_one_printed_spelling() -> None:
    """The limit verdict is written as its value and printed as its label, nowhere re-cased."""
    check = Check("p95", 10.0, 12.0, Verdict.FAIL, "p95 12 ms > limit 10 ms")
    data = check.to_dict()
    assert data["verdict"] == "fail" and Check.from_dict(data) == check
    assert Check.from_dict(data).verdict is Verdict.FAIL
    labels = [v.label for v in (Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.PASS)]
    assert labels == ["FAIL", "INCONCLUSIVE", "pass"]
    assert Verdict.worst(["pass", Verdict.INCONCLUSIVE]) is Verdict.INCONCLUSIVE
    assert Verdict.worst(["pass", "fail", "inconclusive"]) is Verdict.FAIL
    assert Verdict.worst([]) is None


def test_a_run_verdict_is_printed_from_one_place() -> None:
    assert RunVerdict.of(True) is RunVerdict.FAIL and RunVerdict.of(False) is RunVerdict.PASS
    assert [RunVerdict.label_of(v) for v in ("pass", "WARN", RunVerdict.FAIL)] == [
        "PASS",
        "WARN",
        "FAIL",
    ]
    assert RunVerdict.label_of("odd") == "ODD"  # a foreign report's word, still shown
