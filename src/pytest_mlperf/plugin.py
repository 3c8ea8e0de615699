"""pytest glue only: options, markers, the `model_bench` fixture, hooks and xdist transport.

Shape after pytest-memray: marker functions define the markers (`marks.py`), verdicts fail the
test that broke them, and one manager object keeps the run's results. Markers are validated at
collection so bad arguments become that test's error, never an INTERNALERROR.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Generator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from . import __version__
from .bench import Benchmarker, BenchmarkError, ModelCallError, Sweep, as_batch_sizes
from .budget import TestBudget, price_result
from .config import OPTIONS, Settings, SettingsError
from .cost import CostConfig, CostConfigError, check_session_budget, load_cost_config, parse_budget
from .env import collect_environment
from .marks import BUDGET_MARKER, MARKERS, Limit, MarkerError, marker_help, parse_marker
from .report import append_step_summary, write_reports
from .report.terminal import render_terminal
from .results import BenchmarkResult, build_report

LIMITS_KEY = pytest.StashKey[list[Limit]]()
MARKER_ERROR_KEY = pytest.StashKey[str]()
RESULTS_KEY = pytest.StashKey[list[BenchmarkResult]]()
SWEEPS_KEY = pytest.StashKey[list[Sweep]]()
BUDGET_KEY = pytest.StashKey[TestBudget]()
CALL_PASSED_KEY = pytest.StashKey[bool]()
PLUGIN_NAME = "mlperf_manager"
T = TypeVar("T")
WORKER_OUTPUT_KEY = "pytest_mlperf"
PATH_OPTIONS = {option.name: option.path for option in OPTIONS}
PAYLOAD_FIELDS = ("entries", "errors", "sweeps", "costs")  # what a worker sends to the controller


class MlperfInconclusiveWarning(pytest.PytestWarning):
    """A limit could not be decided at the requested confidence within the sampling budget."""


def _argparse(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(text: str) -> Any:
        try:
            return convert(text)
        except SettingsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return wrapped


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlperf", "ML inference performance (pytest-mlperf)")
    for option in OPTIONS:
        if option.flag:
            group.addoption(option.cli, action="store_true", default=None, help=option.help)
            parser.addini(option.ini, f"as {option.cli}", type="bool", default=False)
            continue
        extra: dict[str, Any] = {"nargs": "?", "const": option.const} if option.const else {}
        group.addoption(
            option.cli,
            type=_argparse(option.parse),
            default=None,
            metavar=option.metavar,
            help=option.help + ".",
            **extra,
        )
        parser.addini(option.ini, f"as {option.cli}", default="")


def pytest_configure(config: pytest.Config) -> None:
    for name in (*MARKERS, BUDGET_MARKER):
        config.addinivalue_line("markers", marker_help(name))

    def lookup(name: str) -> Any:
        value = config.getoption(f"mlperf_{name}")
        if value is not None:
            return value
        try:
            value = config.getini(f"mlperf_{name}")
        except (ValueError, pytest.UsageError) as exc:  # pytest's conversion of a typed value
            raise SettingsError(f"mlperf_{name}: {exc}") from None
        if value and PATH_OPTIONS.get(name):
            # like pytest's cache_dir: an ini path is relative to the rootdir, not the cwd
            value = str(config.rootpath / str(value))
        return value

    try:
        settings = Settings.from_lookup(lookup)
        cost_config = load_cost_config(_cost_config_path(config, settings))
    except (SettingsError, CostConfigError) as exc:
        raise pytest.UsageError(f"pytest-mlperf: {exc}") from None
    is_worker = hasattr(config, "workerinput")
    if settings.report_dir and not settings.disable and not is_worker:
        _check_writable(settings.report_dir)
    config.pluginmanager.register(Manager(config, settings, cost_config), PLUGIN_NAME)


def _cost_config_path(config: pytest.Config, settings: Settings) -> str | None:
    """The cost configuration: the option, else the rootdir's pyproject.toml if there is one."""
    if settings.cost_config:
        return settings.cost_config
    pyproject = config.rootpath / "pyproject.toml"
    return str(pyproject) if pyproject.is_file() else None


