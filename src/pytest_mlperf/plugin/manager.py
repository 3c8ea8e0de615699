"""The plugin object pytest calls: the run's settings and its thin hooks, each handing its
event to the collaborator whose job it is.

- `collect.MarkerCollector`: markers validated once at collection, a bad one failing its test;
- `review.Reviewer`: each test's results priced, compared and kept, its report flipped when a
  limit, budget or regression broke;
- `gather.Gatherer`: the records, kept test by test and gathered from xdist workers;
- `output.Output`: the report written, the exit status set, the summary printed.

Shape after pytest-memray: one object registered as a plugin; verdicts flip the report of the
test that broke them; a run-level failure sets the exit status after the report is written.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ..settings import Settings
from . import lazy
from .collect import MarkerCollector
from .gather import Gatherer
from .output import Output
from .review import Reviewer
from .signals import catch_sigterm, restore_sigterm
from .transport import LOCK_PATH

if TYPE_CHECKING:  # the rest is imported when a test measures something (a fast start-up)
    from ..cost import CostConfig
    from .regressions import Baseline


class Manager:
    """Keeps the run's settings and collaborators; pytest calls its hooks."""

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
        self.notes: list[tuple[str, str]] = []  # (level, text) for the terminal summary
        self._sigterm: Any = None
        self.gather = Gatherer(config)
        self.markers = MarkerCollector(self)
        self.reviewer = Reviewer(self)
        self.output = Output(self)

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
        return self.gather.is_worker

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
        self.gather.item_error(item, message)

    def watch_tests(self) -> None:
        """Register the per-test hooks, once: a run whose tests neither carry our markers nor
        use model_bench never pays for them (the fixture also calls this, for tests that ask
        for it through request.getfixturevalue)."""
        if not self.config.pluginmanager.has_plugin(TEST_HOOKS_NAME):
            self.config.pluginmanager.register(PerTestHooks(self), TEST_HOOKS_NAME)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.markers.prepare(items)

    # -- xdist: the gatherer hands out the spool folder and takes each worker's records ----

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        self.gather.configure_node(node)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.gather.node_down(node)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        self.gather.lost.append(crashitem)

    # -- signals: SIGTERM ends the run as Ctrl-C does ------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.is_worker and not self.settings.disable:
            self._sigterm = catch_sigterm()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        restore_sigterm(self._sigterm)
        self._sigterm = None
        self.gather.remove_spool()

    # -- end of session: one report, written before the summary --------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            self.gather.send(self.config)
            return
        self.gather.gather_unfinished_workers()
        self.output.finish(session)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self.output.summary(terminalreporter)


TEST_HOOKS_NAME = "mlperf_tests"


class PerTestHooks:
    """The hooks pytest calls for every test; registered only when some test uses the plugin."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.manager.markers.check(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        if not self.manager.settings.disable:
            try:
                self.manager.reviewer.review(item, report)
            except Exception as exc:  # a bug of ours fails one test, not the run
                message = f"cannot judge this test's results: {type(exc).__name__}: {exc}"
                self.manager.item_error(item, message)
                report.outcome = "failed"
                report.longrepr = f"pytest-mlperf: {item.nodeid}: {message}"
        return report
