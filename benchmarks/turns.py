"""How much two "models" differ when they take turns call by call, against block after block.

One model (W1 or W2) is timed `--calls` times in a row in this process. The series is then cut
the ways `model_bench.ab` could time two models: pairs of two `--block`-call blocks one after
the other, or the same calls split into two blocks taking turns in runs of k calls (A B B A for
k = 1). Both "models" are the same one, so every difference between the two blocks of a pair
is the machine's. The figure per layout is the standard deviation, over pairs, of the log
ratio of the two blocks' p95, p50 and mean: docs/regressions.md ("Side by side") quotes it.

    python benchmarks/turns.py --workload W2 --calls 6000 --block 100
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from workloads import build, fit_models

STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "p95": lambda x: float(np.percentile(x, 95)),
    "p50": lambda x: float(np.median(x)),
    "mean": lambda x: float(np.mean(x)),
}


def timed_series(key: str, calls: int) -> np.ndarray:
    """`calls` back-to-back timed calls of workload `key`, in ms."""
    w = build(fit_models())[key]
    for batch in w.batches[:20]:
        w.fn(batch)
    out = np.empty(calls)
    clock = time.perf_counter_ns
    for i in range(calls):
        batch = w.batches[i % len(w.batches)]
        t0 = clock()
        w.fn(batch)
        out[i] = clock() - t0
    return out / 1e6


def split(series: np.ndarray, block: int, turn: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs of `block`-call blocks: one after the other (turn == block) or in turns of `turn`
    calls in the order A B B A."""
    pairs = []
    for p in range(len(series) // (2 * block)):
        segment = series[p * 2 * block : (p + 1) * 2 * block]
        if turn >= block:
            pairs.append((segment[:block], segment[block:]))
            continue
        runs = segment[: len(segment) // turn * turn].reshape(-1, turn)
        first = np.isin(np.arange(len(runs)) % 4, (0, 3))
        pairs.append((runs[first].ravel(), runs[~first].ravel()))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("W1", "W2", "W3"), default="W2")
    parser.add_argument("--calls", type=int, default=6000)
    parser.add_argument("--block", type=int, default=100)
    a = parser.parse_args()
    if a.calls < 4 * a.block or a.block < 20:
        parser.error("--block must be at least 20, and --calls at least 4 x --block")
    series = timed_series(a.workload, a.calls)
    print(
        f"{a.workload}: {a.calls} calls, median {np.median(series):.3f} ms, "
        f"p95 {np.percentile(series, 95):.3f} ms; pairs of {a.block}-call blocks"
    )
    print("| layout | pairs | " + " | ".join(f"log-sd of {s} ratio" for s in STATISTICS) + " |")
    print("|---|---|" + "---|" * len(STATISTICS))
    for turn in (a.block, 20, 5, 1):
        if turn > a.block:
            continue
        pairs = split(series, a.block, turn)
        sds = [
            np.std([np.log(f(b) / f(a_)) for a_, b in pairs], ddof=1) for f in STATISTICS.values()
        ]
        layout = "block after block" if turn == a.block else f"turns of {turn} call(s)"
        print(f"| {layout} | {len(pairs)} | " + " | ".join(f"{sd:.3f}" for sd in sds) + " |")


if __name__ == "__main__":
    main()
