"""Judge the stored runs of section-5 runs again, with the comparison code on the path.

`run.py --sections ab --ab-gates mlperf-stored` keeps every report it compared (a baseline, an
unchanged run, +10% and +25% per round) under `scratch/gating/mlperf-reports`. This script
compares each round's runs with its baseline again, with `compare_runs` of whichever
pytest-mlperf is imported, and counts the rounds with a gating regression per workload and
condition. Run it once with this checkout and once with another commit's `src` first on
`PYTHONPATH` to see what a change to the comparison does to the same measurements:

    python benchmarks/rejudge.py RUN/scratch/gating/mlperf-reports [MORE ...]
    PYTHONPATH=OLD/src python benchmarks/rejudge.py RUN/scratch/gating/mlperf-reports
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pytest_mlperf
from pytest_mlperf.regression.compare import compare_runs

CONDITIONS = {"A/A": "AA", "+10%": "+10pct", "+25%": "+25pct"}
WORKLOADS = ("W1", "W2")


def rejudge(folder: Path) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """Rounds flagged per (workload, condition), and rounds judged per condition."""
    flagged: Counter[tuple[str, str]] = Counter()
    judged: Counter[str] = Counter()
    for base_dir in sorted(folder.glob("round*-baseline")):
        prefix = base_dir.name.removesuffix("-baseline")
        baseline = json.loads((base_dir / "report.json").read_text())
        for label, tag in CONDITIONS.items():
            path = folder / f"{prefix}-{tag}" / "report.json"
            if not path.exists():
                continue
            judged[label] += 1
            records = compare_runs(json.loads(path.read_text()), baseline, same_machine=True)
            for name in WORKLOADS:
                flagged[name, label] += any(r.name == name and r.fails_run for r in records)
    return flagged, judged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="+", help="mlperf-reports folders")
    a = parser.parse_args()
    print(f"comparison code: {Path(pytest_mlperf.__file__).parent}")
    print("| reports | workload | A/A flagged | +10% flagged | +25% flagged |")
    print("|---|---|---|---|---|")
    for folder in a.reports:
        flagged, judged = rejudge(folder)
        for name in WORKLOADS:
            cells = [f"{flagged[name, c]} / {judged[c]}" for c in CONDITIONS]
            print(f"| {folder} | {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
