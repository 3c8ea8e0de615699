"""How far apart separate processes put the same model: wall time, CPU time, and CPU time in
units of the machine-speed probe.

Each of `--processes` fresh Python processes per workload times `--windows` windows of 20
calls, reading the process CPU time around each window and running the probe after it (as
`pytest_mlperf.probe.WindowClock` does). The spread between processes (log-sd) of each
figure is what a stored-run comparison of two processes has to tell apart from a change:
docs/performance.md, section 5, quotes it. Since probe version 3 a comparison divides each
window's CPU time by the probe run right after it (the last column); the column before
divides by the run's median probe, as versions 1 and 2 did.

    python benchmarks/probe_spread.py --processes 16
    python benchmarks/probe_spread.py --processes 16 --cold-probe   # as probe version 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

WINDOW = 20


def child(key: str, windows: int, cold: bool) -> None:
    """One process's figures, as a JSON line: per window CPU ms per call, probe ms, wall p50.
    The probe is timed as `WindowClock` times it (`timed_probe_ns`), or on its first run with
    ``cold`` (probe version 1)."""
    from workloads import build, fit_models

    from pytest_mlperf.bench import quiet_interpreter, resolve_model, time_calls
    from pytest_mlperf.probe import probe_kernel, timed_probe_ns

    w = build(fit_models())[key]
    target = resolve_model(w.fn)
    for batch in w.batches[:50]:
        target.fn(batch)
    cpu = time.process_time_ns
    out: dict[str, list[float]] = {"cpu": [], "probe": [], "wall": []}
    with quiet_interpreter(True):
        for i in range(windows):
            c0 = cpu()
            ticks = time_calls(target, w.batches, i * WINDOW, WINDOW, time.perf_counter_ns)
            c1 = cpu()
            if cold:
                probe_kernel()
                probe_ns = cpu() - c1
            else:
                probe_ns = timed_probe_ns()
            out["cpu"].append((c1 - c0) / WINDOW / 1e6)
            out["probe"].append(probe_ns / 1e6)
            out["wall"].append(float(np.median(ticks)) / 1e6)
    print(json.dumps(out))


def in_probe_units(row: dict[str, list[float]]) -> np.ndarray:
    """One process's CPU time per call in probe units, window by window, as the stored gate
    computes it (`pytest_mlperf.probe.cpu_in_probe_units`)."""
    from pytest_mlperf.probe import cpu_in_probe_units
    from pytest_mlperf.results import Stability

    units = cpu_in_probe_units(
        Stability(
            cpu_windows_ms=row["cpu"],
            probe_ms=float(np.median(row["probe"])),
            probe_windows_ms=row["probe"],
        )
    )
    assert units is not None, "a process without windows"
    return units


def log_sd(values: list[float]) -> float:
    return float(np.std(np.log(values), ddof=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument(
        "--cold-probe",
        action="store_true",
        help="time the probe's first run after each window, as probe version 1 did",
    )
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "WINDOWS"), help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.child:
        child(a.child[0], int(a.child[1]), a.cold_probe)
        return
    if a.processes < 3:
        parser.error("--processes must be at least 3")
    runs: dict[str, list[dict[str, list[float]]]] = {"W1": [], "W2": []}
    for _ in range(a.processes):  # the workloads alternate, so both see the same hours
        for key, windows in (("W1", 40), ("W2", 20)):
            done = subprocess.run(
                [sys.executable, __file__, "--child", key, str(windows)]
                + (["--cold-probe"] if a.cold_probe else []),
                capture_output=True,
                text=True,
                check=True,
            )
            runs[key].append(json.loads(done.stdout.splitlines()[-1]))
    kind = "first (cold)" if a.cold_probe else "second (warm)"
    print(f"{a.processes} processes per workload, the probe timed on its {kind} run after each")
    print("window; log-sd between processes of:")
    print(
        "| workload | probe ms | probe | wall median | CPU time per call "
        "| CPU time / median probe | CPU time / probe, window by window |"
    )
    print("|---|---|---|---|---|---|---|")
    for key, rows in runs.items():
        probes = [float(np.median(r["probe"])) for r in rows]
        wall = [float(np.median(r["wall"])) for r in rows]
        cpu = [float(np.median(r["cpu"])) for r in rows]
        probed = [c / p for c, p in zip(cpu, probes, strict=True)]
        paired = [float(np.median(in_probe_units(r))) for r in rows]
        print(
            f"| {key} | {np.median(probes):.4f} | {log_sd(probes):.3f} | {log_sd(wall):.3f} "
            f"| {log_sd(cpu):.3f} | {log_sd(probed):.3f} | {log_sd(paired):.3f} |"
        )


if __name__ == "__main__":
    main()
