"""What machine and software produced the numbers: recorded with every report.

The fingerprint is deliberately tolerant: CPU model, core count, GPU, OS and architecture, but
not the current clock speed or the Python patch version, which change between identical runners.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from importlib import metadata
from typing import Any

PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "joblib",
    "threadpoolctl",
    "pytest",
    "pytest-xdist",
    "memray",
    "pytest-mlperf",
)
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name, if `nvidia-smi` answers within a few seconds."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.splitlines() if line.strip()]
    return names[0] if names else None


def thread_settings() -> dict[str, Any]:
    """Thread variables and the thread pools actually loaded (BLAS, OpenMP)."""
    pools: list[dict[str, Any]] = []
    try:
        from threadpoolctl import threadpool_info

        pools = [
            {k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for info in threadpool_info()
        ]
    except Exception:  # threadpoolctl inspects native libraries; never let it break a run
        pools = []
    return {"env": {k: os.environ.get(k) for k in THREAD_VARIABLES}, "pools": pools}


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of `names`; None for a package that is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def fingerprint(cpu: str, cores: int, gpu: str | None, system: str, arch: str) -> str:
    key = "|".join([cpu, str(cores), gpu or "", system, arch])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def machine_fingerprint() -> str:
    """This machine's fingerprint, without collecting the whole environment."""
    return fingerprint(
        cpu_model(), os.cpu_count() or 1, gpu_name(), platform.system(), platform.machine()
    )


def collect_environment() -> dict[str, Any]:
    cpu, cores, gpu = cpu_model(), os.cpu_count() or 1, gpu_name()
    system, arch = platform.system(), platform.machine()
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "system": system,
        "machine": arch,
        "cpu": cpu,
        "cpu_count": cores,
        "gpu": gpu,
        "load_average": load,
        "packages": package_versions(),
        "threads": thread_settings(),
        "fingerprint": fingerprint(cpu, cores, gpu, system, arch),
    }
