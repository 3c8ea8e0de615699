"""The end of the session: one report built from the gathered records, written before pytest's
summary, saved as a baseline if asked, the exit status set, and the summary lines printed.

A run-level failure (session budget, regression) sets the exit status after the report is
written, so pytest's own summary line is still printed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from .. import __version__
from ..neutral import neutral
from . import lazy
from .review import junit_test_properties

if TYPE_CHECKING:
    from .manager import Manager


class Output:
    """Builds and writes the report, decides the exit status, and prints the summary."""

    def __init__(self, run: Manager) -> None:
        self.run = run
        self.settings = run.settings
        self.baseline = run.baseline
        self.report: dict[str, Any] | None = None
        self.written: list[str] = []
        self.interrupted = False

    @property
    def notes(self) -> list[tuple[str, str]]:
        """(level, text) for the terminal summary, shared with the rest of the plugin."""
        return self.run.notes

    def finish(self, session: pytest.Session) -> None:
        """Write the report, then set the exit status from its verdict and the notes."""
        self.interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        if self.settings.disable or not self.run.gather.records:
            return
        config = self.run.config
        if self.run.gather.records.entries and not junit_test_properties(config):
            self.notes.append(
                (
                    "warning",
                    f"no per-test JUnit properties written: junit_family "
                    f"{config.getini('junit_family')!r} allows none in a <testcase> "
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
        from ..cost.budget import session_budget
        from ..env import collect_environment
        from ..results import build_report, run_summary

        gathered = self.run.gather
        r = gathered.records
        r.entries.sort(key=lambda e: (e["nodeid"], e["batch_size"], e["name"]))
        settings = {**self.settings.as_dict(), "workers": gathered.workers}
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
            budget=session_budget(r.costs, self.settings.budget_usd, self.settings.budget_warn_usd),
            comparisons=r.comparisons,
            recommendations=r.recommendations,
            lost=gathered.lost,
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
            report["summary"] = run_summary(report)
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

    def _warnings(self) -> list[str]:
        out = self.run.gather.warnings(serial=self.settings.serial)
        if self.baseline is not None and not self.baseline.same_machine:
            out.append(
                f"baseline {self.baseline.path} was measured on another machine: "
                "comparisons only warn"
            )
        return out

    def summary(self, terminalreporter: Any) -> None:
        """The report's terminal lines, the files written, and every note."""
        if self.report is not None:
            from ..report.terminal import render_terminal

            verbosity = self.run.config.get_verbosity()
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


def load_warning(environment: dict[str, Any]) -> list[str]:
    """More runnable processes than cores at the end of the run: latency was likely inflated."""
    load, cores = environment.get("load_average"), environment.get("cpu_count") or 1
    if not load or load[0] <= cores:
        return []
    return [
        f"load average {load[0]:g} on {cores} cores at the end of the run: other processes "
        "competed for the CPU, so latency may be inflated"
    ]
