"""Stored runs and their comparison: "is this run slower than the accepted one?".

Runs are kept under a storage folder, one sub-folder per tolerant machine fingerprint, as
``NNNN_<name>.json`` files holding the whole report record, raw samples included. Saving is
atomic and never replaces a file, even with several processes saving at once.

Comparison works on *blocks* of consecutive calls, not on single calls: calls of one process
share the machine's drift and are autocorrelated, so a test that counts every call as an
independent observation raises false alarms many times its nominal rate (research notes,
statistics section 5.5). What the block test cannot see is a whole run being slower than usual;
only the tolerance absorbs that, which is why another machine's baseline only ever warns and
why the side-by-side measurement (``ab.py``) is the tight gate (``docs/regressions.md``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import stats
from .files import UnreadableJson, new_temp_file, read_json
from .numbers import fmt
from .results import SCHEMA

DEFAULT_STORAGE = ".mlperf"
DEFAULT_MAX_PCT = 5.0
DEFAULT_ALPHA = 0.05
MEMORY_FLOOR_MB = 16.0  # a memory change smaller than this never counts, whatever the percent
DEFAULT_RUN_SPREAD_PCT = 5.0  # assumed run-to-run spread of a statistic without history
MIN_HISTORY = 3  # earlier runs holding a result before its own run-to-run spread is used
TARGET_BLOCKS = 10  # blocks per run aimed at when splitting the raw samples
MIN_BLOCK = 20  # calls per block at least: the block p95 is then X(19) of 20, not the maximum
MIN_BLOCKS = 3  # blocks per run at least for a test; fewer and the verdict says "unknown"
TIMER_FLOOR_MS = 1e-6  # one nanosecond: block statistics are floored here before taking logs

METRICS = ("p50", "p95", "throughput", "memory")
MACHINE_NOTE = "machine.json"  # in each machine folder: which machine its hash stands for
VERDICTS = ("regression", "warn", "same", "improvement", "unknown", "new", "missing")

_RUN_FILE = re.compile(r"^(\d{4,})_(.+)\.json$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BaselineError(Exception):
    """A stored run cannot be read, found or written; the message names the file."""


class NoBaselineError(BaselineError):
    """No stored run matches yet (a first run in CI): worth a warning, not a failure."""


# --------------------------------------------------------------------------------------------
# Reading and validating a run
# --------------------------------------------------------------------------------------------


MAX_FIGURE = 1e15  # ms, rows/s, MB: anything larger is damage, and would overflow arithmetic


def _number(value: Any) -> bool:
    # NaN and infinities fail the comparison; a huge int is compared exactly, not converted
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and abs(value) <= MAX_FIGURE


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one ``results`` entry, or None when it can be compared."""
    if not isinstance(entry, dict):
        return "is not an object"
    for key, kind in (("nodeid", str), ("name", str), ("batch_size", int)):
        if not isinstance(entry.get(key), kind) or isinstance(entry.get(key), bool):
            return f"has no valid {key!r}"
    latency = entry.get("latency_ms")
    if not isinstance(latency, dict) or not all(_number(latency.get(k)) for k in ("p50", "p95")):
        return "has no valid 'latency_ms' with p50 and p95"
    if not _number(entry.get("throughput_rps")):
        return "has no valid 'throughput_rps'"
    memory = entry.get("memory_mb")
    if memory is not None and not _number(memory):
        return "has an invalid 'memory_mb'"
    samples = entry.get("samples_ms", [])
    if not isinstance(samples, list) or not all(_number(x) and x >= 0 for x in samples):
        return "has invalid 'samples_ms' (finite, non-negative numbers expected)"
    return None


