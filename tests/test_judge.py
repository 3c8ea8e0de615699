"""Mean and throughput verdicts, checked by seeded simulation (no timing, no sleeps)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_mlperf.bench import result_from_samples
from pytest_mlperf.judge import MEAN_CI_MISSING, Judge, mean_interval
from pytest_mlperf.marks import Limit

Stream = Callable[[np.random.Generator, int], np.ndarray]


def verdict_counts(stream: Stream, limit: Limit, reps: int, seed: int = 0) -> Counter[str]:
    """Run the judge's look schedule over `reps` seeded streams; count the verdicts."""
    rng = np.random.default_rng(seed)
    counts: Counter[str] = Counter()
    for _ in range(reps):
        judge = Judge([limit], batch_size=1, confidence=0.95)
        samples = stream(rng, judge.n_max)
        for look in judge.looks:
            if judge.update(samples[:look]):
                break
        judge.update(samples[: judge.n_max], final=True)
        counts[judge.states[0].verdict.value] += 1  # type: ignore[union-attr]
    return counts


def normal(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(10.0, 3.0, n)


def skewed(rng: np.random.Generator, n: int) -> np.ndarray:
    return 10.0 * rng.lognormal(-0.125, 0.5, n)  # mean 10 ms, a long right tail


@pytest.mark.parametrize(("stream", "bound"), [(normal, 0.05), (skewed, 0.07)])
def test_mean_limit_at_the_true_mean_rarely_gives_a_wrong_verdict(
    stream: Stream, bound: float
) -> None:
    reps = 600
    counts = verdict_counts(stream, Limit("mean", 10.0), reps)
    assert counts["pass"] / reps <= bound
    assert counts["fail"] / reps <= bound


def test_clear_mean_and_throughput_cases_are_decided_at_the_first_look() -> None:
    assert verdict_counts(normal, Limit("mean", 20.0), 50) == Counter({"pass": 50})
    assert verdict_counts(normal, Limit("mean", 5.0), 50) == Counter({"fail": 50})
    # 1 row per ~10 ms is ~100 rows/s
    assert verdict_counts(normal, Limit("throughput", 50.0), 50) == Counter({"pass": 50})
    assert verdict_counts(normal, Limit("throughput", 200.0), 50) == Counter({"fail": 50})


def test_mean_verdicts_need_five_blocks() -> None:
    judge = Judge([Limit("mean", 1000.0)], batch_size=1, confidence=0.95)
    assert not judge.update(np.full(80, 1.0))
    assert judge.update(np.full(100, 1.0) + np.linspace(0, 0.1, 100))
    assert judge.states[0].n == 100


def slow_start(n: int, first: int = 25) -> np.ndarray:
    """A model whose first calls take 2 ms and the rest 0.2 ms: the worst case for a t-interval."""
    samples = np.full(n, 0.2)
    samples[:first] = 2.0
    return samples


def test_too_few_blocks_give_no_mean_interval_but_say_why() -> None:
    samples = slow_start(50)  # two blocks of 20 calls: t = 12.7, the interval reached -2.5 ms
    result = result_from_samples(samples, "M", 1, 0.95)
    assert result.ci["mean"] == (None, None)
    assert f"95% CI {MEAN_CI_MISSING}]" in str(result)
    judge = Judge([Limit("mean", 5.0), Limit("throughput", 10.0)], batch_size=1, confidence=0.95)
    judge.update(samples, final=True)
    for check in judge.checks(samples, None, "M", "the time cap"):
        assert check.ci == (None, None)
        assert f"[95% CI {MEAN_CI_MISSING}]" in check.message


@given(
    st.integers(min_value=100, max_value=400),
    st.integers(min_value=1, max_value=60),
    st.floats(min_value=1e-3, max_value=1e3),
    st.floats(min_value=1.0, max_value=1e3),
)
@settings(max_examples=60, deadline=None)
def test_the_mean_interval_never_leaves_the_possible_range(
    n: int, first: int, fast: float, slowdown: float
) -> None:
    """Latency and throughput are positive: no interval end below zero, whatever the stream."""
    samples = np.full(n, fast)
    samples[:first] = fast * slowdown
    lo, hi = mean_interval(samples, 0.95)
    assert lo is not None and hi is not None
    assert 0.0 <= lo <= hi
    judge = Judge([Limit("throughput", 1.0)], batch_size=4, confidence=0.95)
    judge.update(samples, final=True)
    (check,) = judge.checks(samples, None, "M")
    assert check.ci is not None
    assert all(end is None or end > 0 for end in check.ci)
