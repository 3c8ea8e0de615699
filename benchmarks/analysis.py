"""From the raw records of run.py to the figures: spreads, ratios of medians, goals."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gating
import numpy as np
import parallel
from probes import nearest_rank
from scipy.stats import binom
from spread import Spread, ratio_of_medians

GOAL_OVERHEAD_NS = 100.0
GOAL_SUITE_RATIO = 0.5
GOAL_CI_HITS = 9  # of 10 runs
GOAL_UNUSED_SLOWDOWN = 0.02


def report_digest(path: Path) -> dict[str, Any]:
    """What one pytest-mlperf report.json says per workload, without the raw samples."""
    if not path.exists():
        return {"missing": str(path)}
    report = json.loads(path.read_text(encoding="utf-8"))
    keep = ("name", "n_samples", "warmup_calls", "elapsed_s", "stop_reason", "memory_mb")
    return {
        "verdict": report["summary"]["verdict"],
        "results": [
            {
                **{k: entry.get(k) for k in keep},
                "timed_s": sum(entry["samples_ms"]) / 1000,
                "warmup_s_estimate": entry["warmup_calls"] * entry["latency_ms"]["mean"] / 1000,
                "latency_ms": entry["latency_ms"],
                "checks": [
                    {k: c[k] for k in ("metric", "limit", "value", "verdict", "ci", "n")}
                    for c in entry["checks"]
                ],
            }
            for entry in report["results"]
        ],
    }


def spread(values: Iterable[float]) -> dict[str, Any]:
    return Spread.of(values).to_dict()


def goal(met: bool, figure: str, target: str) -> dict[str, Any]:
    return {"met": met, "figure": figure, "target": target}


# -- section 1 ----------------------------------------------------------------------------------


def overhead(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Block medians of the no-op per tool; the difference of their medians is the overhead."""
    by_tool: dict[str, list[float]] = {"bare": [], "mlperf": []}
    paired: list[float] = []
    for rnd in rounds:
        blocks: dict[int, dict[str, float]] = {}
        for rec in rnd["blocks"]:
            by_tool[rec["tool"]].append(rec["median_ns"])
            blocks.setdefault(rec["block"], {})[rec["tool"]] = rec["median_ns"]
        paired += [b["mlperf"] - b["bare"] for b in blocks.values() if len(b) == 2]
    if not paired:
        return {}
    mlperf, bare = Spread.of(by_tool["mlperf"]), Spread.of(by_tool["bare"])
    pb = [rnd["pytest_benchmark"]["median"] * 1e9 for rnd in rounds if rnd["pytest_benchmark"]]
    extra = mlperf.median - bare.median
    filters = {h["warning_filters"] for rnd in rounds for h in rnd["host"]}
    return {
        "mlperf_median_ns": mlperf.to_dict(),
        "bare_median_ns": bare.to_dict(),
        "paired_difference_ns": spread(paired),
        "pytest_benchmark_median_ns": spread(pb) if pb else None,
        "pytest_benchmark_iterations": sorted(
            {rnd["pytest_benchmark"]["iterations"] for rnd in rounds if rnd["pytest_benchmark"]}
        ),
        "overhead_ns": extra,
        "warning_filters_in_test": sorted(filters),
        "goal": goal(
            abs(extra) <= GOAL_OVERHEAD_NS,
            f"{extra:+.0f} ns per call (median of block medians, pytest-mlperf - bare loop)",
            f"within {GOAL_OVERHEAD_NS:.0f} ns",
        ),
    }


# -- section 2 ----------------------------------------------------------------------------------


PEER = "pytest-benchmark"


def measure(rounds: list[dict[str, Any]], label: str, key: str = "wall_s") -> list[float]:
    """One figure of process `label` (wall_s or cpu_s), one value per round."""
    return [float(rnd[label]["process"][key]) for rnd in rounds if label in rnd]


def above_floor(rnd: dict[str, Any], label: str) -> float:
    """Wall time of `label` minus the floor process of the same round."""
    return float(rnd[label]["process"]["wall_s"] - rnd["floor"]["process"]["wall_s"])


