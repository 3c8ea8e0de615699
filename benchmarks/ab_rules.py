"""`model_bench.ab` judged by several rules on the same measurements.

Which statistics should a side-by-side comparison judge? Each comparison here measures all 20
pairs of blocks (W1 and/or W2 against itself, and with +10% and +25% of work added per call:
the `work` injection of section 5), then replays the two looks of `measure_ab` on its recorded
blocks once per rule: p95 alone, p50 alone, the mean alone, and `any` (the three together,
each at a third of alpha; the default). So every rule sees the same calls, on the same hour.
It prints, per rule, how often each condition was flagged, how many pairs the rule would have
measured, and the median ratio of each statistic. Run it beside a noise source (the project's
test suite looping) for a noisy hour: docs/performance.md, section 5.

    .venv/bin/python benchmarks/ab_rules.py --repeats 20 --workloads W1
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np
from ab_blocks import run_test_file

from pytest_mlperf.regression.ab import ABBlock, ABDesign, look
from pytest_mlperf.regression.comparison import ComparisonVerdict

RULES = ("p95", "p50", "mean", "any")
CONDITIONS = ("A/A", "+10%", "+25%")

TEST = """
import json, os

import pytest
from slowdown import slowed
from workloads import load_workloads

WL = load_workloads()
CONDITIONS = [("A/A", 0.0), ("+10%", 0.10), ("+25%", 0.25)]


@pytest.mark.parametrize("rep", range({repeats}))
@pytest.mark.parametrize("key", {workloads})
def test_rules(model_bench, key, rep):
    w = WL[key]
    base = slowed(w.fn, 0.0, "work", 0.0, w.batches[0])
    for label, fraction in CONDITIONS[rep % 3:] + CONDITIONS[:rep % 3]:
        cand = slowed(w.fn, fraction, "work", 0.0, w.batches[0])
        r = model_bench.ab(base, cand, w.X, batch_size=w.batch_size, blocks=20, max_blocks=20)
        record = {{"workload": key, "condition": label, **r.to_dict()}}
        with open(os.environ["AB_BLOCKS_OUT"], "a") as fh:
            fh.write(json.dumps(record) + "\\n")
"""


def replay(record: dict[str, Any], rule: str) -> tuple[ComparisonVerdict, int]:
    """The verdict and the pairs that ``measure_ab`` with ``metric=rule`` would have reached on
    this record's blocks (first look at 10 pairs, the last at 20)."""
    design = ABDesign(metric=rule)
    blocks = [
        ABBlock(b["pair"], b["order"], b["baseline"], b["candidate"]) for b in record["blocks"]
    ]
    for pairs in design.looks:
        final = pairs == design.looks[-1]
        seen = look(design, blocks[:pairs], final=final)
        if seen.verdict is not ComparisonVerdict.UNKNOWN or final:
            return seen.verdict, pairs
    raise AssertionError("the last look is final")


def summary(rows: list[dict[str, Any]]) -> str:
    out = [
        "| workload | rule | A/A flagged | +10% flagged | +25% flagged | pairs (A/A, +10%, +25%) |",
        "|---|---|---|---|---|---|",
    ]
    for workload in sorted({r["workload"] for r in rows}):
        for rule in RULES:
            cells, pairs = [], []
            for condition in CONDITIONS:
                rs = [r for r in rows if r["workload"] == workload and r["condition"] == condition]
                judged = [replay(r, rule) for r in rs]
                found = sum(v is ComparisonVerdict.REGRESSION for v, _ in judged)
                cells.append(f"{found} / {len(rs)}")
                pairs.append(f"{np.mean([n for _, n in judged]):.1f}")
            out.append(f"| {workload} | {rule} | {' | '.join(cells)} | {', '.join(pairs)} |")
    out += ["", "| workload | condition | median ratio p50 / p95 / mean / cpu_time | contended |"]
    out.append("|---|---|---|---|")
    for workload in sorted({r["workload"] for r in rows}):
        for condition in CONDITIONS:
            rs = [r for r in rows if r["workload"] == workload and r["condition"] == condition]
            medians = [
                f"{np.median([r['ratios'][m]['ratio'] for r in rs]):.3f}"
                for m in ("p50", "p95", "mean", "cpu_time")
            ]
            contended = sum(r["judged"] == ["cpu_time"] for r in rs)
            out.append(
                f"| {workload} | {condition} | {' / '.join(medians)} | {contended} of {len(rs)} |"
            )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="comparisons per cell (20)")
    parser.add_argument("--workloads", default="W1", help="W1, W2 or W1,W2 (W1)")
    a = parser.parse_args()
    workloads = a.workloads.split(",")
    if a.repeats < 1 or not set(workloads) <= {"W1", "W2"}:
        parser.error("--repeats must be at least 1, --workloads W1, W2 or both")
    load = os.getloadavg()[0]
    rows = run_test_file(TEST.format(repeats=a.repeats, workloads=workloads))
    print(f"load average at the start: {load:.2f}; at the end: {os.getloadavg()[0]:.2f}")
    print(summary(rows))


if __name__ == "__main__":
    main()