def _check_writable(directory: str) -> None:
    try:
        os.makedirs(directory, exist_ok=True)
        probe = os.path.join(directory, ".mlperf-write-check")
        with open(probe, "w", encoding="utf-8") as fh:
            fh.write("ok")
        os.remove(probe)
    except OSError as exc:
        raise pytest.UsageError(
            f"pytest-mlperf: cannot write the report to {directory!r}: {exc.strerror or exc}"
        ) from None


def _manager(config: pytest.Config) -> Manager:
    manager: Manager = config.pluginmanager.getplugin(PLUGIN_NAME)
    return manager


class ModelBench:
    """The `model_bench` fixture: measure a model; every result is checked and reported."""

    def __init__(self, item: pytest.Item, manager: Manager) -> None:
        self._item = item
        self._manager = manager
        self.limits: list[Limit] = item.stash.get(LIMITS_KEY, [])
        self.results: list[BenchmarkResult] = item.stash.setdefault(RESULTS_KEY, [])
        self.sweeps: list[Sweep] = item.stash.setdefault(SWEEPS_KEY, [])

    def benchmarker(self, **overrides: Any) -> Benchmarker:
        s = self._manager.settings
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
        if self._manager.settings.disable:
            return self._run_once(model, X, batch_size, method, name)
        bench = self._make(overrides)
        result = self._guard(
            lambda: bench.benchmark(
                model, X, batch_size=batch_size, method=method, name=name, limits=self.limits
            )
        )
        self._record(result)
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
        """Measure each batch size; `.best_batch_size` has the most rows/s within the limits."""
        sizes = self._guard(lambda: as_batch_sizes(batch_sizes))
        if self._manager.settings.disable:
            return Sweep([self._run_once(model, X, bs, method, name) for bs in sizes])
        bench = self._make(overrides)
        # each size is recorded as it is measured: a later size's error loses nothing
        sweep = self._guard(
            lambda: bench.sweep(
                model,
                X,
                sizes,
                method=method,
                name=name,
                limits=self.limits,
                on_result=self._record,
            )
        )
        self.sweeps.append(sweep)
        return sweep

    # pytest.fail is called outside the `except` blocks: inside, the report would also show
    # the caught exception as "During handling of the above exception, another exception...".

    def _make(self, overrides: dict[str, Any]) -> Benchmarker:
        try:
            return self.benchmarker(**overrides)
        except (TypeError, ValueError) as exc:
            message = f"model_bench: bad setting: {exc}"
        self._manager.errors.append({"nodeid": self._item.nodeid, "message": message})
        pytest.fail(message, pytrace=False)

    @property
    def disabled(self) -> bool:
        """True under --mlperf-disable: results then hold one untimed call and no memory."""
        return self._manager.settings.disable

    def _guard(self, measure: Callable[[], T]) -> T:
        try:
            return measure()
        except BenchmarkError as exc:
            self._manager.errors.append({"nodeid": self._item.nodeid, "message": str(exc)})
            if isinstance(exc, ModelCallError):
                raise  # keep the model's own traceback
            message = f"model_bench: {exc}"
        pytest.fail(message, pytrace=False)

    def _run_once(
        self, model: Any, X: Any, batch_size: int, method: str, name: str | None
    ) -> BenchmarkResult:
        bench = Benchmarker(
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
                    MlperfInconclusiveWarning(f"inconclusive: {check.message}"),
                    stacklevel=_user_stacklevel(),
                )


def _user_stacklevel() -> int:
    """`stacklevel` for a warning raised in the caller: the first frame outside this module,
    so that the warning names the line of the test that called model_bench."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


@pytest.fixture
def model_bench(request: pytest.FixtureRequest) -> ModelBench:
    """Measure a model's inference latency, throughput and memory; see pytest-mlperf docs."""
    return ModelBench(request.node, _manager(request.config))


