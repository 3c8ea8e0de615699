"""The machine and the processes: what ran where, how long it took, and how busy the box was."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pytest_mlperf.env import cpu_model, package_versions

PACKAGES = (
    "pytest",
    "pytest-mlperf",
    "pytest-benchmark",
    "pytest-xdist",
    "numpy",
    "scipy",
    "scikit-learn",
    "joblib",
    "threadpoolctl",
    "memray",
)


def load1() -> float:
    return os.getloadavg()[0]


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat; (0, 0) elsewhere."""
    try:
        with open("/proc/stat", encoding="utf-8") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    steal = fields[7] if len(fields) > 7 else 0
    return steal, sum(fields[:8])


def git_state(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": git("status", "--porcelain", "src")}


def imported_plugin(env: dict[str, str]) -> str:
    """The pytest_mlperf package the measured processes import (see run.py --plugin-path)."""
    code = "import pytest_mlperf; print(pytest_mlperf.__file__)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return done.stdout.strip() or done.stderr.strip()[-200:]


def machine(repo: Path, env: dict[str, str]) -> dict[str, Any]:
    versions = package_versions(PACKAGES)
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git": git_state(repo),
        "plugin_module": imported_plugin(env),
    }


@dataclass
class ProcessRun:
    """One measured subprocess: whole-process wall and CPU time, and the box's state."""

    label: str
    argv: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    load1_before: float
    steal_share: float  # of all CPU time during the run, taken by other guests
    log: str
    exit1_ok: bool = False  # exit 1 is a measured outcome (a broken limit, a flagged regression)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_process(
    label: str, argv: list[str], cwd: Path, env: dict[str, str], log: Path, exit1_ok: bool = False
) -> ProcessRun:
    """Run argv to completion, output to `log`; times exclude nothing but Python's fork."""
    load = load1()
    steal0, total0 = cpu_ticks()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "w", encoding="utf-8") as out:
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - start
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    steal1, total1 = cpu_ticks()
    cpu = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
    steal = (steal1 - steal0) / (total1 - total0) if total1 > total0 else 0.0
    return ProcessRun(label, argv, done.returncode, wall, cpu, load, steal, str(log), exit1_ok)


def pytest_argv(*args: str) -> list[str]:
    """The venv's `pytest` script, as a user runs it, without the cache plugin's writes."""
    return [str(Path(sys.executable).with_name("pytest")), "-p", "no:cacheprovider", *args]
