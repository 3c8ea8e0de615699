"""pytest-benchmark-compatible JSON, so existing dashboards and tools can read the results.

The layout, key order and units (seconds) are those pytest-benchmark 5.3.1 writes with
``--benchmark-json``; its statistics are recomputed here with its definitions (quartiles by its
method, outliers by its rules) from the raw samples, so ``pytest-benchmark compare``,
github-action-benchmark and conbench read the file as if pytest-benchmark had written it. What
pytest-benchmark has no field for (p95, p99, rows per second, memory, verdicts) goes into
``extra_info``. A result without raw samples (``--mlperf-disable``) is left out, as
pytest-benchmark leaves out benchmarks that raised.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime
from typing import Any

from ..regression.comparison import comparisons_of
from . import atomic_write

SCHEMA_VERSION = "5.3.1"  # the pytest-benchmark version whose file layout this follows


def _quartiles(data: list[float]) -> tuple[float, float]:
    """pytest-benchmark's q1 and q3 (Wikipedia's methods 3 and 2), on sorted data."""
    rounds = len(data)
    if rounds == 1:
        return data[0], data[0]
    if rounds % 2:
        n, q = rounds // 4, rounds % 4
        if q == 1:
            return (
                0.25 * data[n - 1] + 0.75 * data[n],
                0.75 * data[3 * n] + 0.25 * data[3 * n + 1],
            )
        return (
            0.75 * data[n] + 0.25 * data[n + 1],
            0.25 * data[3 * n + 1] + 0.75 * data[3 * n + 2],
        )
    return statistics.median(data[: rounds // 2]), statistics.median(data[rounds // 2 :])


def benchmark_stats(seconds: list[float], include_data: bool = True) -> dict[str, Any]:
    """The ``stats`` object of one benchmark, in pytest-benchmark's key order and definitions."""
    ordered = sorted(seconds)
    rounds = len(ordered)
    mean = statistics.mean(ordered)
    stddev = statistics.stdev(ordered) if rounds > 1 else 0
    q1, q3 = _quartiles(ordered)
    iqr = q3 - q1
    low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    iqr_outliers = sum(1 for x in ordered if x < low or x > high)
    stddev_outliers = sum(1 for x in ordered if x < mean - stddev or x > mean + stddev)
    total = sum(seconds)
    if rounds == 1:
        ld15iqr = hd15iqr = ordered[0]
    else:
        ld15iqr = ordered[bisect_left(ordered, low)]
        hd15iqr = ordered[bisect_right(ordered, high) - 1]
    result: dict[str, Any] = {
        "min": ordered[0],
        "max": ordered[-1],
        "mean": mean,
        "stddev": stddev,
        "rounds": rounds,
        "median": statistics.median(ordered),
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_outliers,
        "stddev_outliers": stddev_outliers,
        "outliers": f"{stddev_outliers};{iqr_outliers}",
        "ld15iqr": ld15iqr,
        "hd15iqr": hd15iqr,
        "ops": rounds / total if total else 0,
        "total": total,
    }
    if include_data:
        result["data"] = list(seconds)
    result["iterations"] = 1
    return result


