"""The measuring core: adapters, warm-up, the timed loop with adaptive stopping, memory pass.

Usable without pytest (`from pytest_mlperf import Benchmarker`). The timed region of each call
holds nothing but the call between two `perf_counter_ns` reads; everything else (choosing the
batch, storing the sample, looking at the verdicts) happens outside it.
"""

from __future__ import annotations

import gc
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from . import stability, stats, validate, watchdog
from .judge import Judge, mean_interval
from .marks import PERCENTILES, Limit
from .memory import peak_call_memory_mb, resident_mb
from .numbers import fmt
from .probe import WindowClock
from .results import BenchmarkResult

LATENCY_METRICS = (*PERCENTILES, "mean")
DEFAULT_SAMPLES = 400  # timed calls when a measurement has no latency or throughput limit
MAX_DISTINCT_BATCHES = 4096  # batches prepared up front and then cycled


class BenchmarkError(Exception):
    """The model or the data cannot be measured as asked."""


class SettingError(BenchmarkError):
    """A measurement setting that cannot be used (an override of model_bench, say)."""


class ModelCallError(BenchmarkError):
    """The model raised while it was being measured."""


@dataclass(frozen=True)
class Target:
    fn: Callable[[Any], Any]
    name: str
    method: str


def resolve_model(model: Any, method: str = "predict") -> Target:
    """Turn a model, a callable or a joblib path into the function to time."""
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.exists(path):
            raise BenchmarkError(f"model file not found: {path}")
        import joblib

        try:
            model = joblib.load(path)
        except Exception as exc:  # joblib raises many kinds for a bad file
            raise BenchmarkError(f"cannot load model from {path}: {exc}") from exc
    fn = getattr(model, method, None)
    if callable(fn):
        return Target(fn, model_label(model), method)
    if method == "predict" and callable(model) and not hasattr(model, "fit"):
        return Target(model, getattr(model, "__name__", type(model).__name__), "__call__")
    available = [
        m
        for m in ("predict", "predict_proba", "transform", "decision_function")
        if callable(getattr(model, m, None))
    ]
    hint = f"; it has {', '.join(available)}" if available else ""
    raise BenchmarkError(f"{model_label(model)} has no method {method!r}{hint}")


def model_label(model: Any) -> str:
    """A short name: the class, and the steps of a scikit-learn Pipeline."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        return "Pipeline(" + " > ".join(type(step).__name__ for _, step in steps) + ")"
    return type(model).__name__


def n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise BenchmarkError(
            f"X must be an array, DataFrame, sparse matrix or list of rows, got {type(X).__name__}"
        ) from None


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows `idx` of X as the same kind of container (array, DataFrame, sparse, list)."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in idx]
    return X[idx]


def as_batch_size(value: Any) -> int:
    """A positive whole number of rows; NumPy integers are welcome, bools and floats are not."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1:
        return int(value)
    raise BenchmarkError(f"batch_size must be a positive integer, got {value!r}")


def as_batch_sizes(value: Any) -> list[int]:
    """Sorted distinct batch sizes from any iterable of integers (a tuple, a NumPy array)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise BenchmarkError(f"batch_sizes must be a sequence such as (1, 8, 32), got {value!r}")
    sizes = sorted({as_batch_size(size) for size in value})
    if not sizes:
        raise BenchmarkError("batch_sizes is empty")
    return sizes


def make_batches(X: Any, batch_size: int, seed: int) -> list[Any]:
    """Batches of `batch_size` rows, in a seeded shuffled order so caches do not flatter."""
    rows = n_rows(X)
    if rows == 0:
        raise BenchmarkError("X is empty: there is nothing to predict on")
    batch_size = as_batch_size(batch_size)
    if batch_size > rows:
        raise BenchmarkError(f"batch_size={batch_size} is larger than the {rows} rows of X")
    order = np.random.default_rng(seed).permutation(rows)
    count = min(rows // batch_size, MAX_DISTINCT_BATCHES)
    return [take_rows(X, order[i * batch_size : (i + 1) * batch_size]) for i in range(count)]


def call_error(target: Target, exc: Exception, phase: str) -> ModelCallError:
    """The one-line error for a model call that raised: model, method, phase and exception."""
    return ModelCallError(
        f"{target.name}.{target.method} raised {type(exc).__name__} during {phase}: {exc}"
    )


def time_calls(
    target: Target,
    batches: list[Any],
    start: int,
    calls: int,
    clock: Callable[[], int],
    phase: str = "the timed loop",
    deadline: int | None = None,
    cpu_ns: list[int] | None = None,
    cpu_clock: Callable[[], int] = time.process_time_ns,
) -> list[int]:
    """``calls`` timed calls (clock ticks each) on the batches from ``start`` on, cycling; fewer
    when a call ends after ``deadline`` (a clock reading). With ``cpu_ns``, each call's process
    CPU time (ns, on ``cpu_clock``) is appended to it, read just outside the two clock reads.

    Nothing runs between the two clock reads but the call; a call that raises becomes a
    :class:`ModelCallError` naming ``phase``. :class:`Benchmarker` times its windows with it,
    the side-by-side A/B its blocks.
    """
    fn, count = target.fn, len(batches)
    samples: list[int] = []
    append = samples.append
    end = math.inf if deadline is None else deadline
    cpu, cpu_append = cpu_clock, (cpu_ns.append if cpu_ns is not None else None)
    try:
        if cpu_append is None:  # the measuring core's loop: nothing but the call between reads
            for i in range(start, start + calls):
                batch = batches[i % count]
                t0 = clock()
                fn(batch)
                t1 = clock()
                append(t1 - t0)
                if t1 > end:
                    break
        else:
            for i in range(start, start + calls):
                batch = batches[i % count]
                c0 = cpu()
                t0 = clock()
                fn(batch)
                t1 = clock()
                cpu_append(cpu() - c0)
                append(t1 - t0)
                if t1 > end:
                    break
    except Exception as exc:
        raise call_error(target, exc, phase) from exc
    return samples


@contextmanager
def quiet_interpreter(disable_gc: bool) -> Iterator[None]:
    """GC off and tracing/profiling hooks paused while timing; the user's warning filters stay.

    Only the youngest generation is collected first: a full collection of a process holding
    scikit-learn and pytest costs ~50 ms per measurement and changes no sample, since the
    collector stays off during the timed calls anyway. A hook is paused only when it can be
    put back: under cProfile `sys.getprofile()` returns the profiler object, which
    `sys.setprofile` does not accept, so such hooks stay on.
    """
    trace, profile = sys.gettrace(), sys.getprofile()
    pause_trace = trace is not None and callable(trace)
    pause_profile = profile is not None and callable(profile)
    gc_was_enabled = gc.isenabled()
    if disable_gc:
        gc.collect(0)
        gc.disable()
    if pause_trace:
        sys.settrace(None)
    if pause_profile:
        sys.setprofile(None)
    try:
        yield
    finally:
        if pause_trace:
            sys.settrace(trace)
        if pause_profile:
            sys.setprofile(profile)
        if gc_was_enabled:
            gc.enable()


@dataclass
class Benchmarker:
    """Measures the latency, throughput and memory of one model call on batches of rows.

    warmup / warmup_time: calls before timing, at least this many and at least this long.
    max_time: seconds of timed calls at most per measurement.
    samples: timed calls for a measurement with no latency or throughput limit.
    max_samples: cap on timed calls with limits (default: the end of the look schedule).
    clock: nanosecond timer; tests pass a fake one to replay seeded latency streams.
    run_spread: log-sd between runs of a percentile, beyond what one run can measure, that
        every percentile interval and verdict allows for (0 trusts the run's own window).
    """

    warmup: int = 5
    warmup_time: float = 0.05
    max_time: float = 10.0
    samples: int = DEFAULT_SAMPLES
    max_samples: int | None = None
    confidence: float = 0.95
    seed: int = 0
    disable_gc: bool = True
    measure_memory: bool = True
    run_spread: float = stability.DEFAULT_RUN_SPREAD
    clock: Callable[[], int] = field(default=time.perf_counter_ns, repr=False)

    def __post_init__(self) -> None:
        # type, range and an upper bound on each setting: no overflow, NaN or hang later
        checks = validate.BENCHMARKER_CHECKS
        validate.settings(
            {f.name: getattr(self, f.name) for f in fields(self) if f.name in checks}, checks
        )

    def benchmark(
        self,
        model: Any,
        X: Any,
        *,
        batch_size: int = 1,
        method: str = "predict",
        name: str | None = None,
        limits: Sequence[Limit] = (),
    ) -> BenchmarkResult:
        """Warm up, time calls until every limit has a verdict (or the budget ends), then memory."""
        target = resolve_model(model, method)
        batches = make_batches(X, batch_size, self.seed)
        judge = Judge(limits, batch_size, self.confidence, self.run_spread)
        started = time.perf_counter()
        seconds = watchdog.deadline_for(self.max_time, self.warmup_time)
        try:
            with watchdog.deadline(seconds):
                return self._measure(target, batches, judge, batch_size, name, started)
        except watchdog.MeasurementTimeout as exc:  # fired between calls: still one line
            raise ModelCallError(f"{target.name}.{target.method}: {exc}") from None

    def _measure(
        self,
        target: Target,
        batches: list[Any],
        judge: Judge,
        batch_size: int,
        name: str | None,
        started: float,
    ) -> BenchmarkResult:
        warmup_calls = self._warm_up(target, batches)
        samples_ns, stop_reason, windows = self._timed_loop(target, batches, judge)
        samples_ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
        judge.update(samples_ms, final=True)
        steadiness = stability.measure(samples_ms, self.run_spread, judge.drift, windows)
        judge.run_spread = steadiness.run_spread
        judge.lower_factor = min(
            judge.lower_factor, stability.contention_factor(steadiness.cpu_share)
        )
        memory_mb, memory_method = (
            self._memory(target, batches[0]) if self.measure_memory else (None, "")
        )
        label = target.name
        result = result_from_samples(
            samples_ms,
            label,
            batch_size,
            self.confidence,
            steadiness.run_spread,
            judge.lower_factor,
            stated_spread=self.run_spread,
        )
        result.stability = steadiness
        result.memory_mb, result.memory_method = memory_mb, memory_method
        result.rss_mb = resident_mb() if self.measure_memory else None
        result.checks = judge.checks(samples_ms, memory_mb, label, stop_reason)
        result.name = name or label
        result.method = target.method
        result.warmup_calls = warmup_calls
        result.elapsed_s = time.perf_counter() - started
        result.stop_reason = stop_reason
        result.warnings = stability_warnings(samples_ms)
        return result

    def _call(self, target: Target, batch: Any, phase: str) -> None:
        try:
            target.fn(batch)
        except Exception as exc:
            raise call_error(target, exc, phase) from exc

    def _warm_up(self, target: Target, batches: list[Any]) -> int:
        deadline = self.clock() + int(self.warmup_time * 1e9)
        # a user's clock that never advances must not warm up forever: real time bounds it too
        real_deadline = time.perf_counter() + self.warmup_time
        calls = 0
        while calls < self.warmup or (
            self.clock() < deadline and time.perf_counter() < real_deadline
        ):
            self._call(target, batches[calls % len(batches)], "warm-up")
            calls += 1
        return calls

    def _timed_loop(
        self, target: Target, batches: list[Any], judge: Judge
    ) -> tuple[list[int], str, WindowClock]:
        """Time calls until the verdicts, the sample cap or the time cap; between windows of
        calls (never inside one) read the CPU clocks and run the machine-speed probe.

        That work between windows leaves the caches cold, and it comes every 20 calls: the
        first call after it ran up to 11% slower on a 0.3 ms model and 3x on a no-op, exactly
        the one call in 20 that sits at p95. So one untimed call, on the batch before, warms
        them again before the next window starts (docs/verdicts.md, "What is measured").
        """
        cap = judge.n_max if judge.has_time_limits else self.samples
        if self.max_samples is not None:
            cap = min(cap, self.max_samples)
        looks = {n for n in judge.looks if n < cap} if judge.has_time_limits else set()
        marks = sorted(looks | set(range(stability.WINDOW, cap, stability.WINDOW)) | {cap})
        samples: list[int] = []
        clock = self.clock
        windows = WindowClock(enabled=clock is time.perf_counter_ns)
        with quiet_interpreter(self.disable_gc):
            deadline = clock() + int(self.max_time * 1e9)  # after gc.collect(), not before
            for mark in marks:
                n = len(samples)
                if n:  # a call, not timed, warms what the work between windows cooled
                    windows.start(n - 1)  # the window's CPU time counts that call too
                    time_calls(target, batches, n - 1, 1, clock, "a call between windows")
                else:
                    windows.start(0)
                samples += time_calls(target, batches, n, mark - n, clock, deadline=deadline)
                i = len(samples)
                windows.end(i)
                judge.cpu_share = stability.cpu_share(windows.windows)
                if i < mark:
                    return samples, "max_time", windows
                if mark in looks and judge.update(np.asarray(samples, dtype=np.float64) / 1e6):
                    return samples, "verdicts reached", windows
        return samples, "sample cap" if judge.has_time_limits else "fixed budget", windows

    def _memory(self, target: Target, batch: Any) -> tuple[float, str]:
        """(peak extra MB of one call, how it was measured: memray or tracemalloc)."""
        try:
            return peak_call_memory_mb(lambda: target.fn(batch))
        except Exception as exc:
            raise call_error(target, exc, "the memory pass") from exc

    def compare_models(
        self,
        models: Mapping[str, Any],
        X: Any,
        batch_sizes: Sequence[int] = (1, 8, 32, 64),
    ) -> dict[str, dict[str, BenchmarkResult]]:
        """Every model at every batch size: `results[name][f"batch_{bs}"]`."""
        return {
            name: {
                f"batch_{bs}": self.benchmark(model, X, batch_size=bs, name=name)
                for bs in batch_sizes
            }
            for name, model in models.items()
        }

    def sweep(
        self,
        model: Any,
        X: Any,
        batch_sizes: Sequence[int] = (1, 8, 32, 64),
        *,
        method: str = "predict",
        name: str | None = None,
        limits: Sequence[Limit] = (),
        early_stop: bool = True,
        on_result: Callable[[BenchmarkResult], None] | None = None,
    ) -> Sweep:
        """Measure growing batch sizes; recommend the most rows/s that meets the latency limits.

        With `early_stop`, the sweep ends at the first batch size whose latency limit fails
        (larger batches are slower per call) or once the throughput has flattened: the best of
        the last four points is less than 5% above the first of them (Triton model analyzer).
        `on_result` sees each result as soon as it is measured (a later size may still fail).
        """
        sizes = as_batch_sizes(batch_sizes)
        sweep = Sweep([], requested=sizes)
        for bs in sizes:
            result = self.benchmark(
                model, X, batch_size=bs, method=method, name=name, limits=limits
            )
            sweep.results.append(result)
            if on_result is not None:
                on_result(result)
            if early_stop:
                sweep.stop_reason = _sweep_stop_reason(sweep.results)
                if sweep.stop_reason:
                    break
        return sweep


FLAT_GAIN = 0.05  # Triton's THROUGHPUT_MINIMUM_GAIN
FLAT_WINDOW = 4


def _sweep_stop_reason(results: list[BenchmarkResult]) -> str:
    last = results[-1]
    if any(c.verdict == "fail" for c in last.checks if c.metric in LATENCY_METRICS):
        return f"latency limit crossed at batch {last.batch_size}"
    if len(results) >= FLAT_WINDOW:
        window = [r.throughput_rps for r in results[-FLAT_WINDOW:]]
        if max(window[1:]) < (1 + FLAT_GAIN) * window[0]:
            return (
                f"throughput flattened: less than {FLAT_GAIN:.0%} gain over the last "
                f"{FLAT_WINDOW} batch sizes"
            )
    return ""


@dataclass
class Sweep:
    """The results of a batch-size sweep and the recommended batch size."""

    results: list[BenchmarkResult]
    requested: list[int] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def best(self) -> BenchmarkResult | None:
        """Highest rows/s among the results whose latency checks all passed."""
        eligible = [
            r
            for r in self.results
            if all(c.verdict == "pass" for c in r.checks if c.metric in LATENCY_METRICS)
        ]
        return max(eligible, key=lambda r: r.throughput_rps, default=None)

    @property
    def best_batch_size(self) -> int | None:
        best = self.best
        return None if best is None else best.batch_size

    def __iter__(self) -> Iterator[BenchmarkResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def to_dict(self) -> dict[str, Any]:
        """The batch-size curve for the report: rows/s and p95 against batch size."""
        first = self.results[0] if self.results else None
        return {
            "name": first.name if first else "",
            "model": first.model_name if first else "",
            "requested": list(self.requested),
            "curve": [
                {
                    "batch_size": r.batch_size,
                    "throughput_rps": r.throughput_rps,
                    "latency_p95": r.latency_p95,
                    "verdict": "fail" if not r.passed else "pass",
                }
                for r in self.results
            ],
            "best_batch_size": self.best_batch_size,
            "stop_reason": self.stop_reason or "all batch sizes measured",
        }


DRIFT_LIMIT = 0.10  # medians of the first and last third may differ this much without a warning


def stability_warnings(samples_ms: np.ndarray) -> list[str]:
    """Say so when the machine visibly changed speed during the timed loop.

    The medians of the first and last third must differ by more than 10% *and* their 99%
    confidence intervals must not overlap, so ordinary sampling noise never warns.
    """
    third = len(samples_ms) // 3
    if third < 20:
        return []
    first, last = np.sort(samples_ms[:third]), np.sort(samples_ms[-third:])
    lo1, hi1 = stats.percentile_ci(first, 0.5, 0.99)
    lo2, hi2 = stats.percentile_ci(last, 0.5, 0.99)
    m1, m2 = stats.percentile(first, 0.5), stats.percentile(last, 0.5)
    change = m2 / m1 - 1 if m1 > 0 else 0.0
    apart = (lo2 is not None and hi1 is not None and lo2 > hi1) or (
        lo1 is not None and hi2 is not None and lo1 > hi2
    )
    if abs(change) <= DRIFT_LIMIT or not apart:
        return []
    return [
        f"latency drifted by {change:+.0%} during the measurement (median {fmt(m1)} ms in the "
        f"first third of the calls, {fmt(m2)} ms in the last): the machine's speed changed"
    ]


def result_from_samples(
    samples_ms: np.ndarray,
    model_name: str,
    batch_size: int,
    confidence: float,
    run_spread: float = 0.0,
    lower_factor: float = 1.0,
    stated_spread: float = 0.0,
) -> BenchmarkResult:
    """Percentiles (nearest rank) and their intervals, mean, std and throughput.

    Percentile intervals are the order-statistic ones widened for clustered calls and
    ``run_spread`` (of which ``stated_spread`` is the stated floor), their lower ends lowered
    by ``lower_factor`` for contention (stability.py); with ``run_spread=0``, independent
    calls and no contention, exact.
    """
    ordered = np.sort(samples_ms)
    n = len(ordered)
    mean = float(ordered.mean())
    pct = {m: stats.percentile(ordered, q) for m, q in PERCENTILES.items()}
    ci: dict[str, tuple[float | None, float | None]] = {
        m: stability.percentile_interval(
            samples_ms, q, confidence, run_spread, lower_factor, stated_spread
        )
        for m, q in PERCENTILES.items()
    }
    ci["mean"] = mean_interval(samples_ms, confidence, run_spread, lower_factor)
    return BenchmarkResult(
        model_name=model_name,
        batch_size=batch_size,
        n_samples=n,
        latency_mean=mean,
        latency_p50=pct["p50"],
        latency_p95=pct["p95"],
        latency_p99=pct["p99"],
        latency_std=float(ordered.std(ddof=1)) if n >= 2 else 0.0,
        throughput_rps=batch_size * 1000.0 / mean if mean > 0 else 0.0,
        memory_mb=None,
        latency_min=float(ordered[0]),
        latency_max=float(ordered[-1]),
        latency_p90=pct["p90"],
        ci=ci,
        confidence=confidence,
        samples_ms=[float(x) for x in samples_ms],
    )
