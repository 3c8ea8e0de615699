"""Diagnostics: where pytest-mlperf's own time goes (import time, cProfile of the plain suite).

Profiles are not timings to compare (cProfile slows every Python call); they only say which
functions of pytest_mlperf the time is spent in.
"""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from host import pytest_argv

PACKAGE_DIR = "pytest_mlperf"
TOP = 25


def import_profile(env: dict[str, str]) -> dict[str, Any]:
    """`-X importtime` of the plugin module after pytest: self time per top-level package."""
    code = "import pytest; import pytest_mlperf.plugin"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[0]), int(parts[1]), parts[2].rstrip()))
    # pytest's own import ends with the top-level line "pytest"; the rest is the plugin's.
    start = next((i for i, row in enumerate(rows) if row[2].strip() == "pytest"), -1) + 1
    per_package: dict[str, int] = defaultdict(int)
    for self_us, _, name in rows[start:]:
        per_package[name.strip().split(".")[0]] += self_us
    plugin_total = next((cum for _, cum, name in rows if name == " pytest_mlperf.plugin"), None)
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])
    return {
        "plugin_import_ms": None if plugin_total is None else plugin_total / 1000,
        "self_ms_by_package": {name: us / 1000 for name, us in ranked[:TOP]},
    }


def short(filename: str, line: int, func: str) -> str:
    """'pytest_mlperf/bench.py:12(f)', 'sklearn/...', or the built-in's name."""
    for marker in (f"{PACKAGE_DIR}/", "site-packages/", "lib/python"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            prefix = PACKAGE_DIR + "/" if marker.startswith(PACKAGE_DIR) else ""
            return f"{prefix}{tail}:{line}({func})"
    return func if filename == "~" else f"{filename}:{line}({func})"


def cprofile(env: dict[str, str], folder: Path, out: Path, *args: str) -> dict[str, Any]:
    """cProfile one pytest run: pytest_mlperf's functions by cumulative time, and the
    functions of any package with the most own time."""
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "cProfile", "-o", str(out), *pytest_argv(*args)]
    subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
    if not out.exists():
        return {}
    stats = pstats.Stats(str(out))
    table: dict[tuple[str, int, str], tuple[Any, ...]] = getattr(stats, "stats", {})
    rows = [
        {
            "function": short(*key),
            "calls": ncalls,
            "tottime_s": tottime,
            "cum_s": cumtime,
            "ours": PACKAGE_DIR in key[0],
        }
        for key, (_, ncalls, tottime, cumtime, _) in table.items()
    ]
    ours = sorted((r for r in rows if r["ours"]), key=lambda r: -r["cum_s"])
    return {
        "total_s": float(getattr(stats, "total_tt", 0.0)),
        "top_by_cumulative": ours[:TOP],
        "top_by_own_time": sorted(rows, key=lambda r: -r["tottime_s"])[:TOP],
    }


REPORT_COST = """
import json, sys, time
import numpy, sklearn.ensemble  # loaded in the suite's process already: not counted
clock = time.perf_counter
report = json.load(open(sys.argv[1], encoding="utf-8"))
out = {}
start = clock()
from pytest_mlperf.report import render_markdown, report_json
out["import report.json/report.md writers"] = clock() - start
start = clock()
report_json(report)
out["report.json text"] = clock() - start
start = clock()
render_markdown(report)
out["report.md text"] = clock() - start
from pytest_mlperf.report.html import html_available, render_html
start = clock()
available = html_available()  # imports jinja2 and the plots module
out["import the HTML renderer (jinja2, plots)"] = clock() - start
if available:
    start = clock()
    render_html(report)
    out["report.html text"] = clock() - start
print(json.dumps(out))
"""


def report_cost(env: dict[str, str], report: Path) -> dict[str, Any]:
    """Seconds of each step of writing the report files, from a suite's report.json, in a
    fresh process that has numpy and scikit-learn loaded (as the suite's process has)."""
    if not report.exists():
        return {}
    argv = [sys.executable, "-c", REPORT_COST, str(report)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    try:
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": done.stderr.strip()[-300:]}
    return figures


def profiles(env: dict[str, str], work: Path) -> dict[str, Any]:
    """Import time and cProfile of the plain suite. (A run that measures models is not
    profiled: memray's memory pass takes over `sys.setprofile` and ends the profile there;
    `suites.breakdown` clocks those runs instead.)"""
    reports = sorted((work / "suite").glob("report-*-mlperf_p95/report.json"))
    return {
        "import": import_profile(env),
        "report_cost_s": report_cost(env, reports[-1]) if reports else {},
        "unused_suite": cprofile(
            env, work / "unused", work / "profiles" / "unused.prof", "-q", "-p", "no:benchmark"
        ),
    }
