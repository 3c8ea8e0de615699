"""How far apart separate processes put the same model: wall time, CPU time, and CPU time in
units of the machine-speed probe.

Each of `--processes` fresh Python processes per workload times `--windows` windows of 20
calls, reading the process CPU time around each window and running the probe after it (as
`pytest_mlperf.probe.WindowClock` does). The spread between processes (log-sd) of each
figure is what a stored-run comparison of two processes has to tell apart from a change:
docs/performance.md, section 5, quotes it.

    python benchmarks/probe_spread.py --processes 16
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

WINDOW = 20


def child(key: str, windows: int) -> None:
    """One process's figures, as a JSON line: per window CPU ms per call, probe ms, wall p50."""
    from workloads import build, fit_models

    from pytest_mlperf.bench import quiet_interpreter, resolve_model, time_calls
    from pytest_mlperf.probe import probe_kernel

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
            probe_kernel()
            c2 = cpu()
            out["cpu"].append((c1 - c0) / WINDOW / 1e6)
            out["probe"].append((c2 - c1) / 1e6)
            out["wall"].append(float(np.median(ticks)) / 1e6)
    print(json.dumps(out))


def log_sd(values: list[float]) -> float:
    return float(np.std(np.log(values), ddof=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "WINDOWS"), help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.child:
        child(a.child[0], int(a.child[1]))
        return
    if a.processes < 3:
        parser.error("--processes must be at least 3")
    runs: dict[str, list[dict[str, list[float]]]] = {"W1": [], "W2": []}
    for _ in range(a.processes):  # the workloads alternate, so both see the same hours
        for key, windows in (("W1", 40), ("W2", 20)):
            done = subprocess.run(
                [sys.executable, __file__, "--child", key, str(windows)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[key].append(json.loads(done.stdout.splitlines()[-1]))
    print(f"{a.processes} processes per workload; log-sd between processes of:")
    print("| workload | wall median | CPU time per call | CPU time / probe |")
    print("|---|---|---|---|")
    for key, rows in runs.items():
        wall = [float(np.median(r["wall"])) for r in rows]
        cpu = [float(np.median(r["cpu"])) for r in rows]
        probed = [float(np.median(r["cpu"]) / np.median(r["probe"])) for r in rows]
        print(f"| {key} | {log_sd(wall):.3f} | {log_sd(cpu):.3f} | {log_sd(probed):.3f} |")


if __name__ == "__main__":
    main()
