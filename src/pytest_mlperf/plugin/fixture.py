"""The `model_bench` fixture: measure, sweep, compare side by side, advise.

Every result is kept on the test item, checked against the test's markers after the test, and
reported. Bad input fails the calling test with one clear line; a model's own exception keeps
its traceback.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from .. import validate
from ..marks import Limit
from ..neutral import neutral
from ..numbers import fmt
from . import keys, lazy
from .transport import serial_lock

if TYPE_CHECKING:  # imported on first use: see pytest_mlperf/__init__.py
    from ..ab import ABResult
    from ..bench import Benchmarker, Sweep
    from ..optimize import Advice
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
        options: dict[str, Any] = {"max_time": s.max_time, "confidence": s.confidence}
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
        """Time baseline and candidate in interleaved paired blocks; judge their p95 ratio.

        The verdict is REGRESSION only when the candidate is significantly slower by more
        than the tolerance (the regression marker's max_pct, else --mlperf-regression-pct).
        With the regression marker a REGRESSION also fails the test.
        """
        from ..ab import measure_ab
        from ..bench import SettingError

        self._check(lambda: validate.call(X, method, None), "")
        self._check(lambda: validate.settings(options, validate.AB_CHECKS))
        options.setdefault("tolerance_pct", self.tolerance_pct)
        if self.disabled:
            options.update(blocks=2, max_blocks=2, block_calls=20, warmup=0)
        self._progress("A/B: measuring baseline and candidate in interleaved blocks")

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
        comparisons = result.comparisons(self._item.nodeid)
        if keys.REGRESSION_PCT not in self._item.stash:
            for record in comparisons:  # informative: only the regression marker makes it a gate
                record["gating"] = False
        self._item.stash.setdefault(keys.COMPARISONS, []).extend(comparisons)
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
        pytest.fail(message, pytrace=False)

    def _error(self, message: str) -> None:
        self._manager.item_error(self._item, message)

    def _measuring(self) -> Any:
        """The machine-wide lock under --mlperf-serial; nothing otherwise."""
        return serial_lock(self._manager.serial_lock_path)

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
