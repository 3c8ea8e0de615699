"""pytest glue: options and ini twins, markers, the `model_bench` fixture, and the manager.

The only part of pytest-mlperf that knows about pytest hooks. Options come from one table
(`settings.OPTIONS`); markers from their defining functions (`marks.py`); everything a run does
with its results goes through the hooks of `manager.Manager` and its collaborators.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from ..marks import BUDGET_MARKER, MARKERS, REGRESSION_MARKER, marker_help
from ..settings import (
    OPTIONS,
    Settings,
    SettingsError,
    parse_confidence,
    parse_positive_float,
    parse_seconds,
)
from . import lazy
from .fixture import MlperfInconclusiveWarning, ModelBench
from .manager import Manager

if TYPE_CHECKING:
    from ..cost import CostConfig
    from .regressions import Baseline

CONFIGURED = "tool.pytest-mlperf"  # a pyproject.toml with cost or price tables of ours

PLUGIN_NAME = "mlperf_manager"
NUMERIC = (
    parse_positive_float,
    parse_seconds,
    parse_confidence,
)  # options whose ini value may be a number
NATIVE_TOML_UNIONS = pytest.version_tuple >= (9, 2)  # addini(type=str | float) exists
PATH_OPTIONS = {option.name: option.path for option in OPTIONS}

__all__ = ["Manager", "MlperfInconclusiveWarning", "ModelBench", "model_bench"]


def _argparse(convert: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    def wrapped(text: str) -> Any:
        if not text.strip():
            if name == "report":  # turns off the ini's report folder; said at the end
                return ""
            raise argparse.ArgumentTypeError("expected a value, got an empty string")
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
            type=_argparse(option.parse, option.name),
            default=None,
            metavar=option.metavar,
            help=option.help + ".",
            **extra,
        )
        if option.parse in NUMERIC and NATIVE_TOML_UNIONS:
            # pytest 9's native [tool.pytest] table keeps TOML's types: `mlperf_max_time = 5`
            # is an int, which a string-typed ini value would refuse
            parser.addini(option.ini, f"as {option.cli}", type=str | float, default="")
        else:
            parser.addini(option.ini, f"as {option.cli}", default="")


def pytest_configure(config: pytest.Config) -> None:
    for name in (*MARKERS, BUDGET_MARKER, REGRESSION_MARKER):
        config.addinivalue_line("markers", marker_help(name))

    def lookup(name: str) -> Any:
        value = config.getoption(f"mlperf_{name}")
        if value is not None:
            return value
        try:
            with warnings.catch_warnings():  # a TOML list or number: checked just below
                warnings.simplefilter("ignore", pytest.PytestDeprecationWarning)
                value = config.getini(f"mlperf_{name}")
        except (TypeError, ValueError, pytest.UsageError) as exc:  # pytest's typed values
            raise SettingsError(f"mlperf_{name}: {exc}") from None
        if not isinstance(value, str | int | float | bool):  # a TOML list or table
            raise SettingsError(f"mlperf_{name}: expected a single value, got {value!r}")
        if value and PATH_OPTIONS.get(name):
            # like pytest's cache_dir: an ini path is relative to the rootdir, not the cwd
            value = str(config.rootpath / str(value))
        return value

    try:
        settings = Settings.from_lookup(lookup)
        cost_config = _cost_config(config, settings)
        baseline, no_baseline = _baseline(settings)
    except (SettingsError, ValueError) as exc:  # cost and baseline errors name the file
        raise pytest.UsageError(f"pytest-mlperf: {exc}") from None
    is_worker = hasattr(config, "workerinput")
    if settings.report_dir and not settings.disable and not is_worker:
        _check_writable(settings.report_dir)
    manager = Manager(config, settings, cost_config, baseline)
    if no_baseline and not is_worker:
        manager.notes.append(("warning", f"nothing to compare with yet: {no_baseline}"))
    if not is_worker:
        manager.notes += [("warning", problem) for problem in _store_problems(settings)]
    if config.getoption("mlperf_report") == "" and not is_worker:
        manager.notes.append(("warning", "--mlperf-report= is empty: no report is written"))
    config.pluginmanager.register(manager, PLUGIN_NAME)


def _store_problems(settings: Settings) -> list[str]:
    """Unreadable files in the storage a run compares with or saves to, each named."""
    if settings.disable or (settings.compare is None and settings.save is None):
        return []
    lazy.load("regression.store")
    from ..regression.store import store_problems

    return store_problems(settings.storage)


def _baseline(settings: Settings) -> tuple[Baseline | None, str | None]:
    """The stored run to compare with, or why there is none yet (a first run in CI)."""
    if settings.compare is None or settings.disable:
        return None, None
    lazy.load("regression.store", "env", "plugin.regressions")
    from ..env import machine_fingerprint
    from ..regression.store import BaselineError, NoBaselineError
    from .regressions import Baseline

    try:
        return Baseline.load(settings.storage, settings.compare_name, machine_fingerprint()), None
    except NoBaselineError as exc:
        if settings.compare_name is not None:  # a run asked for by name must exist
            raise ValueError(f"--mlperf-compare={settings.compare_name}: {exc}") from None
        return None, str(exc)
    except BaselineError as exc:
        raise ValueError(str(exc)) from None


def _cost_config(config: pytest.Config, settings: Settings) -> CostConfig | None:
    """The cost configuration from --mlperf-cost-config, else from the rootdir's pyproject.toml
    when it has our tables; None (the defaults, loaded when first needed) otherwise."""
    path = settings.cost_config
    if path is None:
        pyproject = config.rootpath / "pyproject.toml"
        if not pyproject.is_file() or CONFIGURED not in pyproject.read_text(errors="replace"):
            return None
        path = str(pyproject)
    lazy.load("cost")
    from ..cost import load_cost_config

    return load_cost_config(path)


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


@pytest.fixture
def model_bench(request: pytest.FixtureRequest) -> Any:
    """Measure a model's inference latency, throughput and memory; see pytest-mlperf docs.

    `model_bench(model, X, batch_size=1)`, `.sweep(...)`, `.ab(baseline, candidate, X)`,
    `.advise(model, X, y)`. With --mlperf-advise, every model a marked test measured is also
    run through the advisor after the test.
    """
    manager: Manager = request.config.pluginmanager.getplugin(PLUGIN_NAME)
    bench = ModelBench(request.node, manager)
    yield bench
    if manager.settings.advise and not manager.settings.disable and bench.limits:
        for model, X, batch_size, method, name in bench.measured:
            bench.advise(model, X, method=method, name=name, batch_sizes=(batch_size,))
