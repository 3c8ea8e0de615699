"""Stored runs: files, machine fingerprints, atomic writes; listing, loading and saving runs.

Runs are kept under a storage folder, one sub-folder per tolerant machine fingerprint, as
``NNNN_<name>.json`` files holding the whole report record, raw samples included. Saving is
atomic and never replaces a file, even with several processes saving at once
(``docs/regressions.md``). Comparing two runs is :mod:`.compare`'s job.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..files import UnreadableJson, new_temp_file, read_json
from ..results import SCHEMA

MACHINE_NOTE = "machine.json"  # in each machine folder: which machine its hash stands for
MAX_FIGURE = 1e15  # ms, rows/s, MB: anything larger is damage, and would overflow arithmetic

_RUN_FILE = re.compile(r"^(\d{4,})_(.+)\.json$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BaselineError(Exception):
    """A stored run cannot be read, found or written; the message names the file."""


class NoBaselineError(BaselineError):
    """No stored run matches yet (a first run in CI): worth a warning, not a failure."""


# --------------------------------------------------------------------------------------------
# Reading and validating a run
# --------------------------------------------------------------------------------------------


def is_figure(value: Any) -> bool:
    """A finite real number no larger than ``MAX_FIGURE`` (bools are not numbers here)."""
    # NaN and infinities fail the comparison; a huge int is compared exactly, not converted
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and abs(value) <= MAX_FIGURE


def entry_problem(entry: Any) -> str | None:
    """What is wrong with one ``results`` entry, or None when it can be compared."""
    if not isinstance(entry, dict):
        return "is not an object"
    for key, kind in (("nodeid", str), ("name", str), ("batch_size", int)):
        if not isinstance(entry.get(key), kind) or isinstance(entry.get(key), bool):
            return f"has no valid {key!r}"
    latency = entry.get("latency_ms")
    if not isinstance(latency, dict) or not all(is_figure(latency.get(k)) for k in ("p50", "p95")):
        return "has no valid 'latency_ms' with p50 and p95"
    if not is_figure(entry.get("throughput_rps")):
        return "has no valid 'throughput_rps'"
    memory = entry.get("memory_mb")
    if memory is not None and not is_figure(memory):
        return "has an invalid 'memory_mb'"
    samples = entry.get("samples_ms", [])
    if not isinstance(samples, list) or not all(is_figure(x) and x >= 0 for x in samples):
        return "has invalid 'samples_ms' (finite, non-negative numbers expected)"
    return _stability_problem(entry.get("stability"))


STABILITY_FIGURES = ("speed_drift", "clustering", "run_spread", "cpu_share", "cpu_ms", "probe_ms")
STABILITY_LISTS = ("cpu_windows_ms", "probe_windows_ms")


def _stability_problem(stability: Any) -> str | None:
    """What is wrong with a result's ``stability`` readings (absent or null is fine: older
    runs and a test's own clock have none)."""
    if stability is None:
        return None
    if not isinstance(stability, dict):
        return "has an invalid 'stability' (an object expected)"
    for key in STABILITY_FIGURES:
        value = stability.get(key)
        if value is not None and not is_figure(value):
            return f"has an invalid 'stability.{key}' (a finite number expected)"
    for key in STABILITY_LISTS:
        values = stability.get(key) or []
        if not isinstance(values, list) or not all(is_figure(x) and x >= 0 for x in values):
            return f"has invalid 'stability.{key}' (finite, non-negative numbers expected)"
    for key in ("windows", "probe_version"):
        value = stability.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return f"has an invalid 'stability.{key}' (a whole number expected)"
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
        problem = entry_problem(entry)
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