def suite(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Whole-process wall and CPU per condition; tool time = wall - floor."""
    if not rounds:
        return {}
    labels = list(rounds[0])
    wall = {label: Spread.of(measure(rounds, label)) for label in labels}
    cpu = {label: Spread.of(measure(rounds, label, "cpu_s")) for label in labels}
    conditions: dict[str, dict[str, Any]] = {
        label: {
            "wall_s": wall[label].to_dict(),
            "cpu_s": cpu[label].to_dict(),
            "minus_floor_s": wall[label].median - wall["floor"].median,
            "cpu_minus_floor_s": cpu[label].median - cpu["floor"].median,
            "minus_floor_paired_s": spread(above_floor(rnd, label) for rnd in rounds),
            "exit_codes": sorted({rnd[label]["process"]["returncode"] for rnd in rounds}),
            "phases_s": phases(rounds, label),
        }
        for label in labels
    }
    peer = conditions[PEER]
    comparisons = {
        label: {
            "wall_ratio": ratio_of_medians(wall[label], wall[PEER]),
            "minus_floor_ratio": conditions[label]["minus_floor_s"] / peer["minus_floor_s"],
            "cpu_minus_floor_ratio": (
                conditions[label]["cpu_minus_floor_s"] / peer["cpu_minus_floor_s"]
            ),
            "paired_minus_floor_ratio": spread(
                above_floor(rnd, label) / above_floor(rnd, PEER) for rnd in rounds
            ),
            "workloads": workload_digest(
                [rnd[label]["report"] for rnd in rounds if "report" in rnd[label]]
            ),
        }
        for label in labels
        if label.startswith("mlperf")
    }
    main = comparisons["mlperf p95"]
    bare = comparisons.get("mlperf p95, no report")
    without = f"; without --mlperf-report {bare['minus_floor_ratio']:.2f}x" if bare else ""
    return {
        "conditions": conditions,
        "comparisons": comparisons,
        "goal": goal(
            main["minus_floor_ratio"] <= GOAL_SUITE_RATIO,
            f"{main['minus_floor_ratio']:.2f}x pytest-benchmark's time above the floor "
            f"(whole process: {main['wall_ratio']:.2f}x{without})",
            f"at most {GOAL_SUITE_RATIO}x",
        ),
    }


def workload_digest(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Per workload over the runs: timed calls, time inside model_bench, verdict counts."""
    per: dict[str, dict[str, Any]] = {}
    for report in reports:
        for entry in report.get("results", []):
            row = per.setdefault(entry["name"], {"verdicts": Counter()})
            other = entry["elapsed_s"] - entry["timed_s"] - entry["warmup_s_estimate"]
            values = {
                "timed_calls": entry["n_samples"],
                "seconds_in_model_bench": entry["elapsed_s"],
                "seconds_timed": entry["timed_s"],
                "seconds_warmup_estimate": entry["warmup_s_estimate"],
                "seconds_other": other,  # memory pass, verdicts, summary
                "p95_ms": entry["latency_ms"]["p95"],
            }
            for key, value in values.items():
                row.setdefault(key, []).append(value)
            row["verdicts"].update(f"{c['metric']} {c['verdict']}" for c in entry["checks"])
    return {
        name: {
            **{k: spread(v) for k, v in row.items() if k != "verdicts"},
            "verdicts": dict(sorted(row["verdicts"].items())),
        }
        for name, row in sorted(per.items())
    }


def phases(rounds: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """Median seconds per phase of the pytest process (phase_timer records)."""
    records = [rnd[label]["phases"][0] for rnd in rounds if rnd[label].get("phases")]
    keys = sorted({k for r in records for k in r if k != "kind"})
    return {k: spread(r.get(k, 0.0) for r in records) for k in keys} if records else {}


# -- section 3 ----------------------------------------------------------------------------------


def order_statistic_ci(
    ordered: list[float], q: float, confidence: float
) -> tuple[float | None, float | None]:
    """Two-sided distribution-free CI of the q-quantile from order statistics."""
    n, half = len(ordered), (1 - confidence) / 2
    ks = np.arange(n + 1)
    lower = int(np.count_nonzero(binom.cdf(ks, n, q) <= half))
    upper = int(np.count_nonzero(binom.sf(ks, n, q) > half)) + 1
    lo = ordered[lower - 1] if lower >= 1 else None
    hi = ordered[upper - 1] if upper <= n else None
    return lo, hi


def inside(ci_ms: list[float | None], value: float) -> str:
    """'inside', 'inside (open-ended)' when a missing end (n/a: too few effective calls to
    bound that side) is what lets it in, or which side it misses on."""
    lo, hi = ci_ms
    if (lo is None or lo <= value) and (hi is None or value <= hi):
        return "inside" if lo is not None and hi is not None else "inside (open-ended)"
    return "above the CI" if hi is not None and value > hi else "below the CI"


def coverage(
    runs: list[dict[str, Any]], truth_ms: float, block_p95_ms: dict[int, float]
) -> dict[str, Any]:
    """Runs whose CI holds the pooled reference p95, and the p95 of the block just before."""
    rows = [
        {
            "run": run["run"],
            "n": run["n"],
            "p95_ms": run["p95_ms"],
            "ci": run["ci_p95_ms"],
            "reference": inside(run["ci_p95_ms"], truth_ms),
            "block_p95_ms": block_p95_ms[run["run"]],
            "block": inside(run["ci_p95_ms"], block_p95_ms[run["run"]]),
        }
        for run in runs
    ]
    return {
        "hits": sum(r["reference"].startswith("inside") for r in rows),
        "open_hits": sum(r["reference"] == "inside (open-ended)" for r in rows),
        "block_hits": sum(r["block"].startswith("inside") for r in rows),
        "runs": len(runs),
        "timed_calls": spread(r["n"] for r in runs),
        "ci_width_ms": spread(r["ci"][1] - r["ci"][0] for r in rows if None not in r["ci"]),
        "stop_reasons": dict(Counter(r["stop_reason"] for r in runs)),
        "verdicts": dict(Counter(v for r in runs for v in r["verdicts"])),
        "runs_with_drift_warning": sum(bool(r.get("warnings")) for r in runs),
        "per_run": rows,
    }


def dispersion(samples: list[float], q: float = 0.95, chunk: int = 100) -> float:
    """Variance of the count of calls above the q-quantile per `chunk` consecutive calls,
    over its binomial variance: 1 for independent calls, above 1 when slow calls cluster
    (the order-statistic CI assumes independence)."""
    threshold = nearest_rank(sorted(samples), q)
    above = np.asarray(samples) > threshold
    counts = above[: len(above) // chunk * chunk].reshape(-1, chunk).sum(axis=1)
    rate = counts.mean() / chunk
    return float(counts.var(ddof=1) / (chunk * rate * (1 - rate))) if 0 < rate < 1 else 0.0


def ci(data: dict[str, Any] | None) -> dict[str, Any]:
    """Section 3: the pooled reference p95 against each run's reported 95% CI of p95."""
    if not data or not data["fixed"]:
        return {}
    blocks = data["reference_blocks"]
    pooled = sorted(x / 1e6 for block in blocks for x in block["samples_ns"])
    truth = nearest_rank(pooled, 0.95)
    block_p95 = {
        b["run"]: nearest_rank(sorted(x / 1e6 for x in b["samples_ns"]), 0.95) for b in blocks
    }
    fixed = coverage(data["fixed"], truth, block_p95)
    adaptive = coverage(data["adaptive"], truth, block_p95)
    need = GOAL_CI_HITS * len(data["fixed"]) / 10
    return {
        "reference_calls": len(pooled),
        "reference_p95_ms": truth,
        "reference_p95_ci_ms": order_statistic_ci(pooled, 0.95, 0.95),
        "reference_p50_ms": nearest_rank(pooled, 0.5),
        "block_p95_ms": spread(block_p95.values()),
        "block_dispersion": spread(dispersion(b["samples_ns"]) for b in blocks),
        "warning_filters_in_test": sorted({b["warning_filters"] for b in blocks}),
        "limit_ms_adaptive": data["limit_ms"],
        "fixed": fixed,
        "adaptive": adaptive,
        "goal": goal(
            fixed["hits"] >= need,
            f"{fixed['hits']} of {fixed['runs']} runs (fixed budget, no limit)",
            f"at least {GOAL_CI_HITS} of 10",
        ),
    }


# -- section 4 ----------------------------------------------------------------------------------


def unused(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    if not pairs:
        return {}
    on = Spread.of(p["enabled"]["wall_s"] for p in pairs)
    off = Spread.of(p["disabled"]["wall_s"] for p in pairs)
    cpu_on = Spread.of(p["enabled"]["cpu_s"] for p in pairs)
    cpu_off = Spread.of(p["disabled"]["cpu_s"] for p in pairs)
    slowdown = ratio_of_medians(on, off) - 1
    return {
        "pairs": len(pairs),
        "enabled_wall_s": on.to_dict(),
        "disabled_wall_s": off.to_dict(),
        "enabled_cpu_s": cpu_on.to_dict(),
        "disabled_cpu_s": cpu_off.to_dict(),
        "slowdown": slowdown,
        "slowdown_cpu": ratio_of_medians(cpu_on, cpu_off) - 1,
        "paired_ratio": spread(p["enabled"]["wall_s"] / p["disabled"]["wall_s"] for p in pairs),
        "exit_codes": sorted({p[c]["returncode"] for p in pairs for c in ("enabled", "disabled")}),
        "goal": goal(
            slowdown <= GOAL_UNUSED_SLOWDOWN,
            f"{slowdown:+.1%} wall time (ratio of medians - 1)",
            f"at most {GOAL_UNUSED_SLOWDOWN:.0%}",
        ),
    }


# -- everything ---------------------------------------------------------------------------------


def box(processes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "processes": len(processes),
        "load1_before_process": spread(p["load1_before"] for p in processes),
        "steal_share": spread(p["steal_share"] for p in processes),
    }


def breakdown(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Median seconds per step of a model_bench call, per workload (diagnostic)."""
    per: dict[str, dict[str, list[float]]] = {}
    for rec in records:
        row = per.setdefault(rec["workload"], {})
        values = {"total": rec["total_s"], "timed calls": rec["timed_calls_s"], "n": rec["n"]}
        for key, value in {**values, **rec["steps_s"]}.items():
            row.setdefault(key, []).append(value)
    return {
        workload: {key: Spread.of(values).median for key, values in row.items()}
        for workload, row in per.items()
    }


def batching(data: dict[str, Any] | None) -> dict[str, Any]:
    """Section 7: per variant, rows/s and the gain over its baseline (per-round ratios)."""
    if not data or not data.get("rows"):
        return {}
    return {
        "settings": data.get("settings", {}),
        "seconds": data["process"]["wall_s"],
        "rows": [
            {
                **{k: r[k] for k in ("model", "variant", "rows", "baseline", "note")},
                "rate": spread(r["rates"]),
                "gain": spread(r["gains"]) if r["gains"] else None,
            }
            for r in data["rows"]
        ],
    }


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    rounds = raw["rounds"]
    out: dict[str, Any] = {
        "box": box(raw["processes"]),
        "overhead": overhead(rounds["overhead"]),
        "suite": suite(rounds["suite"]),
        "ci": ci(raw.get("ci")),
        "unused": unused(rounds["unused"]),
        "gating": gating.summarize(raw.get("gating", {}).get("rounds", [])),
        "xdist": parallel.summarize(raw.get("xdist", [])),
        "batching": batching(raw.get("batching")),
        "breakdown": breakdown(raw.get("breakdown", [])),
    }
    sections = ("overhead", "suite", "ci", "unused")
    out["goals"] = {name: out[name]["goal"] for name in sections if out[name]}
    if out["gating"]:
        out["goals"].update(out["gating"]["goals"])
    return out