def validate_run(data: Any, source: str) -> dict[str, Any]:
    """Return ``data`` if it is a pytest-mlperf report record; else BaselineError naming source.

    A foreign file (pytest-benchmark's JSON, another tool's, a newer schema) gets a message
    that says what it looks like, so users do not hunt for a syntax error that is not there.
    """
    if not isinstance(data, dict):
        raise BaselineError(f"{source}: not a pytest-mlperf run (the JSON is not an object)")
    schema = data.get("schema")
    if schema != SCHEMA:
        if "benchmarks" in data and "machine_info" in data:
            what = "a pytest-benchmark file"
        elif isinstance(schema, str) and schema.startswith("pytest-mlperf/"):
            what = f"written with schema {schema!r}, this version reads {SCHEMA!r}"
        else:
            what = f"its schema is {schema!r}, expected {SCHEMA!r}"
        raise BaselineError(f"{source}: not a pytest-mlperf run ({what})")
    results = data.get("results")
    if not isinstance(results, list):
        raise BaselineError(f"{source}: 'results' is missing or not a list")
    for i, entry in enumerate(results):
        problem = _entry_problem(entry)
        if problem is not None:
            raise BaselineError(f"{source}: result #{i} {problem}")
    environment = data.get("environment")
    if not isinstance(environment, dict) or not isinstance(environment.get("fingerprint"), str):
        raise BaselineError(f"{source}: 'environment.fingerprint' is missing")
    return data


def read_run(path: str) -> dict[str, Any]:
    """Load and validate one run file; any problem is a BaselineError that names the file."""
    try:
        data = read_json(path)
    except UnreadableJson as exc:
        raise BaselineError(str(exc)) from None
    return validate_run(data, path)


def fingerprint_of(report: Mapping[str, Any]) -> str:
    return str(report["environment"]["fingerprint"])


# --------------------------------------------------------------------------------------------
# Storage: save, list, load
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRun:
    """One run file in the storage: its number, name, machine folder and path.

    ``fingerprint`` is the folder's name: the machine fingerprint, made safe as a file name.
    """

    number: int
    name: str
    fingerprint: str
    path: str

    @property
    def stem(self) -> str:
        return os.path.basename(self.path)[: -len(".json")]