def _git(*args: str, cwd: str | None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def _in_git_tree(path: str) -> bool:
    path = os.path.abspath(path)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def commit_info(cwd: str | None = None) -> dict[str, Any]:
    """pytest-benchmark's ``commit_info``: the git commit, or "unversioned", or "unknown".

    Outside a git checkout the id is ``"unversioned"``; when git fails, ``"unknown"`` with an
    ``error`` field, as pytest-benchmark writes them.
    """
    folder = os.path.abspath(cwd or os.getcwd())
    info: dict[str, Any] = {
        "id": "unversioned",
        "time": None,
        "author_time": None,
        "dirty": False,
        "project": os.path.basename(folder),
        "branch": "(unknown)",
    }
    if not _in_git_tree(folder):
        return info
    try:
        info["id"] = _git("rev-parse", "HEAD", cwd=folder)
        info["dirty"] = bool(_git("status", "--porcelain", "--untracked-files=no", cwd=folder))
        info["time"] = _git("show", "-s", "--pretty=format:%cI", cwd=folder)
        info["author_time"] = _git("show", "-s", "--pretty=format:%aI", cwd=folder)
        branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=folder)
        info["branch"] = "(detached head)" if branch == "HEAD" else branch
        try:
            remote = _git("config", "--local", "remote.origin.url", cwd=folder)
            info["project"] = remote.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        except subprocess.CalledProcessError:
            pass  # no remote: the folder name stays the project
    except (OSError, subprocess.SubprocessError) as exc:
        # pytest-benchmark's layout for a failed call: the error sits before project and branch
        project, branch = info.pop("project"), info.pop("branch")
        info.update(id="unknown", time=None, author_time=None)
        info.update(error=repr(exc), project=project, branch=branch)
    return info


def machine_info(environment: dict[str, Any]) -> dict[str, Any]:
    """pytest-benchmark's ``machine_info`` from the report's environment.

    What the report does not record (node, compiler, build) is read from this interpreter:
    the export is written by the process that measured.
    """
    arch = str(environment.get("machine") or platform.machine())
    bits = 64 if "64" in platform.architecture()[0] else 32
    return {
        "node": platform.node(),
        "processor": platform.processor(),
        "machine": arch,
        "python_compiler": platform.python_compiler(),
        "python_implementation": str(
            environment.get("implementation") or platform.python_implementation()
        ),
        "python_implementation_version": str(
            environment.get("python") or platform.python_version()
        ),
        "python_version": str(environment.get("python") or platform.python_version()),
        "python_build": list(platform.python_build()),
        "release": platform.release(),
        "system": str(environment.get("system") or platform.system()),
        "cpu": {
            "python_version": str(environment.get("python") or platform.python_version()),
            "arch": arch.upper().replace("AMD64", "X86_64"),
            "bits": bits,
            "count": environment.get("cpu_count") or os.cpu_count() or 1,
            "arch_string_raw": arch,
            "brand_raw": str(environment.get("cpu") or platform.processor()),
        },
    }


def _split_nodeid(nodeid: str) -> tuple[str, str | None]:
    """Test name and pytest's parametrization id: ``t.py::test_x[10]`` -> ``test_x[10]``, "10"."""
    name = nodeid.rsplit("::", 1)[-1] if nodeid else ""
    param = name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else None
    return name, param


def _comparison_verdicts(report: dict[str, Any], entry: dict[str, Any]) -> dict[str, str]:
    return {
        c.metric: c.verdict.value
        for c in comparisons_of(report)
        if (c.nodeid, c.name, c.batch_size) == (entry["nodeid"], entry["name"], entry["batch_size"])
    }


def _load_info(entry: dict[str, Any]) -> dict[str, Any]:
    """Under load: the traffic, the queue/service split, saturation and any capacity found."""
    load = entry.get("load")
    if not isinstance(load, dict):
        return {}
    predicted = load.get("predicted") or {}
    info = {
        "offered_rps": load.get("offered_rps"),
        "achieved_rps": load.get("achieved_rps"),
        "workers": load.get("workers"),
        "pool": load.get("pool"),
        "arrival": load.get("arrival"),
        "saturated": load.get("saturated"),
        "dropped": load.get("dropped"),
        "queue_p95_ms": (load.get("queue_ms") or {}).get("p95"),
        "service_p95_ms": (load.get("service_ms") or {}).get("p95"),
        "predicted_p95_ms": (predicted.get("latency_ms") or {}).get("p95"),
    }
    capacity = entry.get("capacity")
    if isinstance(capacity, dict):
        info["capacity_rps"] = capacity.get("max_rps")
        info["capacity_bracket"] = capacity.get("bracket")
    return {"load": info}


