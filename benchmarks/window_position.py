"""Is the first timed call of a window slower than the others?

Between windows of 20 calls the timed loop reads the CPU clocks and runs the machine-speed
probe. If that work left the caches cold, the first call of every window would be slower:
one call in 20, which is where p95 sits. This script times W0 and W1 with `Benchmarker`
(2,000 calls, no limit) and a bare reference loop in the same process, and prints the median
call by position in its window and the p95 with and without each window's first call.

    python benchmarks/window_position.py --repeats 3
    PYTHONPATH=/tmp/old/src python benchmarks/window_position.py   # another version
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from probes import reference_loop
from workloads import build, fit_models

import pytest_mlperf
from pytest_mlperf.bench import Benchmarker

WINDOW = 20


def one(key: str, fn: object, batches: list[np.ndarray], X: np.ndarray, size: int) -> dict:
    result = Benchmarker(samples=2000, measure_memory=False).benchmark(
        fn, X, batch_size=size, name=key
    )
    samples = np.asarray(result.samples_ms) * 1e6  # ns
    by_window = samples[: len(samples) // WINDOW * WINDOW].reshape(-1, WINDOW)
    position = np.median(by_window, axis=0)
    reference = np.asarray(reference_loop(fn, batches, 2000), dtype=np.float64)  # type: ignore[arg-type]
    return {
        "workload": key,
        "first_over_rest": float(position[0] / np.median(position[2:])),
        "second_over_rest": float(position[1] / np.median(position[2:])),
        "p95_ns": float(np.percentile(samples, 95)),
        "p95_without_first_ns": float(np.percentile(by_window[:, 1:], 95)),
        "reference_p95_ns": float(np.percentile(reference, 95)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    workloads = build(fit_models())
    print(f"pytest_mlperf from {pytest_mlperf.__file__}")
    for _ in range(args.repeats):
        for key in ("W0", "W1"):
            w = workloads[key]
            print(json.dumps(one(key, w.fn, w.batches, w.X, w.batch_size)))


if __name__ == "__main__":
    main()