def _slug(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-.") or "run"


def _runs_in(folder: str, fingerprint: str) -> list[StoredRun]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    runs = []
    for file in names:
        match = _RUN_FILE.match(file)
        if match:
            path = os.path.join(folder, file)
            runs.append(StoredRun(int(match.group(1)), match.group(2), fingerprint, path))
    return sorted(runs, key=lambda r: (r.number, r.name))


def list_runs(storage: str, fingerprint: str | None = None) -> list[StoredRun]:
    """Stored runs, of one machine or of all, ordered by machine folder and number."""
    if fingerprint is not None:
        folder = _slug(fingerprint)
        return _runs_in(os.path.join(storage, folder), folder)
    try:
        folders = sorted(os.listdir(storage))
    except OSError:
        return []
    return [
        run
        for fp in folders
        if os.path.isdir(os.path.join(storage, fp))
        for run in _runs_in(os.path.join(storage, fp), fp)
    ]


def _claim(tmp: str, folder: str, label: str) -> str:
    """Give the finished temporary file the next free number without ever replacing a file.

    A number is owned through an exclusively created ``.NNNN.claim`` file, whatever the run's
    name, so two savers can never both use it (two names with one number would make ``3`` and
    "the latest" ambiguous). The owner checks that no run has the number yet, links the
    finished file in (``os.link`` refuses to replace a file; readers never see a partial
    run), and then drops the claim. A claim left by a killed process only skips a number.
    """
    number = 0
    for _ in range(10_000):
        number = max(number + 1, max((r.number for r in _runs_in(folder, "")), default=0) + 1)
        claim = os.path.join(folder, f".{number:04d}.claim")
        try:
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        try:
            if any(r.number == number for r in _runs_in(folder, "")):
                continue  # taken just before our claim: its owner has already let go
            path = os.path.join(folder, f"{number:04d}_{label}.json")
            try:
                os.link(tmp, path)
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system: the claim guards the name
                os.replace(tmp, path)
            return path
        finally:
            os.remove(claim)
    raise BaselineError(f"{folder}: could not find a free run number")


def machine_note_problem(folder: str) -> str | None:
    """Why the folder's ``machine.json`` cannot be read; None when it reads or is absent."""
    note = os.path.join(folder, MACHINE_NOTE)
    try:
        with open(note, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problem = f"cannot be read ({exc})"
    else:
        if isinstance(data, dict) and isinstance(data.get("fingerprint"), str):
            return None
        problem = "is not a machine note (a JSON object with a fingerprint)"
    return (
        f"{note} {problem}: the stored runs beside it are still used; remove it and the next "
        "--mlperf-save writes a new one"
    )


def store_problems(storage: str) -> list[str]:
    """Every unreadable ``machine.json`` under the storage (run files fail when they are read)."""
    try:
        folders = sorted(os.listdir(storage))
    except OSError:
        return []
    paths = (os.path.join(storage, name) for name in folders)
    return [p for p in map(machine_note_problem, filter(os.path.isdir, paths)) if p]


def _write_machine_note(folder: str, environment: Mapping[str, Any]) -> None:
    """A readable ``machine.json`` saying which machine the folder's hash stands for."""
    note = os.path.join(folder, MACHINE_NOTE)
    if os.path.exists(note):
        return
    keys = ("fingerprint", "cpu", "cpu_count", "gpu", "system", "machine")
    text = json.dumps({k: environment.get(k) for k in keys}, indent=2) + "\n"
    fd, tmp = new_temp_file(folder, MACHINE_NOTE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        with contextlib.suppress(OSError):  # exists already, or no hard links: only a note
            os.link(tmp, note)
    finally:
        os.remove(tmp)


def save_run(report: Mapping[str, Any], storage: str, name: str | None = None) -> str:
    """Store the run under ``storage/<fingerprint>/NNNN_<name>.json``; return the path.

    The record is validated first, written in full to a temporary file, synced, and then given
    the next free number, so a crash leaves no half-written run and concurrent savers (xdist
    workers, parallel CI jobs on one disk) never overwrite each other.
    """
    validate_run(report, "the run to save")
    fingerprint = fingerprint_of(report)
    folder = os.path.join(storage, _slug(fingerprint))
    try:
        text = json.dumps(report, separators=(",", ":"), allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise BaselineError(f"the run to save cannot be written as JSON: {exc}") from exc
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = new_temp_file(folder, "run.json")
    except OSError as exc:
        raise BaselineError(f"{folder}: cannot write the run: {exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        path = _claim(tmp, folder, _slug(name or "run"))
        _write_machine_note(folder, report["environment"])
    except OSError as exc:
        raise BaselineError(f"{folder}: cannot write the run: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    return path


def _matches(run: StoredRun, name: str | None) -> bool:
    if name is None:
        return True
    if name.isdigit():
        return run.number == int(name)
    return name == run.stem or run.name in (name, _slug(name))


def load_run(
    storage: str, name: str | None = None, *, fingerprint: str
) -> tuple[dict[str, Any], str, bool]:
    """The stored run to compare with: ``(report, path, same_machine)``.

    ``name``: None for the latest, a number (``3`` or ``0003``), a name given at save time, or
    a path to a run file. This machine's folder is searched first; when it has no match, the
    most recently written match of any other machine is used and ``same_machine`` is False, so
    the comparison can only warn.
    """
    if name is not None and os.path.isfile(name):
        report = read_run(name)
        return report, name, fingerprint_of(report) == fingerprint
    if name is not None and os.path.isdir(name):
        raise BaselineError(
            f"--mlperf-compare={name}: a folder, not a run: give a stored run's file, name or "
            f"number (or point --mlperf-storage at the folder)"
        )
    if os.path.exists(storage) and not os.path.isdir(storage):
        raise BaselineError(f"--mlperf-storage={storage}: a file, not a folder of stored runs")
    if not os.path.isdir(storage):
        raise NoBaselineError(
            f"no stored runs: {storage} does not exist (save one with --mlperf-save)"
        )
    wanted = "the latest run" if name is None else f"a run named {name!r}"
    own = [r for r in list_runs(storage, fingerprint) if _matches(r, name)]
    if own:
        path = own[-1].path
    else:
        others = [
            r
            for r in list_runs(storage)
            if r.fingerprint != _slug(fingerprint) and _matches(r, name)
        ]
        if not others:
            known = ", ".join(r.stem for r in list_runs(storage)) or "none"
            raise NoBaselineError(f"{storage}: no stored run matches {wanted} (stored: {known})")
        path = max(others, key=lambda r: (os.path.getmtime(r.path), r.number)).path
    report = read_run(path)
    return report, path, fingerprint_of(report) == fingerprint


def load_history(
    storage: str, *, fingerprint: str, limit: int = 20, exclude: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The latest ``limit`` runs of this machine, oldest first, for the run-to-run spread.

    ``exclude`` lists paths to leave out (the run being compared, if it is stored already).
    A corrupted file is an error like any other: it names the file to remove.
    """
    skip = {os.path.abspath(p) for p in exclude}
    runs = [r for r in list_runs(storage, fingerprint) if os.path.abspath(r.path) not in skip]
    return [read_run(r.path) for r in runs[-limit:]] if limit > 0 else []


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

_UNITS = {"p50": "ms", "p95": "ms", "throughput": "rows/s", "memory": "MB"}


@dataclass(frozen=True)
class _Rules:
    """What one comparison is judged by."""

    tolerance_pct: float
    same_machine: bool
    alpha: float
    memory_floor_mb: float
    run_spread_pct: float


def block_size_for(n_baseline: int, n_current: int) -> int:
    """One block size for both runs, so the per-block estimators have the same bias."""
    return max(MIN_BLOCK, min(n_baseline, n_current) // TARGET_BLOCKS)


def _block_values(entry: Mapping[str, Any], metric: str, size: int) -> stats.FloatArray:
    samples = np.asarray(entry.get("samples_ms", []), dtype=np.float64)
    if metric == "throughput":
        means = np.maximum(stats.block_view(samples, size).mean(axis=1), TIMER_FLOOR_MS)
        rows_per_s: stats.FloatArray = float(entry["batch_size"]) * 1000.0 / means
        return rows_per_s
    q = 0.5 if metric == "p50" else 0.95
    return np.maximum(stats.block_percentiles(samples, size, q), TIMER_FLOOR_MS)


def _value(entry: Mapping[str, Any], metric: str) -> float | None:
    if metric in ("p50", "p95"):
        return float(entry["latency_ms"][metric])
    if metric == "throughput":
        return float(entry["throughput_rps"])
    memory = entry.get("memory_mb")
    return None if memory is None else float(memory)


def run_spread(
    history: Sequence[Mapping[str, Any]], metric: str, default_pct: float
) -> tuple[float, float | None, str]:
    """Run-to-run spread of a result's log statistic: ``(sd, degrees of freedom, source)``.

    From the earlier runs of the same result when there are at least ``MIN_HISTORY`` (their
    standard deviation, which also holds each run's own sampling noise: slightly cautious);
    otherwise the assumed ``default_pct``, taken as known.
    """
    logs = [math.log(v) for e in history if (v := _value(e, metric)) is not None and v > 0]
    if len(logs) >= MIN_HISTORY:
        sd = float(np.std(logs, ddof=1))
        return sd, float(len(logs) - 1), f"{len(logs)} earlier runs"
    return math.log1p(default_pct / 100.0), None, "assumed"


@dataclass
class _Pending:
    """A comparison whose verdict waits for the multiple-testing adjustment."""

    record: dict[str, Any]
    test: stats.RatioTest | None
    higher_is_worse: bool


def _key(entry: Mapping[str, Any]) -> tuple[str, str, int]:
    return (entry["nodeid"], entry["name"], int(entry["batch_size"]))


def _base_record(entry: Mapping[str, Any], metric: str, rules: _Rules) -> dict[str, Any]:
    return {
        "kind": "stored",
        "nodeid": entry["nodeid"],
        "name": entry["name"],
        "batch_size": int(entry["batch_size"]),
        "metric": metric,
        "unit": _UNITS.get(metric, ""),
        "baseline": None,
        "current": None,
        "ratio": None,
        "ci": None,
        "confidence": None,
        "p_value": None,
        "p_adjusted": None,
        "test": None,
        "blocks": None,
        "run_spread": None,
        "tolerance_pct": rules.tolerance_pct,
        "verdict": "unknown",
        "same_machine": rules.same_machine,
        "gating": rules.same_machine,
        "message": "",
    }


def _entry_comparisons(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    rules: _Rules,
) -> list[_Pending]:
    """The four metric comparisons of one result; the timing ones carry their block test."""
    size = block_size_for(len(baseline.get("samples_ms", [])), len(current.get("samples_ms", [])))
    pending = []
    for metric in METRICS:
        record = _base_record(current, metric, rules)
        base, cur = _value(baseline, metric), _value(current, metric)
        record["baseline"], record["current"] = base, cur
        if metric == "memory":
            if base is not None or cur is not None:
                _judge_memory(record, rules.tolerance_pct / 100.0, rules.memory_floor_mb)
                pending.append(_Pending(record, None, True))
            continue
        a = _block_values(baseline, metric, size)
        b = _block_values(current, metric, size)
        test = None
        if min(a.size, b.size) >= MIN_BLOCKS:
            sd, df, source = run_spread(history, metric, rules.run_spread_pct)
            test = stats.unpaired_ratio_test(
                a, b, confidence=1.0 - 2.0 * rules.alpha, run_sd=sd, run_df=df
            )
            record.update(
                ratio=test.ratio,
                ci=list(test.ci),
                confidence=test.confidence,
                test=test.method,
                blocks={"size": size, "baseline": int(a.size), "current": int(b.size)},
                run_spread={"sd": sd, "source": source},
            )
        elif base and cur is not None:
            record["ratio"] = cur / base
        pending.append(_Pending(record, test, metric != "throughput"))
    return pending


def _judge_memory(record: dict[str, Any], tolerance: float, floor_mb: float) -> None:
    """Memory is near-deterministic: a relative threshold with an absolute floor, no test."""
    base, cur = record["baseline"], record["current"]
    if base is None or cur is None:
        record["verdict"] = "unknown"
        record["message"] = "memory was measured in only one of the two runs"
        return
    allowed = max(tolerance * base, floor_mb)
    change = cur - base
    record["ratio"] = cur / base if base > 0 else None
    record["test"] = f"threshold: +{tolerance:.0%} and at least {fmt(floor_mb)} MB"
    shift = f"{fmt(base)} → {fmt(cur)} MB"
    if change > allowed:
        verdict = "regression" if record["gating"] else "warn"
        record["message"] = f"memory grew by {fmt(change)} MB ({shift}; allowed {fmt(allowed)})"
    elif -change > allowed:
        verdict = "improvement"
        record["message"] = f"memory fell by {fmt(-change)} MB ({shift})"
    else:
        verdict = "same"
        record["message"] = f"memory within {fmt(allowed)} MB ({shift})"
    record["verdict"] = verdict


def _finish(items: list[_Pending], alpha: float, bonferroni: int | None = None) -> None:
    """Adjust the p-values across the family and set the verdicts.

    Slower and faster are two families, each adjusted on its own (Holm, or Bonferroni over a
    given family size), so the chance of any false regression in the run stays within alpha.
    """
    tested = [p for p in items if p.test is not None]
    worse = [_p_worse(p) for p in tested]
    better = [_p_better(p) for p in tested]
    if bonferroni is None:
        worse_adj, better_adj = stats.holm_adjust(worse), stats.holm_adjust(better)
    else:
        worse_adj = [min(1.0, bonferroni * p) for p in worse]
        better_adj = [min(1.0, bonferroni * p) for p in better]
    for item, pw, pb, aw, ab in zip(tested, worse, better, worse_adj, better_adj, strict=True):
        assert item.test is not None
        verdict = stats.ratio_verdict(
            item.test,
            tolerance=item.record["tolerance_pct"] / 100.0,
            alpha=alpha,
            higher_is_worse=item.higher_is_worse,
            p_worse=aw,
            p_better=ab,
        )
        worse_side = (item.test.ratio > 1.0) == item.higher_is_worse
        item.record["p_value"], item.record["p_adjusted"] = (pw, aw) if worse_side else (pb, ab)
        _set_verdict(item.record, verdict)
    for item in items:
        if item.test is None and item.record["metric"] != "memory":
            _judge_untested(item)


def _p_worse(item: _Pending) -> float:
    assert item.test is not None
    return item.test.p_greater if item.higher_is_worse else item.test.p_less


def _p_better(item: _Pending) -> float:
    assert item.test is not None
    return item.test.p_less if item.higher_is_worse else item.test.p_greater


def _change_text(record: Mapping[str, Any]) -> str:
    metric, unit = record["metric"], record["unit"]
    ratio = record["ratio"]
    change = "" if ratio is None else f" {ratio - 1.0:+.1%}"
    values = f"{fmt(record['baseline'])} → {fmt(record['current'])} {unit}"
    return f"{metric}{change} ({values}"


def _set_verdict(record: dict[str, Any], verdict: str) -> None:
    if verdict == "regression" and not record["gating"]:
        verdict = "warn"
    record["verdict"] = verdict
    lo, hi = record["ci"]
    detail = (
        f"; ratio {record['ratio']:.3f}, {record['confidence']:.0%} CI [{lo:.3f}, {hi:.3f}], "
        f"p={record['p_adjusted']:.2g} adjusted; tolerance {record['tolerance_pct']:g}%)"
    )
    head = _change_text(record) + detail
    record["message"] = {
        "regression": f"regression: {head}",
        "warn": f"possible regression, baseline from another machine (not gating): {head}",
        "improvement": f"improvement: {head}",
        "unknown": f"beyond tolerance but not significant, too noisy to tell: {head}",
        "same": f"no significant change beyond tolerance: {head}",
    }[verdict]


def _judge_untested(item: _Pending) -> None:
    """Too few raw samples for blocks: never gate, only say whether it looks beyond tolerance."""
    record = item.record
    ratio = record["ratio"]
    tol = record["tolerance_pct"] / 100.0
    beyond = ratio is not None and abs(ratio - 1.0) > tol
    record["verdict"] = "unknown" if beyond or ratio is None else "same"
    record["message"] = (
        f"{_change_text(record)}; no test: fewer than {MIN_BLOCKS} blocks of {MIN_BLOCK} "
        "calls in one of the runs)"
    )


def _presence_record(entry: Mapping[str, Any], verdict: str, rules: _Rules) -> dict[str, Any]:
    record = _base_record(entry, "all", rules)
    record["verdict"] = verdict
    record["gating"] = False
    record["message"] = (
        "new: not in the baseline"
        if verdict == "new"
        else "missing: in the baseline but not measured in this run"
    )
    return record


def _rules(
    max_pct: float, same_machine: bool, alpha: float, memory_floor_mb: float, spread: float
) -> _Rules:
    for name, value in (("max_pct", max_pct), ("memory_floor_mb", memory_floor_mb)):
        if not (_number(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if not (_number(spread) and spread >= 0):
        raise ValueError(f"run_spread_pct must be a non-negative number, got {spread!r}")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha!r}")
    return _Rules(float(max_pct), same_machine, alpha, float(memory_floor_mb), float(spread))


def compare_runs(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    max_pct: float = DEFAULT_MAX_PCT,
    per_test_pct: Mapping[str, float] | None = None,
    same_machine: bool | None = None,
    alpha: float = DEFAULT_ALPHA,
    history: Sequence[Mapping[str, Any]] = (),
    run_spread_pct: float = DEFAULT_RUN_SPREAD_PCT,
    memory_floor_mb: float = MEMORY_FLOOR_MB,
) -> list[dict[str, Any]]:
    """Every result of ``current`` against the same (nodeid, name, batch size) in ``baseline``.

    Per result: p50, p95 and throughput by a Welch test on per-block log statistics widened by
    the run-to-run spread (from ``history``, earlier runs of this machine, when at least
    ``MIN_HISTORY`` hold the result; else ``run_spread_pct`` is assumed); memory by threshold.
    The p-values of the whole run are Holm-adjusted at family level ``alpha``.
    ``same_machine=None`` compares the fingerprints. Only a same-machine comparison can say
    ``regression`` (``gating`` True); from another machine it says ``warn``. Results only in
    ``current`` are ``new``, only in ``baseline`` ``missing``.
    """
    validate_run(current, "the current run")
    validate_run(baseline, "the baseline run")
    for i, run in enumerate(history):
        validate_run(run, f"history run #{i}")
    if same_machine is None:
        same_machine = fingerprint_of(current) == fingerprint_of(baseline)
    base_rules = _rules(max_pct, same_machine, alpha, memory_floor_mb, run_spread_pct)
    overrides = dict(per_test_pct or {})
    earlier: dict[tuple[str, str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for run in history:
        for entry in run["results"]:
            earlier[_key(entry)].append(entry)
    waiting: dict[tuple[str, str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for entry in baseline["results"]:
        waiting[_key(entry)].append(entry)
    pending: list[_Pending] = []
    for entry in current["results"]:
        tol = overrides.get(entry["nodeid"], base_rules.tolerance_pct)
        rules = _rules(tol, same_machine, alpha, memory_floor_mb, run_spread_pct)
        matches = waiting.get(_key(entry))
        if matches:
            pending += _entry_comparisons(entry, matches.pop(0), earlier[_key(entry)], rules)
        else:
            pending.append(_Pending(_presence_record(entry, "new", rules), None, True))
    _finish([p for p in pending if p.record["metric"] != "all"], alpha)
    records = [p.record for p in pending]
    for entries in waiting.values():
        for entry in entries:
            tol = overrides.get(entry["nodeid"], base_rules.tolerance_pct)
            rules = _rules(tol, same_machine, alpha, memory_floor_mb, run_spread_pct)
            records.append(_presence_record(entry, "missing", rules))
    return records


def compare_entry(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    max_pct: float = DEFAULT_MAX_PCT,
    same_machine: bool = True,
    alpha: float = DEFAULT_ALPHA,
    family_size: int = 1,
    history: Sequence[Mapping[str, Any]] = (),
    run_spread_pct: float = DEFAULT_RUN_SPREAD_PCT,
    memory_floor_mb: float = MEMORY_FLOOR_MB,
) -> list[dict[str, Any]]:
    """The comparisons of one result, for a verdict while its test is still running.

    Holm needs every p-value of the run; a test that wants its verdict at once can use
    Bonferroni over the expected ``family_size`` (3 per result in the baseline): what it
    rejects, Holm over the same family rejects too, so the test-time verdict never contradicts
    the end-of-run one. Entries are ``results`` records (``BenchmarkResult.to_record``), and
    ``history`` holds the same result's entries from earlier runs.
    """
    rules = _rules(max_pct, same_machine, alpha, memory_floor_mb, run_spread_pct)
    if family_size < 1:
        raise ValueError(f"family_size must be >= 1, got {family_size!r}")
    for source, entry in (("the current result", current), ("the baseline result", baseline)):
        problem = _entry_problem(entry)
        if problem is not None:
            raise BaselineError(f"{source} {problem}")
    pending = _entry_comparisons(current, baseline, history, rules)
    _finish(pending, alpha, bonferroni=family_size)
    return [p.record for p in pending]


def summarize_comparisons(comparisons: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per verdict and the overall gate: ``fail`` when any gating comparison regressed."""
    counts = dict.fromkeys(VERDICTS, 0)
    total = failed = 0
    for c in comparisons:
        total += 1
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
        failed += c["verdict"] == "regression" and bool(c.get("gating", True))
    return {"comparisons": total, **counts, "verdict": "fail" if failed else "pass"}