def item_limits(item: pytest.Item) -> list[Limit]:
    """Every marker's limits; where a test, its class and its module limit the same metric,
    the closest marker wins (a test may relax or tighten its module's budget)."""
    chosen: dict[str, Limit] = {}
    for name in MARKERS:
        for mark in item.iter_markers(name):  # closest first
            for limit in parse_marker(name, mark.args, mark.kwargs):
                chosen.setdefault(limit.metric, limit)
    return list(chosen.values())


class Manager:
    """Keeps the run's settings and results; writes the report at the end of the session."""

    def __init__(self, config: pytest.Config, settings: Settings, cost_config: CostConfig) -> None:
        self.config = config
        self.settings = settings
        self.cost_config = cost_config
        self.entries: list[dict[str, Any]] = []
        self.costs: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.sweeps: list[dict[str, Any]] = []
        self.workers = 0
        self.report: dict[str, Any] | None = None
        self.written: list[str] = []
        self.write_error: str | None = None
        self.summary_error: str | None = None

    # -- collection: validate markers once, remember the limits --------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            try:
                limits = item_limits(item)
                item.stash[BUDGET_KEY] = self._item_budget(item)
            except (MarkerError, CostConfigError) as exc:
                item.stash[MARKER_ERROR_KEY] = f"invalid marker: {exc}"
                continue
            if limits:
                item.stash[LIMITS_KEY] = limits

    def _item_budget(self, item: pytest.Item) -> TestBudget:
        """The closest budget marker, validated, with its assumption overrides applied."""
        mark = item.get_closest_marker(BUDGET_MARKER)
        if mark is None:
            return TestBudget(self.cost_config)
        where = "@pytest.mark.budget"
        if mark.args:
            raise MarkerError(f"{where} takes keyword arguments only, got {mark.args!r}")
        spec = parse_budget(mark.kwargs, where=where)
        return TestBudget(self.cost_config.with_overrides(spec.overrides, where=where), spec)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        error = item.stash.get(MARKER_ERROR_KEY, None)
        if error is not None:
            self.errors.append({"nodeid": item.nodeid, "message": error})
            pytest.fail(f"pytest-mlperf: {item.nodeid}: {error}", pytrace=False)

    # -- verdicts: flip the reports of tests whose limits broke --------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if self.settings.disable:
            return
        results = item.stash.get(RESULTS_KEY, [])
        if report.when == "call":
            item.stash[CALL_PASSED_KEY] = report.passed
            self._price(item, results)
            problems = self._problems(results)
            if report.passed and problems:
                report.outcome = "failed"
                report.longrepr = "\n".join(problems)
            self.entries += [r.to_record(item.nodeid, report.outcome) for r in results]
            self.sweeps += [
                {"nodeid": item.nodeid, **sweep.to_dict()}
                for sweep in item.stash.get(SWEEPS_KEY, [])
            ]
        elif report.when == "teardown" and report.passed and self._never_measured(item):
            marks = ", ".join(sorted({m.name for m in item.iter_markers() if m.name in MARKERS}))
            message = (
                f"{item.nodeid} is marked with {marks} "
                "but never called the model_bench fixture, so nothing was checked"
            )
            self.errors.append({"nodeid": item.nodeid, "message": message})
            report.outcome = "failed"
            report.longrepr = f"pytest-mlperf: {message}"

    def _price(self, item: pytest.Item, results: list[BenchmarkResult]) -> None:
        """Cost estimates for every result; a budget marker adds its check to each."""
        budget = item.stash.get(BUDGET_KEY, None)
        if budget is None:
            return
        p95 = [lim.value for lim in item.stash.get(LIMITS_KEY, []) if lim.metric == "p95"]
        for result in results:
            entry, check, warning = price_result(
                result.to_record(item.nodeid), budget, p95[0] if p95 else None
            )
            self.costs.append(entry)
            if check is not None:
                result.checks.append(check)
            if warning is not None:
                result.warnings.append(warning)

    @staticmethod
    def _never_measured(item: pytest.Item) -> bool:
        called = item.stash.get(RESULTS_KEY, [])
        return item.stash.get(CALL_PASSED_KEY, False) and LIMITS_KEY in item.stash and not called

    def _problems(self, results: list[BenchmarkResult]) -> list[str]:
        bad = {"fail"} | ({"inconclusive"} if self.settings.inconclusive == "fail" else set())
        return [c.message for r in results for c in r.checks if c.verdict in bad]

    # -- xdist: workers send their entries to the controller as one JSON string ----------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        count = getattr(node, "workerinput", {}).get("workercount")
        self.workers = max(self.workers, count) if isinstance(count, int) else self.workers + 1
        payload = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
        if payload:
            data = json.loads(payload)
            for field in PAYLOAD_FIELDS:
                getattr(self, field).extend(data[field])

    # -- end of session: one report, written before the summary --------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKER_OUTPUT_KEY] = json.dumps(
                {field: getattr(self, field) for field in PAYLOAD_FIELDS}
            )
            return
        if self.settings.disable or not (self.entries or self.errors):
            return
        self.entries.sort(key=lambda e: (e["nodeid"], e["batch_size"], e["name"]))
        settings = {**self.settings.as_dict(), "workers": self.workers}
        self.report = build_report(
            self.entries,
            collect_environment(),
            settings,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            plugin_version=__version__,
            errors=self.errors,
            warnings=self._warnings(),
            sweeps=sorted(self.sweeps, key=lambda sw: (sw["nodeid"], sw["name"])),
            costs=sorted(self.costs, key=lambda c: (c["nodeid"], c["batch_size"], c["name"])),
            budget=self._session_budget(),
        )
        if self.report["summary"]["verdict"] == "fail" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a session budget broke
        if self.settings.report_dir:
            try:
                self.written = write_reports(self.report, self.settings.report_dir)
            except (OSError, ValueError) as exc:  # ValueError: a non-finite number in the JSON
                self.write_error = f"cannot write the report to {self.settings.report_dir!r}: {exc}"
                if session.exitstatus == 0:
                    session.exitstatus = pytest.ExitCode.TESTS_FAILED
                return
            try:
                append_step_summary(self.report)
            except OSError as exc:  # the report itself is written: say so, do not fail the run
                self.summary_error = f"cannot append the report to $GITHUB_STEP_SUMMARY: {exc}"

    def _session_budget(self) -> dict[str, Any] | None:
        high, low = self.settings.budget_usd, self.settings.budget_warn_usd
        if high is None and low is None:
            return None
        verdict, message = check_session_budget(self.costs, high, low)
        return {
            "max_monthly_usd": high,
            "warn_monthly_usd": low,
            "verdict": verdict,
            "message": message,
        }

    def _warnings(self) -> list[str]:
        if self.workers > 1:
            return [
                f"measured under pytest-xdist with {self.workers} workers: "
                "latency was contended by the other workers' tests"
            ]
        return []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            return
        verbosity = self.config.get_verbosity()
        lines = render_terminal(self.report, verbose=verbosity > 0, quiet=verbosity < 0)
        if lines:
            terminalreporter.write_sep("=", "pytest-mlperf")
            for line in lines:
                terminalreporter.write_line(line)
        for path in self.written:
            terminalreporter.write_line(f"pytest-mlperf: wrote {path}")
        if self.write_error:
            terminalreporter.write_line(f"pytest-mlperf: ERROR: {self.write_error}", red=True)
        if self.summary_error:
            terminalreporter.write_line(
                f"pytest-mlperf: WARNING: {self.summary_error}", yellow=True
            )
