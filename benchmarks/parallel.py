"""Section 6: the examples/ suite under pytest-xdist (issue 5, item 6).

The repository's own `examples/` suite, run as a user runs it, in three conditions per round
(the order rotating): `-n 0`, `-n 2`, and `-n 2 --mlperf-serial`, each writing its report.
Wall time is the whole pytest process; the latency figures are compared per result (node id,
name, batch size) between the conditions of the same round: the ratio of p50 and of p95 to
`-n 0`, then the median over the results.

(This module is not called `xdist`: benchmarks/ is on the measured processes' sys.path, and a
module of that name would hide pytest-xdist.)
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from spread import Spread

BASE = "-n 0"
CONDITIONS: dict[str, tuple[str, ...]] = {
    "-n 0": ("-n", "0"),
    "-n 2": ("-n", "2"),
    "-n 2 --mlperf-serial": ("-n", "2", "--mlperf-serial"),
}
COMMON = ("-p", "no:benchmark", "-q", "examples")


def report_figures(path: Path) -> dict[str, Any]:
    """Per result: p50, p95 and timed calls; and the run's workers, warnings, verdict."""
    if not path.exists():
        return {"missing": str(path)}
    report = json.loads(path.read_text(encoding="utf-8"))
    return {
        "workers": report["settings"].get("workers"),
        "verdict": report["summary"]["verdict"],
        "warnings": report.get("warnings", []),
        "results": {
            f"{e['nodeid']}|{e['name']}|{e['batch_size']}": {
                "p50": e["latency_ms"]["p50"],
                "p95": e["latency_ms"]["p95"],
                "n": e["n_samples"],
            }
            for e in report["results"]
        },
    }


def rotated(items: list[Any], by: int) -> list[Any]:
    by %= len(items)
    return items[by:] + items[:by]


def warm_up(bench: Any, repo: Path) -> None:
    """`-n 0` and `-n 2` once, uncounted (`--mlperf-serial` runs the same files)."""
    for label in ("-n 0", "-n 2"):
        bench.pytest(f"warmup examples {label}", repo, *COMMON, *CONDITIONS[label], keep=False)


def examples_round(bench: Any, repo: Path, work: Path, r: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in rotated(list(CONDITIONS), r):
        report = work / "examples-reports" / f"round{r:02d}-{label.replace(' ', '_')}"
        run = bench.pytest(
            f"examples {label}", repo, *COMMON, *CONDITIONS[label], f"--mlperf-report={report}"
        )
        out[label] = {"process": run.to_dict(), "report": report_figures(report / "report.json")}
    return out


def _spread(values: list[float]) -> dict[str, Any] | None:
    return Spread.of(values).to_dict() if values else None


def ratios(base: dict[str, Any], other: dict[str, Any], metric: str) -> dict[str, float]:
    return {
        key: other[key][metric] / base[key][metric]
        for key in base
        if key in other and base[key][metric] > 0
    }


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    if not rounds:
        return {}
    wall = {c: Spread.of(rnd[c]["process"]["wall_s"] for rnd in rounds) for c in CONDITIONS}
    cpu = {c: Spread.of(rnd[c]["process"]["cpu_s"] for rnd in rounds) for c in CONDITIONS}
    out: dict[str, Any] = {
        "rounds": len(rounds),
        "conditions": {
            c: {
                "wall_s": wall[c].to_dict(),
                "cpu_s": cpu[c].to_dict(),
                "wall_ratio_to_n0": wall[c].median / wall[BASE].median,
                "paired_wall_ratio": _spread(
                    [rnd[c]["process"]["wall_s"] / rnd[BASE]["process"]["wall_s"] for rnd in rounds]
                ),
                "exit_codes": sorted({rnd[c]["process"]["returncode"] for rnd in rounds}),
                "workers": sorted({rnd[c]["report"].get("workers") for rnd in rounds}, key=str),
                "verdicts": sorted({rnd[c]["report"].get("verdict") for rnd in rounds}, key=str),
                "contention_warning": any(
                    "xdist" in w for rnd in rounds for w in rnd[c]["report"].get("warnings", [])
                ),
                "results": len(rounds[0][c]["report"].get("results", {})),
            }
            for c in CONDITIONS
        },
        "latency": {},
    }
    for c in CONDITIONS:
        if c == BASE:
            continue
        entry: dict[str, Any] = {}
        for metric in ("p50", "p95"):
            per_round, per_result = [], {}
            for rnd in rounds:
                base = rnd[BASE]["report"].get("results", {})
                r = ratios(base, rnd[c]["report"].get("results", {}), metric)
                if r:
                    per_round.append(statistics.median(r.values()))
                for key, value in r.items():
                    per_result.setdefault(key, []).append(value)
            pooled = [v for values in per_result.values() for v in values]
            entry[metric] = {
                "median_over_results_per_round": _spread(per_round),
                "all_ratios": _spread(pooled),
                "per_result_median": {k: statistics.median(v) for k, v in per_result.items()},
            }
        out["latency"][c] = entry
    return out
