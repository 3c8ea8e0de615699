"""A tiny pytest plugin (`-p phase_timer`): where a pytest process's wall time goes.

Loaded with `-p`, it is imported while pytest parses its command line, before the plugins
found through entry points (pytest-mlperf, pytest-benchmark), so `plugins_and_config` (up to
the session's start) holds their import and configure time. Its own cost is a few clock
reads per test, small enough to stay on in the measured runs (a profiler is not).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest
from probes import emit

LOADED = time.perf_counter()
_marks: dict[str, float] = {}
_phases: dict[str, float] = defaultdict(float)


def _timed(name: str) -> Generator[None, Any, Any]:
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        _phases[name] += time.perf_counter() - start


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _marks["sessionstart"] = time.perf_counter()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection(session: pytest.Session) -> Generator[None, Any, Any]:
    return (yield from _timed("collection"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _phases[f"test_{report.when}"] += report.duration


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, Any, Any]:
    return (yield from _timed("sessionfinish"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any) -> Generator[None, Any, Any]:
    return (yield from _timed("terminal_summary"))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    end = time.perf_counter()
    phases = {"plugins_and_config": _marks.get("sessionstart", LOADED) - LOADED, **_phases}
    emit("phases", {"since_loaded_s": end - LOADED, **phases})
