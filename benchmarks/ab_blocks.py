"""`model_bench.ab` on W1 with two block lengths, alternated in one process.

A 200-call block (the default) of a 0.1 ms model lasts 20 ms, and its p95 moves with the few
slow calls the machine happens to put in it; would longer blocks find a +10% slowdown more
often? This script runs one pytest process whose tests compare W1 with itself (A/A) and with
+10% and +25% of work added (the `work` injection of section 5), each comparison once with
each `block_calls`, the order swapped from repeat to repeat, and prints how often each found
the change and how long it took. Run it beside a noise source (the project's test suite
looping) for a noisy hour: docs/performance.md, section 5.

    .venv/bin/python benchmarks/ab_blocks.py --repeats 10 --block-calls 200,500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from workloads import MODELS_ENV, fit_models, save_models

HERE = Path(__file__).resolve().parent

TEST = """
import json, os

import pytest
from slowdown import slowed
from workloads import load_workloads

WL = load_workloads()


@pytest.mark.parametrize("rep", range({repeats}))
def test_w1(model_bench, rep):
    w = WL["W1"]
    base = slowed(w.fn, 0.0, "work", 0.0, w.batches[0])
    for label, fraction in (("A/A", 0.0), ("+10%", 0.10), ("+25%", 0.25)):
        cand = slowed(w.fn, fraction, "work", 0.0, w.batches[0])
        for calls in ({lengths} if rep % 2 else {lengths}[::-1]):
            r = model_bench.ab(base, cand, w.X, batch_size=1, block_calls=calls)
            with open(os.environ["AB_BLOCKS_OUT"], "a") as fh:
                fh.write(json.dumps({{
                    "calls": r.block_calls,
                    "condition": label, "verdict": r.verdict.value, "metric": r.metric,
                    "seconds": r.elapsed_s,
                }}) + "\\n")
"""


def summary(rows: list[dict[str, object]], lengths: list[int]) -> str:
    out = [
        "| calls per block | condition | flagged (REGRESSION) | verdicts | decided by "
        "| seconds per comparison |",
        "|---|---|---|---|---|---|",
    ]
    for calls in lengths:
        for condition in ("A/A", "+10%", "+25%"):
            rs = [r for r in rows if r["calls"] == calls and r["condition"] == condition]
            if not rs:
                continue
            found = sum(r["verdict"] == "regression" for r in rs)
            seconds = np.percentile([float(str(r["seconds"])) for r in rs], [0, 50, 100])
            out.append(
                f"| {calls} | {condition} | {found} / {len(rs)} "
                f"| {dict(Counter(str(r['verdict']) for r in rs))} "
                f"| {dict(Counter(str(r['metric']) for r in rs))} "
                f"| {seconds[0]:.2f} / **{seconds[1]:.2f}** / {seconds[2]:.2f} |"
            )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="comparisons per cell (10)")
    parser.add_argument("--block-calls", default="200,500", help="two block lengths (200,500)")
    a = parser.parse_args()
    try:
        lengths = [int(v) for v in a.block_calls.split(",")]
    except ValueError:
        parser.error(f"--block-calls takes two whole numbers like 200,500, got {a.block_calls!r}")
    if a.repeats < 1 or len(lengths) != 2 or min(lengths) < 20:
        parser.error("--repeats must be at least 1, --block-calls two lengths of at least 20")
    load = os.getloadavg()[0]
    rows = run_test_file(TEST.format(repeats=a.repeats, lengths=tuple(lengths)))
    print(f"load average at the start: {load:.2f}; at the end: {os.getloadavg()[0]:.2f}")
    print(summary(rows, lengths))


def run_test_file(source: str) -> list[dict[str, Any]]:
    """Run one generated test file in a fresh pytest process, beside the section-5 models,
    and return the JSON lines its tests appended to the file named by ``AB_BLOCKS_OUT``."""
    with tempfile.TemporaryDirectory(prefix="mlperf-ab-") as tmp:
        folder = Path(tmp)
        save_models(fit_models(), folder / "models.joblib")
        (folder / "test_ab_generated.py").write_text(textwrap.dedent(source))
        out = folder / "records.jsonl"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            MODELS_ENV: str(folder / "models.joblib"),
            "AB_BLOCKS_OUT": str(out),
        }
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
             "no:benchmark", "test_ab_generated.py"],
            cwd=folder, env=env, check=True, capture_output=True,
        )  # fmt: skip
        return [json.loads(line) for line in out.read_text().splitlines()]


if __name__ == "__main__":
    main()
