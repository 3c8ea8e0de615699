"""The best any one-baseline threshold could have done on a section-5 run's stored reports.

A stored-run gate compares two processes, so whatever it computes, it ends in a threshold on
the candidate/baseline ratio. This script reads the reports that `run.py --sections ab
--ab-gates mlperf-stored` saved (a baseline, an unchanged run, +10% and +25% per round), takes
the log ratio of each run to its own round's baseline, and asks: with the threshold that
flags at most 1 of the 20 unchanged runs, how many slowed runs could any such rule flag?

- empirical: the threshold is the second-largest A/A log ratio, and the slowed runs above it
  are counted;
- normal: the A/A and A/B log ratios as normal, the threshold at the 95th percentile of A/A.

Figures: `cpu_time` (CPU time per call in units of each run's machine-speed probe, what the
gate judges when a run was held off the CPU) and `p95` (wall-clock p95 over the probe).

    python benchmarks/gate_ceiling.py benchmarks/results/scratch/gating/mlperf-reports
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from pytest_mlperf.probe import cpu_in_probe_units
from pytest_mlperf.results import Stability

CONDITIONS = {"A/A": "AA", "+10%": "+10pct", "+25%": "+25pct"}


def figure(result: dict[str, Any], metric: str) -> float:
    """A run's figure in units of its probe; ``cpu_time`` as the gate computes it (window by
    window since probe version 3)."""
    s = result["stability"]
    if metric == "cpu_time":
        units = cpu_in_probe_units(Stability.from_dict(s))
        assert units is not None, "a report without CPU time or the probe"
        return float(np.median(units))
    return float(np.percentile(result["samples_ms"], 95)) / float(s["probe_ms"])


def log_ratios(folder: Path, metric: str) -> dict[str, dict[str, list[float]]]:
    """workload -> condition -> log(run / its round's baseline)."""
    out: dict[str, dict[str, list[float]]] = {}
    for base_dir in sorted(folder.glob("round*-baseline")):
        prefix = base_dir.name.removesuffix("-baseline")
        base = {r["name"]: r for r in json.loads((base_dir / "report.json").read_text())["results"]}
        for label, tag in CONDITIONS.items():
            path = folder / f"{prefix}-{tag}" / "report.json"
            if not path.exists():
                continue
            for r in json.loads(path.read_text())["results"]:
                ratio = figure(r, metric) / figure(base[r["name"]], metric)
                out.setdefault(r["name"], {}).setdefault(label, []).append(math.log(ratio))
    return out


def ceiling(runs: dict[str, list[float]]) -> dict[str, Any]:
    aa = np.array(runs["A/A"])
    threshold = float(np.sort(aa)[-2])  # at most 1 unchanged run above it
    z = float(norm.ppf(0.95))
    normal_threshold = float(aa.mean() + z * aa.std(ddof=1))
    row: dict[str, Any] = {"A/A sd": float(aa.std(ddof=1)), "runs": int(aa.size)}
    for label in ("+10%", "+25%"):
        slowed = np.array(runs.get(label, []))
        if slowed.size < 2:
            continue
        row[label] = {
            "ratio (geometric mean)": float(math.exp(slowed.mean())),
            "empirical": f"{int((slowed > threshold).sum())} of {slowed.size}",
            "normal": float(norm.sf((normal_threshold - slowed.mean()) / slowed.std(ddof=1))),
        }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, help="the mlperf-reports folder of a run")
    args = parser.parse_args()
    for metric in ("cpu_time", "p95"):
        for workload, runs in sorted(log_ratios(args.reports, metric).items()):
            row = ceiling(runs)
            print(
                f"{metric:8} {workload}: A/A log-sd {row['A/A sd']:.3f} over {row['runs']} rounds"
            )
            for label in ("+10%", "+25%"):
                if label in row:
                    r = row[label]
                    print(
                        f"    {label}: measured x{r['ratio (geometric mean)']:.2f}; flagged at "
                        f"most {r['empirical']} (empirical), {r['normal']:.0%} (normal)"
                    )


if __name__ == "__main__":
    main()