def _extra_info(report: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    latency = entry.get("latency_ms", {})
    return {
        "producer": f"pytest-mlperf {report.get('plugin_version', '')}".strip(),
        "model": entry.get("model"),
        "method": entry.get("method"),
        "batch_size": entry["batch_size"],
        "rows_per_call": entry["batch_size"],
        "p50_ms": latency.get("p50"),
        "p90_ms": latency.get("p90"),
        "p95_ms": latency.get("p95"),
        "p99_ms": latency.get("p99"),
        "ci_ms": entry.get("ci_ms", {}),
        "confidence": entry.get("confidence"),
        "percentile_method": report.get("settings", {}).get("percentile_method"),
        "throughput_rps": entry.get("throughput_rps"),
        "memory_mb": entry.get("memory_mb"),
        "outcome": entry.get("outcome"),
        "verdicts": {c["metric"]: c["verdict"] for c in entry.get("checks", [])},
        "comparisons": _comparison_verdicts(report, entry),
        "fingerprint": report.get("environment", {}).get("fingerprint"),
        **_load_info(entry),
    }


def to_pytest_benchmark_json(
    report: dict[str, Any],
    *,
    commit: dict[str, Any] | None = None,
    include_data: bool = True,
) -> dict[str, Any]:
    """The report record as a pytest-benchmark ``--benchmark-json`` document.

    ``fullname`` is the node id, the key pytest-benchmark compares by; a test that measured
    several models or batch sizes gets one benchmark each, told apart by a suffix. ``commit``
    defaults to :func:`commit_info` of the current folder.
    """
    entries = [e for e in report.get("results", []) if e.get("samples_ms")]
    per_node: dict[str, int] = {}
    for entry in entries:
        per_node[entry["nodeid"]] = per_node.get(entry["nodeid"], 0) + 1
    settings = report.get("settings", {})
    benchmarks = []
    for entry in entries:
        name, param = _split_nodeid(entry["nodeid"])
        fullname = entry["nodeid"]
        # a sweep is a parametrization by model and batch size: its params, as pytest's would
        # be, let `pytest-benchmark compare --group-by=param:batch_size` group every benchmark
        params = {"model": entry["name"], "batch_size": entry["batch_size"]}
        if per_node[fullname] > 1:
            suffix = f"::{entry['name']}[batch_size={entry['batch_size']}]"
            name, fullname = name + suffix, fullname + suffix
            ids = (param, entry["name"], str(entry["batch_size"]))
            param = "-".join(part for part in ids if part)
        benchmarks.append(
            {
                "group": None,
                "name": name,
                "fullname": fullname,
                "params": params,
                "param": param,
                "extra_info": _extra_info(report, entry),
                "options": {
                    "disable_gc": bool(settings.get("disable_gc", True)),
                    "timer": "perf_counter_ns",
                    "min_rounds": 1,
                    "max_time": float(settings.get("max_time") or 0.0),
                    "min_time": 0.0,
                    "precision": None,
                    "confidence": settings.get("confidence"),
                    "warmup": int(entry.get("warmup_calls", 0)) or False,
                },
                "stats": benchmark_stats([x / 1000.0 for x in entry["samples_ms"]], include_data),
            }
        )
    return {
        "machine_info": machine_info(report.get("environment", {})),
        "commit_info": commit_info() if commit is None else commit,
        "benchmarks": benchmarks,
        "datetime": _utc_iso(report.get("created")),
        "version": SCHEMA_VERSION,
    }


def _utc_iso(created: Any) -> str:
    """The run's creation time as pytest-benchmark writes it (UTC, ISO 8601 with offset)."""
    try:
        moment = datetime.fromisoformat(str(created))
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def render_benchmark_json(report: dict[str, Any]) -> str:
    """:func:`to_pytest_benchmark_json` as text, indented as pytest-benchmark does."""
    return json.dumps(to_pytest_benchmark_json(report), indent=4, allow_nan=False) + "\n"


def write_benchmark_json(report: dict[str, Any], path: str) -> str:
    """Write :func:`render_benchmark_json` atomically."""
    atomic_write(path, render_benchmark_json(report))
    return path
