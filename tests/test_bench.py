"""The measuring core without pytest's plugin: adapters, loop, adaptive stopping, memory.

Statistical behaviour is driven by a fake clock that the fake model advances by a seeded
latency draw, so every figure below is deterministic whatever the machine is doing.
"""

from __future__ import annotations

import gc
import re
import warnings
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pytest_mlperf import Benchmarker, BenchmarkError, BenchmarkResult, Limit, ModelCallError
from pytest_mlperf.bench import model_label

X, y = make_classification(n_samples=200, n_features=8, random_state=0)
LR = LogisticRegression(max_iter=200).fit(X, y)


class FakeClock:
    """A nanosecond clock that only moves when the fake model says so."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class ReplayModel:
    """Each predict call advances the clock by the next seeded lognormal latency."""

    def __init__(
        self, clock: FakeClock, median_ms: float, seed: int = 0, sigma: float = 0.3, per_row_ms=0.0
    ):
        self.clock = clock
        self.per_row_ms = per_row_ms
        self.rng = np.random.default_rng(seed)
        self.median_ms = median_ms
        self.sigma = sigma
        self.batches: list[Any] = []
        self.gc_enabled: list[bool] = []
        self.filters: list[int] = []

    @property
    def true_p95(self) -> float:
        return float(self.median_ms * np.exp(1.6448536 * self.sigma))

    def predict(self, batch: Any) -> None:
        self.batches.append(batch)
        self.gc_enabled.append(gc.isenabled())
        self.filters.append(len(warnings.filters))
        draw = self.median_ms * self.rng.lognormal(0.0, self.sigma) + self.per_row_ms * len(batch)
        self.clock.now += int(draw * 1e6)


def replay(
    median_ms: float = 5.0, seed: int = 0, **options: Any
) -> tuple[Benchmarker, ReplayModel]:
    clock = FakeClock()
    options.setdefault("measure_memory", False)
    return Benchmarker(clock=clock, warmup=5, warmup_time=0.0, **options), ReplayModel(
        clock, median_ms, seed
    )


@pytest.mark.parametrize("seed", range(5))
def test_clearly_fast_model_passes_within_300_calls(seed: int) -> None:
    bench, model = replay(seed=seed)
    result = bench.benchmark(model, X, limits=[Limit("p95", model.true_p95 / 0.2)])
    (check,) = result.checks
    assert check.verdict == "pass"
    assert result.n_samples <= 300
    assert result.stop_reason == "verdicts reached"


@pytest.mark.parametrize("seed", range(5))
def test_clearly_slow_model_fails_within_300_calls(seed: int) -> None:
    bench, model = replay(seed=seed)
    result = bench.benchmark(model, X, limits=[Limit("p95", model.true_p95 / 4)])
    (check,) = result.checks
    assert check.verdict == "fail"
    assert result.n_samples <= 300
    assert check.message.startswith("p95 latency ")
    assert "> limit" in check.message and "(ReplayModel, batch=1, n=" in check.message


def test_limit_at_the_true_p95_is_usually_inconclusive() -> None:
    results = []
    for seed in range(20):
        bench, model = replay(seed=seed, max_time=100.0)
        results.append(bench.benchmark(model, X, limits=[Limit("p95", model.true_p95)]))
    verdicts = [r.checks[0].verdict for r in results]
    result = results[-1]
    assert verdicts.count("inconclusive") >= 15
    assert result.n_samples == 2000 and result.stop_reason == "sample cap"
    undecided = [r for r in results if r.checks[0].verdict == "inconclusive"]
    assert "too close to limit" in undecided[0].checks[0].message


def test_samples_are_exactly_the_call_durations() -> None:
    bench, model = replay(samples=50)
    result = bench.benchmark(model, X)
    # 5 warm-up calls, then windows of 20 timed calls with one untimed call between them
    durations = np.random.default_rng(0).lognormal(0.0, 0.3, size=57) * 5.0
    expected = np.concatenate([durations[5:25], durations[26:46], durations[47:57]])
    np.testing.assert_allclose(result.samples_ms, expected, atol=1e-6)
    assert result.n_samples == 50 and result.stop_reason == "fixed budget"
    assert result.latency_p50 == pytest.approx(np.quantile(expected, 0.5, method="inverted_cdf"))
    assert result.throughput_rps == pytest.approx(1000.0 / np.mean(expected), rel=1e-6)


def test_every_limit_must_be_decided_before_stopping() -> None:
    bench, model = replay()
    limits = [Limit("p95", model.true_p95 * 5), Limit("p99", model.true_p95 * 5)]
    result = bench.benchmark(model, X, limits=limits)
    assert [c.verdict for c in result.checks] == ["pass", "pass"]
    # p95 decided within 300 calls (a chance clustering signal can move it past 100)
    assert result.checks[0].n <= 300
    # p99 needs 500 calls with no miss; a chance clustering signal can ask for more
    assert 500 <= result.checks[1].n == result.n_samples <= 1000


def test_max_time_caps_the_timed_loop() -> None:
    bench, model = replay(median_ms=10.0, max_time=0.5)
    result = bench.benchmark(model, X, limits=[Limit("p95", model.true_p95)])
    assert result.stop_reason == "max_time"
    assert 40 <= result.n_samples <= 60


def test_mean_and_throughput_limits() -> None:
    bench, model = replay(median_ms=2.0)
    limits = [Limit("mean", 20.0), Limit("throughput", 5000.0)]
    result = bench.benchmark(model, X, batch_size=4, limits=limits)
    mean, rps = result.checks
    assert mean.verdict == "pass"
    assert rps.verdict == "fail"  # 4 rows per ~2 ms is ~2000 rows/s
    assert rps.message.startswith("throughput ") and "rows/s" in rps.message


def test_gc_off_while_timing_and_warning_filters_untouched() -> None:
    bench, model = replay(samples=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        n_filters = len(warnings.filters)
        bench.benchmark(model, X)
    assert model.gc_enabled[5:] == [False] * 31  # 30 timed calls, 1 untimed between windows
    assert set(model.filters) == {n_filters}
    assert gc.isenabled()


def test_rows_are_shuffled_with_a_seed_in_batches() -> None:
    bench, model = replay(samples=20)
    bench.benchmark(model, X, batch_size=8)
    first = [b.tolist() for b in model.batches]
    assert all(len(b) == 8 for b in model.batches)
    assert first[0] != X[:8].tolist()
    bench, model = replay(samples=20)
    bench.benchmark(model, X, batch_size=8)
    assert [b.tolist() for b in model.batches] == first
    bench, model = replay(samples=20, seed=1)
    bench.seed = 1
    bench.benchmark(model, X, batch_size=8)
    assert [b.tolist() for b in model.batches] != first


def test_memory_counts_native_numpy_allocations() -> None:
    def allocate(batch: Any) -> float:
        return float(np.ones((1000, 1000 * 5)).sum())  # 40 MB buffer

    result = Benchmarker(warmup=1, warmup_time=0.0, samples=3).benchmark(allocate, X)
    assert result.memory_mb is not None
    assert 35 < result.memory_mb < 60
    assert result.memory_method == "memray"


def test_memory_limit_check() -> None:
    result = Benchmarker(samples=20).benchmark(LR, X, limits=[Limit("memory", 1e-6)])
    (check,) = result.checks
    assert check.verdict == "fail"
    assert check.message.startswith("memory ") and "> limit 1e-06 MB" in check.message


def test_adapters_methods_callables_and_joblib_files(tmp_path: Any) -> None:
    bench = Benchmarker(samples=10, warmup_time=0.0, measure_memory=False)
    assert bench.benchmark(LR, X, method="predict_proba").method == "predict_proba"
    pca = PCA(n_components=2).fit(X)
    assert bench.benchmark(pca, X, method="transform").model_name == "PCA"
    assert bench.benchmark(lambda b: b.sum(), X).method == "__call__"
    path = tmp_path / "model.joblib"
    joblib.dump(LR, path)
    assert bench.benchmark(str(path), X).model_name == "LogisticRegression"
    assert bench.benchmark(path, X, name="saved").name == "saved"
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    assert model_label(pipe) == "Pipeline(StandardScaler > LogisticRegression)"


@pytest.mark.parametrize(
    ("model", "data", "kwargs", "message"),
    [
        (PCA(n_components=2).fit(X), X, {}, "PCA has no method 'predict'; it has transform"),
        (LR, X, {"method": "nope"}, "LogisticRegression has no method 'nope'"),
        (LR, X[:0], {}, "X is empty"),
        (LR, X, {"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        (LR, X, {"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
        (LR, X, {"batch_size": 201}, "batch_size=201 is larger than the 200 rows of X"),
        ("/no/such/model.joblib", X, {}, "model file not found: /no/such/model.joblib"),
    ],
)
def test_bad_input_names_the_problem(model: Any, data: Any, kwargs: Any, message: str) -> None:
    with pytest.raises(BenchmarkError, match=re.escape(message)):
        Benchmarker(samples=10).benchmark(model, data, **kwargs)


def test_a_model_that_raises_is_reported_with_its_phase() -> None:
    def broken(batch: Any) -> None:
        raise ValueError("bad shape")

    with pytest.raises(ModelCallError, match=r"broken\.__call__ raised ValueError during warm-up"):
        Benchmarker().benchmark(broken, X)


def test_compare_models_keeps_the_original_shape() -> None:
    bench = Benchmarker(samples=10, warmup_time=0.0, measure_memory=False)
    out = bench.compare_models({"lr": LR}, X, batch_sizes=[1, 8])
    assert list(out["lr"]) == ["batch_1", "batch_8"]
    assert out["lr"]["batch_8"].batch_size == 8 and out["lr"]["batch_8"].name == "lr"


def test_sweep_recommends_the_fastest_batch_within_limits() -> None:
    bench, model = replay(median_ms=1.0)
    sweep = bench.sweep(model, X, batch_sizes=(1, 8), limits=[Limit("p95", 100.0)])
    assert [r.batch_size for r in sweep] == [1, 8]
    assert sweep.best_batch_size == 8  # same latency per call, 8x the rows
    bench, model = replay(median_ms=1.0)
    assert bench.sweep(model, X, (1, 8), limits=[Limit("p95", 0.1)]).best_batch_size is None


def test_sweep_stops_when_throughput_flattens() -> None:
    clock = FakeClock()
    model = ReplayModel(clock, 1.0, sigma=0.01, per_row_ms=1.0)  # 1 ms + 1 ms per row
    bench = Benchmarker(clock=clock, warmup=1, warmup_time=0.0, samples=30, measure_memory=False)
    big = np.vstack([X] * 3)
    sweep = bench.sweep(model, big, batch_sizes=[2**i for i in range(10)])
    assert [r.batch_size for r in sweep] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert sweep.stop_reason.startswith("throughput flattened")
    curve = sweep.to_dict()["curve"]
    assert [point["batch_size"] for point in curve] == [r.batch_size for r in sweep]
    assert sweep.best_batch_size == 256


def test_sweep_stops_at_the_first_broken_latency_limit() -> None:
    clock = FakeClock()
    model = ReplayModel(clock, 1.0, sigma=0.01, per_row_ms=1.0)
    bench = Benchmarker(clock=clock, warmup=1, warmup_time=0.0, measure_memory=False)
    sweep = bench.sweep(model, X, batch_sizes=(1, 4, 16, 64), limits=[Limit("p95", 10.0)])
    assert [r.batch_size for r in sweep] == [1, 4, 16]
    assert sweep.stop_reason == "latency limit crossed at batch 16"
    assert sweep.best_batch_size == 4


def test_result_text_and_record_round_trip() -> None:
    bench, model = replay(samples=40)
    result = bench.benchmark(model, X, limits=[Limit("p95", 1000.0)], name="fraud")
    text = str(result)
    for part in ("Benchmark: fraud", "Batch size: 1", "P95:", "P99:", "Throughput:", "PASS: p95"):
        assert part in text
    again = BenchmarkResult.from_record(result.to_record("t.py::test", "passed"))
    assert again == result


def test_drift_during_the_loop_is_reported() -> None:
    for seed in range(20):
        bench, model = replay(samples=300, seed=seed)
        assert bench.benchmark(model, X).warnings == []

    class Slowing(ReplayModel):
        def predict(self, batch: Any) -> None:
            super().predict(batch)
            self.clock.now += len(self.batches) * 20_000  # 20 µs more per call, every call

    clock = FakeClock()
    bench = Benchmarker(clock=clock, warmup=5, warmup_time=0.0, samples=300, measure_memory=False)
    (warning,) = bench.benchmark(Slowing(clock, 5.0), X).warnings
    assert warning.startswith("latency drifted by +")


def test_measuring_under_cprofile_works() -> None:
    import cProfile

    bench = Benchmarker(samples=10, warmup_time=0.0)
    result = cProfile.Profile().runcall(bench.benchmark, LR, X)
    assert result.n_samples == 10 and result.memory_mb is not None
    assert result.memory_method == "tracemalloc"  # memray cannot hand cProfile's hook back


def test_a_call_that_never_returns_is_stopped_by_the_measurement_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A model that hangs (here: sleeps for a minute) ends in one error naming the deadline."""
    import time

    from pytest_mlperf import watchdog

    monkeypatch.setattr(watchdog, "DEADLINE_FLOOR_S", 0.3)
    monkeypatch.setattr(watchdog, "DEADLINE_FACTOR", 1.0)
    calls = 0

    def hangs(batch: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            time.sleep(60)

    started = time.perf_counter()
    with pytest.raises(ModelCallError, match=r"hangs.__call__ raised MeasurementTimeout during "):
        Benchmarker(max_time=0.05, warmup_time=0.0, measure_memory=False).benchmark(hangs, X)
    assert time.perf_counter() - started < 5
    import signal

    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0  # disarmed, handler given back
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)


def test_the_deadline_leaves_another_interval_timer_alone() -> None:
    """pytest-timeout's signal method (or the user's own timer) keeps its SIGALRM."""
    import signal

    from pytest_mlperf import watchdog

    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        with watchdog.deadline(0.01):
            assert signal.getsignal(signal.SIGALRM) is not None
            assert signal.getitimer(signal.ITIMER_REAL)[0] > 1.0  # still the other timer
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == []
