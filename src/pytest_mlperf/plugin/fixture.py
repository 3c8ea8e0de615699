"""The `model_bench` fixture: measure, sweep, compare side by side, advise.

Every result is kept on the test item, checked against the test's markers after the test, and
reported. Bad input fails the calling test with one clear line; a model's own exception keeps
its traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from .. import validate
from ..marks import Limit
from ..neutral import neutral
from ..numbers import fmt
from . import keys, lazy
from .transport import LOCK_PATH, serial_lock

if TYPE_CHECKING:  # imported on first use: see pytest_mlperf/__init__.py
    from ..bench import Benchmarker, Sweep
    from ..load import LoadResult, Prediction
    from ..load.capacity import CapacityResult
    from ..optimize import Advice
    from ..regression.ab import ABResult
    from ..results import BenchmarkResult
    from .manager import Manager

T = TypeVar("T")


class MlperfInconclusiveWarning(pytest.PytestWarning):
    """A limit could not be decided at the requested confidence within the sampling budget."""


class ModelBench:
    """Measure a model's inference; see `__call__`, `sweep`, `ab` and `advise`."""

    def __init__(self, item: pytest.Item, manager: Manager) -> None:
        lazy.load(*lazy.CORE)
        manager.watch_tests()
        self._item = item
        self._manager = manager
        self.limits: list[Limit] = item.stash.get(keys.LIMITS, [])
        self.results: list[BenchmarkResult] = item.stash.setdefault(keys.RESULTS, [])
        self.sweeps: list[Sweep] = item.stash.setdefault(keys.SWEEPS, [])
        self.measured: list[tuple[Any, Any, int, str, str | None]] = []

    @property
    def disabled(self) -> bool:
        """True under --mlperf-disable: results then hold one untimed call and no memory."""
        return self._manager.settings.disable

    @property
    def tolerance_pct(self) -> float:
        """The test's regression marker, else --mlperf-regression-pct."""
        return self._item.stash.get(keys.REGRESSION_PCT, self._manager.settings.regression_pct)

    def benchmarker(self, **overrides: Any) -> Benchmarker:
        from ..bench import Benchmarker

        s = self._manager.settings
        accepted = [f.name for f in fields(Benchmarker)]
        validate.settings(overrides, validate.BENCHMARKER_CHECKS, accepted)
        options: dict[str, Any] = {
            "max_time": s.max_time,
            "confidence": s.confidence,
            "run_spread": s.run_spread / 100.0,
        }
        options.update(overrides)
        return Benchmarker(**options)

    def __call__(
        self,
        model: Any,
        X: Any,
        *,
        batch_size: int = 1,
        method: str = "predict",
        name: str | None = None,
        **overrides: Any,
    ) -> BenchmarkResult:
        """Measure `model.method` on batches of `batch_size` rows of X and check the markers."""
        self._check(lambda: validate.call(X, method, name), "")
        if self.disabled:
            return self._run_once(model, X, batch_size, method, name)
        bench = self._make(overrides)
        with self._measuring():
            result = self._guard(
                lambda: bench.benchmark(
                    model, X, batch_size=batch_size, method=method, name=name, limits=self.limits
                )
            )
        self._record(result)
        self.measured.append((model, X, result.batch_size, method, name))
        return result

    def sweep(
        self,
        model: Any,
        X: Any,
        batch_sizes: Sequence[int] = (1, 8, 32, 64),
        *,
        method: str = "predict",
        name: str | None = None,
        **overrides: Any,
    ) -> Sweep:
        """Measure growing batch sizes; `.best_batch_size` has the most rows/s within limits."""
        from ..bench import Sweep, as_batch_sizes

        self._check(lambda: validate.call(X, method, name), "")
        sizes = self._guard(lambda: as_batch_sizes(batch_sizes))
        if self.disabled:
            return Sweep([self._run_once(model, X, bs, method, name) for bs in sizes])
        bench = self._make(overrides)

        def measured(result: BenchmarkResult) -> None:
            self._record(result)
            self._progress(
                f"batch {result.batch_size}: p95 {fmt(result.latency_p95)} ms, "
                f"{fmt(result.throughput_rps)} rows/s"
            )

        # each size is recorded as it is measured: a later size's error loses nothing
        with self._measuring():
            sweep = self._guard(
                lambda: bench.sweep(
                    model, X, sizes, method=method, name=name, limits=self.limits,
                    on_result=measured,
                )
            )  # fmt: skip
        self.sweeps.append(sweep)
        self._progress(f"sweep: best batch {sweep.best_batch_size} ({sweep.stop_reason or 'done'})")
        return sweep

    def ab(
        self,
        baseline: Any,
        candidate: Any,
        X: Any,
        *,
        batch_size: int = 1,
        method: str = "predict",
        **options: Any,
    ) -> ABResult:
        """Time baseline and candidate taking turns call by call; judge their p95 ratio (their
        CPU time per call when other processes held the comparison off the CPU).

        The verdict is REGRESSION only when the candidate is significantly slower by more
        than the tolerance (the regression marker's max_pct, else --mlperf-regression-pct).
        With the regression marker a REGRESSION also fails the test.
        """
        from ..bench import SettingError
        from ..regression.ab import measure_ab

        self._check(lambda: validate.call(X, method, None), "")
        self._check(lambda: validate.settings(options, validate.AB_CHECKS))
        options.setdefault("tolerance_pct", self.tolerance_pct)
        if self.disabled:
            options.update(blocks=2, max_blocks=2, block_calls=20, warmup=0)
        self._progress("A/B: measuring baseline and candidate, taking turns call by call")

        def measure() -> ABResult:
            try:
                return measure_ab(
                    baseline, candidate, X, batch_size=batch_size, method=method, **options
                )
            except (TypeError, ValueError) as exc:  # model errors arrive as ModelCallError
                raise SettingError(f"bad setting: {exc}") from None

        with self._measuring():
            result = self._guard(measure)
        self._progress(f"A/B: {result.summary()}")
        # informative only: the regression marker makes a side-by-side comparison a gate
        gating = keys.REGRESSION_PCT in self._item.stash
        comparisons = result.comparisons(self._item.nodeid, gating=gating)
        self._item.stash.setdefault(keys.COMPARISONS, []).extend(comparisons)
        return result

    def load(
        self,
        model: Any,
        X: Any,
        *,
        rps: float,
        workers: int = 1,
        pool: str = "threads",
        arrival: str = "poisson",
        duration_s: float | None = None,
        batch_size: int = 1,
        method: str = "predict",
        name: str | None = None,
        serial: bool = True,
        **options: Any,
    ) -> LoadResult:
        """Offer open-loop traffic at `rps` requests/s; latency counts from each request's
        scheduled time. The test's markers judge the result. Under xdist the run holds the
        machine-wide measurement lock unless `serial=False`."""
        lazy.load("load")
        from ..load import load

        s = self._manager.settings
        options.update(
            rps=rps, workers=workers, pool=pool, arrival=arrival, duration_s=duration_s,
            batch_size=batch_size, method=method, name=name, max_time=s.max_time,
        )  # fmt: skip
        if self.disabled:  # a few requests, to check that the model runs under the pool
            options.update(duration_s=None, max_time=0.1, rps=rps)
            return self._guard(lambda: load(model, X, **options))
        self._progress(f"load: {rps:g} rps, {workers} {pool} worker(s)")
        with self._measuring(load=serial):
            result = self._guard(
                lambda: load(
                    model, X, limits=self.limits, confidence=s.confidence,
                    progress=self._progress, **options,
                )
            )  # fmt: skip
        single = self._single_call(result)
        if single is not None:  # predicted from the single calls, beside the measured figures
            self.predict_load(single, rps=result.rps, workers=result.workers, into=result)
        self._progress(
            f"load: p95 {fmt(result.latency_p95)} ms, achieved {fmt(result.achieved_rps)} rps"
            + (f", SATURATED: {result.saturation_reason}" if result.saturated else "")
        )
        self._record(result)
        return result

    def predict_load(
        self,
        result: BenchmarkResult,
        *,
        rps: float,
        workers: int = 1,
        into: BenchmarkResult | None = None,
    ) -> Prediction:
        """Latency under `rps` requests/s on `workers` workers, predicted from a single-call
        result's samples by an M/G/c simulation; shown in the report as predicted under load."""
        lazy.load("load")
        from ..bench import BenchmarkError
        from ..load import predict
        from ..load.schedule import positive_int, positive_number

        def run() -> Prediction:
            rate, count = positive_number("rps", rps), positive_int("workers", workers)
            if not result.samples_ms:
                raise ValueError("the result has no samples to predict from")
            return predict(result.samples_ms, rate, count)

        try:
            prediction = run()
        except (ValueError, BenchmarkError) as exc:
            message = f"model_bench.predict_load: {exc}"
        else:
            (into or result).predictions.append(
                {**prediction.to_dict(), "from": f"single calls of {result.name}"}
            )
            return prediction
        self._error(message)
        pytest.fail(message, pytrace=False)

    def _single_call(self, loaded: LoadResult) -> BenchmarkResult | None:
        """This test's latest single-call result of the same model, method and batch size."""
        from ..load import LoadResult

        for result in reversed(self.results):
            same = (result.model_name, result.method, result.batch_size) == (
                loaded.model_name, loaded.method, loaded.batch_size
            )  # fmt: skip
            if same and not isinstance(result, LoadResult) and result.samples_ms:
                return result
        return None

    def capacity(
        self,
        model: Any,
        X: Any,
        *,
        workers: int = 1,
        pool: str = "threads",
        p95_ms: float | None = None,
        p99_ms: float | None = None,
        max_rps: float | None = None,
        serial: bool = True,
        **options: Any,
    ) -> CapacityResult:
        """The highest request rate one replica holds within the latency limits (keywords, else
        the test's latency marker); `@pytest.mark.throughput(min_rps=...)` asserts it."""
        lazy.load("load", "load.capacity")
        from ..load.capacity import capacity

        s = self._manager.settings
        options.update(workers=workers, pool=pool, p95_ms=p95_ms, p99_ms=p99_ms, max_rps=max_rps)
        limits = self.limits
        if self.disabled:  # a short search, and no throughput limit to judge
            options.update(max_steps=1, step_s=0.05)
            limits = [lim for lim in limits if lim.is_latency]
        with self._measuring(load=serial and not self.disabled):
            result = self._guard(
                lambda: capacity(
                    model, X, limits=limits, confidence=s.confidence,
                    progress=self._progress, **options,
                )
            )  # fmt: skip
        if self.disabled:
            return result
        self._progress(f"capacity: {fmt(result.max_rps)} rps ({result.stop_reason})")
        self._record(result.report_result())
        return result

    def advise(self, model: Any, X: Any, y: Any = None, **options: Any) -> Advice:
        """Try the optimizations that apply to the model and measure what each one gives."""
        lazy.load("optimize")
        from ..optimize import advise

        self._check(
            lambda: validate.call(X, options.get("method", "predict"), options.get("name")), ""
        )
        accepted = [p for p in inspect.signature(advise).parameters if p not in ("model", "X")]
        self._check(lambda: validate.settings(options, validate.ADVISE_CHECKS, accepted))
        options.setdefault("limits", self.limits)
        options.setdefault("benchmarker", self.benchmarker())
        self._progress("advise: measuring the model and each optimization that applies")
        with self._measuring():
            advice = self._guard(lambda: advise(model, X, y, **options))
        self._item.stash.setdefault(keys.RECOMMENDATIONS, []).extend(
            advice.records(self._item.nodeid)
        )
        for sentence in advice.recommendations:
            self._progress(f"advise: {sentence}")
        return advice

    # pytest.fail is called outside the `except` blocks: inside, the report would also show
    # the caught exception as "During handling of the above exception, another exception...".

    def _make(self, overrides: dict[str, Any]) -> Benchmarker:
        return self._check(lambda: self.benchmarker(**overrides))

    def _check(self, make: Callable[[], T], what: str = "bad setting: ") -> T:
        """`make()`, or the test fails with one line naming the bad argument."""
        try:
            return make()
        except (TypeError, ValueError) as exc:
            message = f"model_bench: {what}{exc}"
        self._error(message)
        pytest.fail(message, pytrace=False)

    def _guard(self, measure: Callable[[], T]) -> T:
        from ..bench import BenchmarkError, ModelCallError
        from ..watchdog import MeasurementTimeout

        try:
            return measure()
        except SystemExit as exc:  # not an Exception: the test fails, and the report says why
            message = f"model_bench: the model raised SystemExit({exc.code!r}) while measured"
            self._error(message)
        except BenchmarkError as exc:
            self._error(str(exc))
            if isinstance(exc, ModelCallError):
                raise  # keep the model's own traceback
            message = neutral(f"model_bench: {exc}")
        except MeasurementTimeout as exc:  # fired outside a model call: one line
            message = f"model_bench: {exc}"
            self._error(message)
        pytest.fail(message, pytrace=False)

    def _error(self, message: str) -> None:
        self._manager.item_error(self._item, message)

    @contextlib.contextmanager
    def _measuring(self, load: bool = False) -> Iterator[None]:
        """The machine-wide lock under --mlperf-serial, and for load runs under xdist (two
        load tests at once would measure each other); and the measurement's deadline, so that
        a model call that never returns ends the test instead of the run."""
        from .. import watchdog

        path = self._manager.serial_lock_path
        if load and path is None and self._manager.is_worker:
            path = LOCK_PATH
        seconds = watchdog.deadline_for(self._manager.settings.max_time, 0.05)
        with serial_lock(path), watchdog.deadline(seconds):
            yield

    def _progress(self, text: str) -> None:
        self._manager.progress(f"{self._item.nodeid}: {text}")

    def _run_once(
        self, model: Any, X: Any, batch_size: int, method: str, name: str | None
    ) -> BenchmarkResult:
        bench = self.benchmarker(
            warmup=0, warmup_time=0.0, samples=2, max_samples=1, measure_memory=False
        )
        return self._guard(
            lambda: bench.benchmark(model, X, batch_size=batch_size, method=method, name=name)
        )

    def _record(self, result: BenchmarkResult) -> None:
        self.results.append(result)
        undecided = [c for c in result.checks if c.verdict == "inconclusive"]
        if undecided and self._manager.settings.inconclusive == "warn":
            for check in undecided:
                warnings.warn(
                    MlperfInconclusiveWarning(neutral(f"inconclusive: {check.message}")),
                    stacklevel=_user_stacklevel(),
                )


def _user_stacklevel() -> int:
    """`stacklevel` for a warning raised in the caller: the first frame outside the plugin
    (and the measuring core), so that the warning names the line of the test."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # pytest_mlperf/
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level
