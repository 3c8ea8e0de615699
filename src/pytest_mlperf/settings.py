"""Run-wide settings: one table of options, each with its ini twin, validated once.

`OPTIONS` is the single place an option is declared: `plugin.py` turns each entry into a
`--mlperf-NAME` command-line option and an `mlperf_NAME` ini key, and `Settings.from_lookup`
validates whichever was given (the command line wins). Kept free of pytest imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from .regression import DEFAULT_MAX_PCT
from .validate import MAX_SECONDS

INCONCLUSIVE_POLICIES = ("warn", "fail", "pass")
DEFAULT_REPORT_DIR = "mlperf-report"
DEFAULT_STORAGE = ".mlperf"
AUTO = "@auto"  # --mlperf-save / --mlperf-compare given without a name


class SettingsError(ValueError):
    """An option or ini value that cannot be used."""


MAX_NUMBER = 1e15  # dollars, percent: far beyond any budget, far below an overflow


def parse_positive_float(text: Any, high: float = MAX_NUMBER) -> float:
    """A finite number above zero and at most `high`."""
    try:
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        raise SettingsError(f"expected a number, got {text!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise SettingsError(f"expected a positive number, got {text!r}")
    if number > high:
        raise SettingsError(f"expected a number up to {high:g}, got {text!r}")
    return number


def parse_seconds(text: Any) -> float:
    return parse_positive_float(text, MAX_SECONDS)


def parse_confidence(text: Any) -> float:
    number = parse_positive_float(text)
    if not 0.5 < number < 1:
        raise SettingsError(
            f"expected a confidence above 0.5 and below 1 (e.g. 0.95), got {text!r}"
        )
    return number


def parse_spread_pct(text: Any) -> float:
    """A percentage from 0 to 200 (0 trusts each run's own window)."""
    try:
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        raise SettingsError(f"expected a percentage such as 15, got {text!r}") from None
    if not math.isfinite(number) or not 0 <= number <= 200:
        raise SettingsError(f"expected a percentage from 0 to 200, got {text!r}")
    return number


def parse_inconclusive(text: Any) -> str:
    value = str(text).strip().lower()
    if value not in INCONCLUSIVE_POLICIES:
        raise SettingsError(f"must be one of {', '.join(INCONCLUSIVE_POLICIES)}, got {text!r}")
    return value


def parse_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"must be true or false, got {value!r}")


def parse_report_dir(value: Any) -> str:
    text = str(value)
    if "::" in text or text.endswith(".py"):
        # `pytest --mlperf-report tests/test_x.py` takes the test path as the folder
        raise SettingsError(
            f"got {text!r}, which looks like a test path, not a folder: "
            "write --mlperf-report=DIR, or put the test paths before --mlperf-report"
        )
    return text


def parse_path(value: Any) -> str:
    return str(value)


