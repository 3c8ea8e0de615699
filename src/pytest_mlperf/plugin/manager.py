"""The session's manager: validates markers, judges each test, gathers the records, and at the
end writes one report, compares with a stored run, saves this one, and sets the exit status.

Shape after pytest-memray: one object registered as a plugin; verdicts flip the report of the
test that broke them; a run-level failure (session budget, regression) sets the exit status
after the report is written, so pytest's own summary line is still printed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from .. import __version__
from ..config import Settings
from ..marks import (
    BUDGET_MARKER,
    MARKERS,
    REGRESSION_MARKER,
    Limit,
    MarkerError,
    parse_marker,
    parse_regression,
)
from ..neutral import neutral
from . import keys, lazy
from .signals import catch_sigterm, restore_sigterm
from .transport import (
    LOCK_PATH,
    PAYLOAD_KEY,
    SPOOL_KEY,
    Records,
    append_spool,
    read_spool,
    to_json,
)

if TYPE_CHECKING:  # the rest is imported when a test measures something (a fast start-up)
    from ..budget import TestBudget
    from ..cost import CostConfig
    from ..regression.comparison import Comparison
    from ..results import BenchmarkResult
    from .regressions import Baseline


JUNIT_FAMILIES = ("xunit1", "legacy")  # the junit_family values with per-test properties


def item_limits(item: pytest.Item) -> list[Limit]:
    """Every marker's limits; where a test, its class and its module limit the same metric,
    the closest marker wins (a test may relax or tighten its module's budget)."""
    chosen: dict[str, Limit] = {}
    for name in MARKERS:
        given: dict[tuple[int, str], float] = {}  # (node, metric): a limit set twice on one node
        for node, mark in item.iter_markers_with_node(name):  # closest first
            for limit in parse_marker(name, mark.args, mark.kwargs):
                earlier = given.setdefault((id(node), limit.metric), limit.value)
                if earlier != limit.value:
                    raise MarkerError(
                        f"two @pytest.mark.{name} markers on {node.name} set {limit.metric} "
                        f"({earlier:g} and {limit.value:g}): keep one"
                    )
                chosen.setdefault(limit.metric, limit)
    return list(chosen.values())


class Manager:
    """Keeps the run's settings and records; writes the report at the end of the session."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        cost_config: CostConfig | None,
        baseline: Baseline | None,
    ) -> None:
        self.config = config
        self.settings = settings
        self._cost_config = cost_config
        self.baseline = baseline
        self.records = Records()
        self.workers = 0
        self.crashed: list[str] = []
        self.lost: list[str] = []
        self.report: dict[str, Any] | None = None
        self.written: list[str] = []
        self.notes: list[tuple[str, str]] = []  # (level, text) for the terminal summary
        self.started_workers: set[str] = set()
        self.finished_workers: set[str] = set()
        self.interrupted = False
        self._sigterm: Any = None
        workerinput = getattr(config, "workerinput", None)
        self.worker: str | None = workerinput.get("workerid") if workerinput else None
        self.spool: str | None = workerinput.get(SPOOL_KEY) if workerinput else None

    @property
    def cost_config(self) -> CostConfig:
        """The run's cost configuration; the defaults unless the user configured something."""
        if self._cost_config is None:
            lazy.load("cost")
            from ..cost import CostConfig

            self._cost_config = CostConfig()
        return self._cost_config

    @property
    def is_worker(self) -> bool:
        return self.worker is not None

    @property
    def serial_lock_path(self) -> str | None:
        return LOCK_PATH if self.settings.serial else None

    def progress(self, text: str) -> None:
        """A progress line in verbose runs; silent otherwise and on xdist workers."""
        if self.config.get_verbosity() < 1 or self.is_worker:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"  mlperf: {text}")

    def item_error(self, item: pytest.Item, message: str) -> None:
        self._collect(Records(errors=[{"nodeid": item.nodeid, "message": message}]))

    def _collect(self, records: Records) -> None:
        """Keep a test's records; a worker also spools them against a crash."""
        self.records.extend(records)
        if self.spool and self.worker and records:
            append_spool(self.spool, self.worker, records)

    # -- collection: validate markers once ------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        ours = {*MARKERS, BUDGET_MARKER, REGRESSION_MARKER}
        for item in items:
            if "model_bench" in getattr(item, "fixturenames", ()):
                self.watch_tests()
            if ours.isdisjoint(mark.name for mark in item.iter_markers()):
                continue  # the fast path for the many tests without our markers
            self.watch_tests()
            try:
                limits = item_limits(item)
                item.stash[keys.BUDGET] = self._item_budget(item)
                mark = item.get_closest_marker(REGRESSION_MARKER)
                if mark is not None:
                    item.stash[keys.REGRESSION_PCT] = parse_regression(mark.args, mark.kwargs)
            except MarkerError as exc:
                item.stash[keys.MARKER_ERROR] = f"invalid marker: {exc}"
                continue
            if limits:
                item.stash[keys.LIMITS] = limits

    def _item_budget(self, item: pytest.Item) -> TestBudget | None:
        """The closest budget marker, validated, with its assumption overrides applied."""
        mark = item.get_closest_marker(BUDGET_MARKER)
        if mark is None:
            return None  # priced with the run's configuration, if the test measures anything
        lazy.load("budget", "cost")
        from ..budget import TestBudget
        from ..cost import CostConfigError, parse_budget

        where = "@pytest.mark.budget"
        if mark.args:
            raise MarkerError(f"{where} takes keyword arguments only, got {mark.args!r}")
        try:
            spec = parse_budget(mark.kwargs, where=where)
            return TestBudget(self.cost_config.with_overrides(spec.overrides, where=where), spec)
        except CostConfigError as exc:
            raise MarkerError(str(exc)) from None

    def watch_tests(self) -> None:
        """Register the per-test hooks, once: a run whose tests neither carry our markers nor
        use model_bench never pays for them (the fixture also calls this, for tests that ask
        for it through request.getfixturevalue)."""
        if not self.config.pluginmanager.has_plugin(TEST_HOOKS_NAME):
            self.config.pluginmanager.register(PerTestHooks(self), TEST_HOOKS_NAME)

    def check_markers(self, item: pytest.Item) -> None:
        error = item.stash.get(keys.MARKER_ERROR, None)
        if error is not None:
            self.item_error(item, error)
            pytest.fail(f"pytest-mlperf: {item.nodeid}: {error}", pytrace=False)

    # -- verdicts: flip the reports of tests whose limits broke --------------------------

    def review(self, item: pytest.Item, report: pytest.TestReport) -> None:
        used = keys.RESULTS in item.stash  # model_bench was requested (the fast path: not)
        if report.when == "call":
            item.stash[keys.CALL_PASSED] = report.passed
            if used:
                self._judge(item, report)
            return
        if report.when == "teardown" and used:  # advice given after the test (--mlperf-advise)
            self._collect(Records(recommendations=self._take_recommendations(item)))
        if report.when == "teardown" and report.passed and self._never_measured(item):
            marks = ", ".join(sorted({m.name for m in item.iter_markers() if m.name in MARKERS}))
            message = (
                f"{item.nodeid} is marked with {marks} "
                "but never called the model_bench fixture, so nothing was checked"
            )
            if item.stash.get(keys.COMPARISONS, []):
                message = (
                    f"{item.nodeid} is marked with {marks}, but model_bench.ab does not check "
                    "such limits: call model_bench(model, X) to check them, or drop the marker"
                )
            self.item_error(item, message)
            report.outcome = "failed"
            report.longrepr = f"pytest-mlperf: {message}"

    def _judge(self, item: pytest.Item, report: pytest.TestReport) -> None:
        results = item.stash.get(keys.RESULTS, [])
        sweeps = item.stash.get(keys.SWEEPS, [])
        comparisons = item.stash.get(keys.COMPARISONS, [])
        records = Records(
            sweeps=[{"nodeid": item.nodeid, **sweep.to_dict()} for sweep in sweeps],
            comparisons=[c.to_dict() for c in comparisons],
            recommendations=self._take_recommendations(item),
        )
        records.costs = self._price(item, results)
        self._compare_with_baseline(item, results)
        problems = self._problems(results) + self._ab_problems(comparisons)
        if report.passed and problems:
            report.outcome = "failed"
            report.longrepr = "\n".join(neutral(problem) for problem in problems)
        tolerance = item.stash.get(keys.REGRESSION_PCT, None)
        for result in results:
            entry = result.to_record(item.nodeid, report.outcome)
            if tolerance is not None:
                entry["regression_max_pct"] = tolerance
            records.entries.append(entry)
        properties = junit_properties(records)
        if properties and self.junit_test_properties:
            item.user_properties.extend(properties)  # JUnit reads the teardown report
        self._collect(records)

    @property
    def junit_test_properties(self) -> bool:
        """pytest's rule for `record_property`: xunit2 (the default junit_family) has no
        `<properties>` in a `<testcase>`, so with it the XML would fail its schema."""
        family = self.config.getini("junit_family")
        return not getattr(self.config.option, "xmlpath", None) or family in JUNIT_FAMILIES

    @staticmethod
    def _take_recommendations(item: pytest.Item) -> list[dict[str, Any]]:
        taken = item.stash.get(keys.RECOMMENDATIONS, [])
        item.stash[keys.RECOMMENDATIONS] = []
        return taken

    def _price(self, item: pytest.Item, results: list[BenchmarkResult]) -> list[dict[str, Any]]:
        """Cost estimates for every result; a budget marker adds its check to each."""
        lazy.load("budget", "cost")
        from ..budget import TestBudget, price_result

        if not results:
            return []
        budget = item.stash.get(keys.BUDGET, None) or TestBudget(self.cost_config)
        p95 = [lim.value for lim in item.stash.get(keys.LIMITS, []) if lim.metric == "p95"]
        costs = []
        for result in results:
            try:
                entry, check, warning = price_result(
                    result.to_record(item.nodeid), budget, p95[0] if p95 else None
                )
            except (ValueError, ArithmeticError) as exc:  # a zero latency from a frozen clock
                result.warnings.append(f"no cost estimate: {exc}")
                continue
            costs.append(entry)
            if check is not None:
                result.checks.append(check)
            if warning is not None:
                result.warnings.append(warning)
        return costs

    def _compare_with_baseline(self, item: pytest.Item, results: list[BenchmarkResult]) -> None:
        if self.baseline is None:
            return
        tolerance = item.stash.get(keys.REGRESSION_PCT, self.settings.regression_pct)
        for result in results:
            result.checks += self.baseline.judge(result.to_record(item.nodeid), tolerance)

    @staticmethod
    def _ab_problems(comparisons: list[Comparison]) -> list[str]:
        """A side-by-side comparison that fails the run (regression marker) fails the test."""
        return [c.message for c in comparisons if c.fails_run]

    @staticmethod
    def _never_measured(item: pytest.Item) -> bool:
        called = item.stash.get(keys.RESULTS, [])
        passed = item.stash.get(keys.CALL_PASSED, False)
        return passed and keys.LIMITS in item.stash and not called

    def _problems(self, results: list[BenchmarkResult]) -> list[str]:
        bad = {"fail"} | ({"inconclusive"} if self.settings.inconclusive == "fail" else set())
        return [c.message for r in results for c in r.checks if c.verdict in bad]

    # -- xdist: a shared spool folder out, one JSON string (or the spool) back -------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.spool is None:
            self.spool = tempfile.mkdtemp(prefix="pytest-mlperf-")
        node.workerinput[SPOOL_KEY] = self.spool
        self.started_workers.add(node.workerinput.get("workerid", "?"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        worker = getattr(node, "workerinput", {}).get("workerid", "?")
        if worker in self.finished_workers:
            return  # xdist calls this twice for an interrupted worker: take its records once
        self.finished_workers.add(worker)
        count = getattr(node, "workerinput", {}).get("workercount")
        self.workers = max(self.workers, count) if isinstance(count, int) else self.workers + 1
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload:
            self.records.extend(json.loads(payload))
            return
        self.crashed.append(worker)
        if self.spool:
            self.records.extend(read_spool(self.spool, worker))

    def _gather_unfinished_workers(self) -> None:
        """Records of workers that never said goodbye (a Ctrl-C stops the controller before
        they do): what they spooled, test by test, is all there is; then the spool goes."""
        if self.spool is None:
            return
        for worker in sorted(self.started_workers - self.finished_workers):
            self.finished_workers.add(worker)
            self.records.extend(read_spool(self.spool, worker))
        shutil.rmtree(self.spool, ignore_errors=True)
        self.spool = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        self.lost.append(crashitem)

    # -- signals: SIGTERM ends the run as Ctrl-C does ------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.is_worker and not self.settings.disable:
            self._sigterm = catch_sigterm()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        restore_sigterm(self._sigterm)
        self._sigterm = None
        if self.spool is not None and not self.is_worker:
            shutil.rmtree(self.spool, ignore_errors=True)

    # -- end of session: one report, written before the summary --------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            if hasattr(self.config, "workeroutput"):
                self.config.workeroutput[PAYLOAD_KEY] = to_json(self.records)
            return
        self._gather_unfinished_workers()
        self.interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        if self.settings.disable or not self.records:
            return
        if self.records.entries and not self.junit_test_properties:
            self.notes.append(
                (
                    "warning",
                    f"no per-test JUnit properties written: junit_family "
                    f"{self.config.getini('junit_family')!r} allows none in a <testcase> "
                    "(set junit_family = xunit1 to get them; report.json has every figure)",
                )
            )
        try:
            self.report = self._build_report()
            self._write_outputs()
        except KeyboardInterrupt:  # a Ctrl-C at the very end: one line, not a traceback
            self.interrupted = True
            self.notes.append(("error", "interrupted while the report was written"))
        except Exception as exc:  # a bug of ours must not cost pytest's own summary
            self.notes.append(("error", f"cannot build the report: {type(exc).__name__}: {exc}"))
        failed = self.report is None or self.report["summary"]["verdict"] == "fail"
        if self.interrupted:
            # a second Ctrl-C while the report was rendered, or the tests were stopped
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            return
        if failed and session.exitstatus == pytest.ExitCode.OK:
            # a session budget or a regression broke: the report is written, pytest's
            # summary line still follows
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        errors = any(level == "error" for level, _ in self.notes)
        if errors and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _build_report(self) -> dict[str, Any]:
        lazy.load("env", "results", "cost")
        from ..env import collect_environment
        from ..results import build_report, summarize

        r = self.records
        r.entries.sort(key=lambda e: (e["nodeid"], e["batch_size"], e["name"]))
        settings = {**self.settings.as_dict(), "workers": self.workers}
        environment = collect_environment()
        report = build_report(
            r.entries,
            environment,
            settings,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            plugin_version=__version__,
            errors=r.errors,
            warnings=self._warnings() + load_warning(environment),
            sweeps=sorted(r.sweeps, key=lambda sw: (sw["nodeid"], sw["name"])),
            costs=sorted(r.costs, key=lambda c: (c["nodeid"], c["batch_size"], c["name"])),
            budget=self._session_budget(),
            comparisons=r.comparisons,
            recommendations=r.recommendations,
            lost=self.lost,
            interrupted=self.interrupted,
        )
        if self.baseline is not None:
            per_test = {
                e["nodeid"]: e["regression_max_pct"] for e in r.entries if "regression_max_pct" in e
            }
            compared = self.baseline.compare(report, self.settings.regression_pct, per_test)
            report["comparisons"] += [c.to_dict() for c in compared]
            report["baseline"] = {
                "path": self.baseline.path,
                "same_machine": self.baseline.same_machine,
                "history_runs": len(self.baseline.history),
            }
            report["summary"] = summarize(report)
        return report

    def _write_outputs(self) -> None:
        lazy.load("regression.store", "report", "report.html", "report.benchmark_json")
        from ..regression.store import BaselineError, save_run
        from ..report import ReportSetError, append_step_summary, write_reports
        from ..report.benchmark_json import render_benchmark_json

        assert self.report is not None
        report = self.report
        extra = (
            [(self.settings.benchmark_json, render_benchmark_json)]
            if self.settings.benchmark_json
            else []
        )
        folder = self.settings.report_dir
        if folder:
            from ..report.html import INSTALL_HINT, html_available

            if not html_available() and not self.settings.no_html:
                self.notes.append(("info", f"{INSTALL_HINT} (report.json and report.md written)"))
        try:
            self.written = write_reports(
                report, folder, html=not self.settings.no_html, extra=extra
            )
        except ReportSetError as exc:  # a renderer's bug or a NaN: the other files are written
            self.written = exc.written
            self.interrupted = self.interrupted or exc.interrupted
            for path, why in exc.failed.items():
                self.notes.append(("error", f"cannot write {path}: {why}"))
        except OSError as exc:  # a full disk, a folder taken away: not an INTERNALERROR
            where = folder or self.settings.benchmark_json
            self.notes.append(
                ("error", f"cannot write the report to {where!r}: {exc.strerror or exc}")
            )
            return
        if folder:
            try:
                append_step_summary(report)
            except OSError as exc:  # the report itself is written: say so, do not fail the run
                self.notes.append(
                    ("warning", f"cannot append the report to $GITHUB_STEP_SUMMARY: {exc}")
                )
        if self.settings.save is None:
            return
        if self.interrupted:  # a partial run must never become the baseline of the next one
            self.notes.append(("warning", "the run was interrupted: it is not saved"))
            return
        try:
            path = save_run(report, self.settings.storage, self.settings.save_name)
            self.notes.append(("info", f"saved this run as {path}"))
        except (OSError, BaselineError) as exc:
            self.notes.append(("error", f"cannot save the run: {exc}"))

    def _session_budget(self) -> dict[str, Any] | None:
        from ..cost import check_session_budget

        high, low = self.settings.budget_usd, self.settings.budget_warn_usd
        if high is None and low is None:
            return None
        verdict, message = check_session_budget(self.records.costs, high, low)
        return {
            "max_monthly_usd": high,
            "warn_monthly_usd": low,
            "verdict": verdict,
            "message": message,
        }

    def _warnings(self) -> list[str]:
        out = []
        if self.workers > 1 and self.settings.serial:
            out.append(
                f"measured under pytest-xdist with {self.workers} workers, one benchmark at a "
                "time (--mlperf-serial): other workers' ordinary tests still ran meanwhile"
            )
        elif self.workers > 1:
            out.append(
                f"measured under pytest-xdist with {self.workers} workers: "
                "latency was contended by the other workers' tests"
            )
        if self.crashed:
            lost = ", ".join(sorted(set(self.lost))) or "unknown"
            workers = ", ".join(sorted(set(self.crashed)))
            out.append(
                f"worker(s) {workers} crashed: their results up to the crash are included; "
                f"lost: {lost}"
            )
        if self.baseline is not None and not self.baseline.same_machine:
            out.append(
                f"baseline {self.baseline.path} was measured on another machine: "
                "comparisons only warn"
            )
        return out

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is not None:
            from ..report.terminal import render_terminal

            verbosity = self.config.get_verbosity()
            lines = render_terminal(self.report, verbose=verbosity > 0, quiet=verbosity < 0)
            if lines:
                terminalreporter.write_sep("=", "pytest-mlperf")
                for line in lines:
                    terminalreporter.write_line(line)
            for path in self.written:
                terminalreporter.write_line(neutral(f"pytest-mlperf: wrote {path}"))
        for level, text in self.notes:
            style = {"error": {"red": True}, "warning": {"yellow": True}}.get(level, {})
            prefix = {"error": "ERROR: ", "warning": "WARNING: "}.get(level, "")
            terminalreporter.write_line(neutral(f"pytest-mlperf: {prefix}{text}"), **style)


TEST_HOOKS_NAME = "mlperf_tests"


class PerTestHooks:
    """The hooks pytest calls for every test; registered only when some test uses the plugin."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.manager.check_markers(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        if not self.manager.settings.disable:
            try:
                self.manager.review(item, report)
            except Exception as exc:  # a bug of ours fails one test, not the run
                message = f"cannot judge this test's results: {type(exc).__name__}: {exc}"
                self.manager.item_error(item, message)
                report.outcome = "failed"
                report.longrepr = f"pytest-mlperf: {item.nodeid}: {message}"
        return report


def load_warning(environment: dict[str, Any]) -> list[str]:
    """More runnable processes than cores at the end of the run: latency was likely inflated."""
    load, cores = environment.get("load_average"), environment.get("cpu_count") or 1
    if not load or load[0] <= cores:
        return []
    return [
        f"load average {load[0]:g} on {cores} cores at the end of the run: other processes "
        "competed for the CPU, so latency may be inflated"
    ]


def junit_properties(records: Records) -> list[tuple[str, object]]:
    """Key figures of a test's results as JUnit XML properties (shown by CI test viewers);
    names are neutralised, so the XML stays well-formed whatever they hold."""
    props: list[tuple[str, object]] = []
    costs = {(c["name"], c["batch_size"]): c for c in records.costs}
    for entry in records.entries:
        tag = neutral(f"mlperf[{entry['name']},batch={entry['batch_size']}]")
        lat = entry["latency_ms"]
        props += [(f"{tag}.{k}_ms", round(lat[k], 6)) for k in ("p50", "p95", "p99")]
        props.append((f"{tag}.throughput_rps", round(entry["throughput_rps"], 3)))
        if entry.get("memory_mb") is not None:
            props.append((f"{tag}.memory_mb", round(entry["memory_mb"], 4)))
        props += [(f"{tag}.check.{c['metric']}", neutral(c["verdict"])) for c in entry["checks"]]
        cost = costs.get((entry["name"], entry["batch_size"]))
        if cost and cost.get("recommended_monthly_usd") is not None:
            props.append((f"{tag}.monthly_usd", round(cost["recommended_monthly_usd"], 2)))
            props.append((f"{tag}.recommended_tier", neutral(cost["recommended"])))
    return props