def parse_run_name(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise SettingsError("a run name cannot be empty")
    return text


@dataclass(frozen=True)
class Option:
    """One `--mlperf-NAME` option and its `mlperf_NAME` ini twin."""

    name: str
    help: str
    parse: Callable[[Any], Any]
    metavar: str | None = None
    flag: bool = False  # a switch: --mlperf-NAME, ini true/false
    const: str | None = None  # value when the option is given without one
    path: bool = False  # an ini value is relative to the rootdir, as pytest's cache_dir

    @property
    def cli(self) -> str:
        return "--mlperf-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "mlperf_" + self.name


OPTIONS = (
    Option(
        "report",
        f"write report.json, report.md and report.html to DIR (default {DEFAULT_REPORT_DIR}/)",
        parse_report_dir,
        metavar="DIR",
        const=DEFAULT_REPORT_DIR,
        path=True,
    ),
    Option("disable", "run each model once and measure nothing", parse_boolean, flag=True),
    Option("no_html", "with --mlperf-report, skip report.html (its plots take ~0.3 s to import "
           "and ~50 ms per benchmark to draw)", parse_boolean, flag=True),
    Option("max_time", "most seconds of timed calls per measurement (default 10)",
           parse_seconds, metavar="SEC"),
    Option("confidence", "confidence of every verdict and interval (default 0.95)",
           parse_confidence, metavar="C"),
    Option("run_spread", "run-to-run spread of a percentile, in percent, that every "
           "latency interval and verdict allows for beyond what the run measures (default 15)",
           parse_spread_pct, metavar="PCT"),
    Option("inconclusive", "what an undecided limit does to its test: warn (default), fail, pass",
           parse_inconclusive, metavar="{warn,fail,pass}"),
    Option("cost_config", "TOML file with [cost]/[pricing] overrides (default: pyproject.toml)",
           parse_path, metavar="PATH", path=True),
    Option("budget_usd", "fail the run when all benchmarks together cost more a month",
           parse_positive_float, metavar="USD"),
    Option("budget_warn_usd", "warn when all benchmarks together cost more a month",
           parse_positive_float, metavar="USD"),
    Option("save", "store this run (raw samples included) in the storage folder, as NAME",
           parse_run_name, metavar="NAME", const=AUTO),
    Option("compare", "compare every result with a stored run: NAME, a number, a path or "
           "the latest (default)", parse_run_name, metavar="NAME", const=AUTO),
    Option("storage", f"folder of stored runs, one sub-folder per machine (default "
           f"{DEFAULT_STORAGE}/)", parse_path, metavar="DIR", path=True),
    Option("regression_pct", "slow-down a comparison tolerates before it is a regression "
           f"(default {DEFAULT_MAX_PCT:g})", parse_positive_float, metavar="PCT"),
    Option("benchmark_json", "also write the results in pytest-benchmark's JSON format",
           parse_path, metavar="PATH", path=True),
    Option("serial", "measure one benchmark at a time across every pytest process and xdist "
           "worker on the machine",
           parse_boolean, flag=True),
    Option("advise", "try the optimizations that apply to every measured model of a marked "
           "test and report what paid off", parse_boolean, flag=True),
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    report: str | None = None
    disable: bool = False
    no_html: bool = False
    max_time: float = 10.0
    confidence: float = 0.95
    run_spread: float = 15.0
    inconclusive: str = "warn"
    cost_config: str | None = None
    budget_usd: float | None = None
    budget_warn_usd: float | None = None
    save: str | None = None
    compare: str | None = None
    storage: str = DEFAULT_STORAGE
    regression_pct: float = DEFAULT_MAX_PCT
    benchmark_json: str | None = None
    serial: bool = False
    advise: bool = False

    @property
    def report_dir(self) -> str | None:
        return self.report

    @property
    def save_name(self) -> str | None:
        """The name to store this run under (None: numbered only)."""
        return None if self.save in (None, AUTO) else self.save

    @property
    def compare_name(self) -> str | None:
        """The stored run to compare with (None: the latest)."""
        return None if self.compare in (None, AUTO) else self.compare

    @classmethod
    def from_lookup(cls, get: Callable[[str], Any]) -> Settings:
        """Build from `get(name)`: the option, else its ini twin, else None or ''."""
        values: dict[str, Any] = {}
        for option in OPTIONS:
            raw = get(option.name)
            if raw is None or raw == "":
                continue
            try:
                values[option.name] = option.parse(raw)
            except SettingsError as exc:
                raise SettingsError(f"{option.ini}: {exc}") from None
        high, low = values.get("budget_usd"), values.get("budget_warn_usd")
        if high is not None and low is not None and low > high:
            raise SettingsError(
                f"mlperf_budget_warn_usd ({low:g}) is above mlperf_budget_usd ({high:g}): "
                "the warning could never come before the failure"
            )
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["save"] = None if self.save is None else (self.save_name or "(numbered)")
        data["compare"] = None if self.compare is None else (self.compare_name or "(latest)")
        return data
