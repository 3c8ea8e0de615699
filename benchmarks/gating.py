"""Section 5: regression gating, A/A and A/B, on W1 and W2 (issue 4, item 8).

Three gates see the same conditions in the same run, in rounds whose order rotates:

- `model_bench.ab` (pytest-mlperf, side by side, default settings and 5% tolerance): one pytest
  process per round measures baseline and candidate interleaved, once per condition for W2 and
  `--ab-w1-repeats` times per condition for W1 (W1 is cheap: about 1 s per comparison, W2 20-40 s).
- pytest-benchmark's stored runs: per round a fresh storage folder, one process saves the
  baseline (no slowdown), then one compare process per condition with
  `--benchmark-compare --benchmark-compare-fail mean:10% median:10%` (one flag: it keeps only
  the last of several, measured-here.md). `mean:10%` is the issue's criterion; `median:10%`
  is evaluated in the same runs and shown too.
- pytest-mlperf's stored runs: the same, with `--mlperf-save` / `--mlperf-compare` and the
  default 5% tolerance; a flag is a gating regression in the run's report (which sets exit 1).

Conditions: A/A (0%), +10% and +25%, injected by `slowdown.slowed` (proportional by default:
every percentile, the mean included, grows by exactly that much; `--ab-injection fixed` is the
peers' fixed busy-wait of pct x the quiet reference median).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

import slowdown
from scipy.stats import beta
from spread import Spread

CONDITIONS: dict[str, float] = {"A/A": 0.0, "+10%": 0.10, "+25%": 0.25}
GATED = ("W1", "W2")
TOOLS = ("ab", "pytest-benchmark", "mlperf-stored")
ROUND_ENV = "MLPERF_BENCH_ROUND"
NO_MLPERF = ("-p", "no:mlperf")
NO_BENCHMARK = ("-p", "no:benchmark")
PB_FAIL = ("--benchmark-compare-fail", "mean:10%", "median:10%")
PB_CRITERIA = ("mean", "median")

# Goals for model_bench.ab (issue 4, item 8): rate bounds per condition
GOALS = {
    "A/A": ("at most", 0.01, "at most 1 false alarm in 100"),
    "+10%": ("at least", 0.90, "detected in at least 90 of 100"),
    "+25%": ("at least", 0.99, "detected in at least 99 of 100"),
}


class Runner(Protocol):
    """What run.Bench offers: run pytest in a folder, read a run's records."""

    def pytest(
        self,
        label: str,
        folder: Path,
        *args: str,
        keep: bool = True,
        env: dict[str, str] | None = None,
        exit1_ok: bool = False,
    ) -> Any: ...

    def records(self, run: Any, kind: str) -> list[dict[str, Any]]: ...


# -- the generated test files ------------------------------------------------------------------


def _settings(mode: str, base_ns: dict[str, float]) -> str:
    return f"""
    import os

    from slowdown import fraction_from_env, slowed

    MODE = {mode!r}
    BASE_NS = {base_ns!r}  # quiet reference medians, used by the "fixed" injection only


    def workload(key, fraction):
        w = WL[key]
        return w, slowed(w.fn, fraction, MODE, BASE_NS.get(key, 0.0), w.batches[0])
    """


def ab_suite(mode: str, base_ns: dict[str, float], w1_repeats: int) -> str:
    return (
        _settings(mode, base_ns)
        + f"""

    CONDITIONS = {list(CONDITIONS.items())!r}
    ROUND = int(os.environ.get({ROUND_ENV!r}, "0"))


    def rotated(items, by):
        by %= len(items)
        return items[by:] + items[:by]


    def compare(model_bench, key, label, fraction, repeat):
        w, baseline = workload(key, 0.0)
        _, candidate = workload(key, fraction)
        r = model_bench.ab(
            baseline, candidate, w.X, batch_size=w.batch_size,
            baseline_name="baseline", candidate_name="candidate",
        )
        emit("ab", {{
            "round": ROUND, "repeat": repeat, "workload": key, "condition": label,
            "verdict": r.verdict.value.upper(), "p95_ratio": r.p95_ratio, "ci": list(r.ci),
            "p_value": r.p_value, "p50_ratio": r.p50_ratio,
            "mean_ratio": 1.0 / r.throughput_ratio, "verdicts": dict(r.verdicts),
            "pairs": r.n_pairs, "stop_reason": r.stop_reason, "elapsed_s": r.elapsed_s,
            "tolerance_pct": r.tolerance_pct, "metric": r.metric,
            "cpu_share": getattr(r, "cpu_share", None),
            "cpu_ratio": r.tests["cpu_time"].ratio if "cpu_time" in r.tests else None,
            **host_conditions(),
        }})


    def test_ab(model_bench):
        for repeat in range({w1_repeats}):
            for label, fraction in rotated(CONDITIONS, ROUND + repeat):
                compare(model_bench, "W1", label, fraction, repeat)
        for label, fraction in rotated(CONDITIONS, ROUND):
            compare(model_bench, "W2", label, fraction, 0)
    """
    )


def pytest_benchmark_gate(mode: str, base_ns: dict[str, float]) -> str:
    tests = "".join(
        f"""

    def test_{key}(benchmark):
        w, fn = workload("{key}", FRACTION)
        benchmark(fn, w.batches[0])
    """
        for key in GATED
    )
    return _settings(mode, base_ns) + "\n    FRACTION = fraction_from_env()\n" + tests


def mlperf_gate(mode: str, base_ns: dict[str, float]) -> str:
    tests = "".join(
        f"""

    def test_{key}(model_bench):
        w, fn = workload("{key}", FRACTION)
        model_bench(fn, w.X, batch_size=w.batch_size, name="{key}")
    """
        for key in GATED
    )
    return _settings(mode, base_ns) + "\n    FRACTION = fraction_from_env()\n" + tests


FILES = {
    "ab": "test_gate_ab.py",
    "pytest-benchmark": "test_gate_pytest_benchmark.py",
    "mlperf-stored": "test_gate_mlperf.py",
}


def write_files(folder: Path, mode: str, base_ns: dict[str, float], w1_repeats: int) -> None:
    import suites

    suites.write(folder, FILES["ab"], ab_suite(mode, base_ns, w1_repeats))
    suites.write(folder, FILES["pytest-benchmark"], pytest_benchmark_gate(mode, base_ns))
    suites.write(folder, FILES["mlperf-stored"], mlperf_gate(mode, base_ns))


# -- running one round -------------------------------------------------------------------------


def rotated(items: list[Any], by: int) -> list[Any]:
    by %= len(items)
    return items[by:] + items[:by]


def fraction_env(fraction: float) -> dict[str, str]:
    return {slowdown.FRACTION_ENV: repr(fraction)}


def warm_up(bench: Runner, folder: Path) -> None:
    """One uncounted process per file: bytecode caches, page cache."""
    bench.pytest("warmup gate ab", folder, *NO_BENCHMARK, FILES["ab"], "--co", keep=False)
    for tool in ("pytest-benchmark", "mlperf-stored"):
        off = NO_MLPERF if tool == "pytest-benchmark" else NO_BENCHMARK
        bench.pytest(f"warmup gate {tool}", folder, *off, FILES[tool], keep=False)


def ab_process(bench: Runner, folder: Path, r: int) -> dict[str, Any]:
    # exit 1 is an outcome: before commit 357290a an A/B REGRESSION failed the run even
    # without the regression marker (--plugin-commit can measure such a version)
    run = bench.pytest(
        "gate ab", folder, *NO_BENCHMARK, FILES["ab"], env={ROUND_ENV: str(r)}, exit1_ok=True
    )
    return {"process": run.to_dict(), "comparisons": bench.records(run, "ab")}


REGRESSED = re.compile(r"^\s*(test_\w+)\b.* - Field '(\w+)' has failed")


def pytest_benchmark_flags(log: str) -> dict[str, list[str]]:
    """{test: [fields that failed]} from pytest-benchmark's 'Performance has regressed' block."""
    flags: dict[str, list[str]] = {}
    for line in Path(log).read_text(encoding="utf-8", errors="replace").splitlines():
        match = REGRESSED.match(line)
        if match:
            flags.setdefault(match.group(1).removeprefix("test_"), []).append(match.group(2))
    return flags


def pytest_benchmark_stats(path: Path) -> dict[str, dict[str, float]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        b["name"].removeprefix("test_"): {k: b["stats"][k] for k in ("mean", "median", "rounds")}
        for b in data["benchmarks"]
    }


def pytest_benchmark_trial(bench: Runner, folder: Path, r: int) -> dict[str, Any]:
    storage = folder / "pytest-benchmark-storage" / f"round{r:03d}"
    store = f"--benchmark-storage=file://{storage}"
    file, out = FILES["pytest-benchmark"], folder / "pytest-benchmark-json"
    out.mkdir(exist_ok=True)
    base_json = out / f"round{r:03d}-baseline.json"
    save = bench.pytest(
        "gate pytest-benchmark save",
        folder,
        *NO_MLPERF,
        file,
        store,
        "--benchmark-save=base",
        f"--benchmark-json={base_json}",
        env=fraction_env(0.0),
    )
    baseline = pytest_benchmark_stats(base_json)
    trial: dict[str, Any] = {"save": save.to_dict(), "baseline": baseline, "compare": {}}
    for label in rotated(list(CONDITIONS), r):
        report = out / f"round{r:03d}-{label.replace('/', '').replace('%', 'pct')}.json"
        run = bench.pytest(
            f"gate pytest-benchmark {label}",
            folder,
            *NO_MLPERF,
            file,
            store,
            "--benchmark-compare",
            *PB_FAIL,
            f"--benchmark-json={report}",
            env=fraction_env(CONDITIONS[label]),
            exit1_ok=True,
        )
        current = pytest_benchmark_stats(report)
        trial["compare"][label] = {
            "process": run.to_dict(),
            "flags": pytest_benchmark_flags(run.log),
            "stats": current,
            "ratios": {
                key: {stat: current[key][stat] / baseline[key][stat] for stat in ("mean", "median")}
                for key in GATED
                if key in current and key in baseline
            },
        }
    return trial


def mlperf_comparisons(report_dir: Path) -> dict[str, Any]:
    """Per workload: the stored-run comparisons of the run's report (end of run, Holm)."""
    path = report_dir / "report.json"
    if not path.exists():
        return {"missing": str(path)}
    report = json.loads(path.read_text(encoding="utf-8"))
    per: dict[str, Any] = {}
    for c in report.get("comparisons", []):
        if c.get("kind") != "stored" or c.get("metric") == "all":
            continue
        row = per.setdefault(c["name"], {"verdicts": {}, "ratios": {}})
        row["verdicts"][c["metric"]] = c["verdict"]
        row["ratios"][c["metric"]] = c.get("ratio")
        if c["verdict"] == "regression" and c.get("gating", True):
            row.setdefault("regressed", []).append(c["metric"])
    return {"summary_verdict": report["summary"]["verdict"], "workloads": per}


def mlperf_trial(bench: Runner, folder: Path, r: int) -> dict[str, Any]:
    storage = folder / "mlperf-storage" / f"round{r:03d}"
    reports = folder / "mlperf-reports"
    store = f"--mlperf-storage={storage}"
    file = FILES["mlperf-stored"]
    save = bench.pytest(
        "gate mlperf-stored save",
        folder,
        *NO_BENCHMARK,
        file,
        store,
        "--mlperf-save=base",
        f"--mlperf-report={reports / f'round{r:03d}-baseline'}",
        env=fraction_env(0.0),
    )
    trial: dict[str, Any] = {"save": save.to_dict(), "compare": {}}
    for label in rotated(list(CONDITIONS), r):
        report_dir = reports / f"round{r:03d}-{label.replace('/', '').replace('%', 'pct')}"
        run = bench.pytest(
            f"gate mlperf-stored {label}",
            folder,
            *NO_BENCHMARK,
            file,
            store,
            "--mlperf-compare",
            f"--mlperf-report={report_dir}",
            env=fraction_env(CONDITIONS[label]),
            exit1_ok=True,
        )
        trial["compare"][label] = {"process": run.to_dict(), **mlperf_comparisons(report_dir)}
    return trial


def gate_round(
    bench: Runner, folder: Path, r: int, tools: tuple[str, ...] = TOOLS
) -> dict[str, Any]:
    """One trial of every tool and condition; the tools' order rotates from round to round."""
    out: dict[str, Any] = {"round": r}
    for tool in rotated(list(tools), r):
        if tool == "ab":
            out[tool] = ab_process(bench, folder, r)
        elif tool == "pytest-benchmark":
            out[tool] = pytest_benchmark_trial(bench, folder, r)
        else:
            out[tool] = mlperf_trial(bench, folder, r)
    return out


# -- analysis ----------------------------------------------------------------------------------


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial interval of a rate k / n."""
    if n == 0:
        return 0.0, 1.0
    a = (1 - confidence) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def rate(flags: list[bool]) -> dict[str, Any]:
    k, n = sum(flags), len(flags)
    lo, hi = clopper_pearson(k, n)
    return {"flagged": k, "n": n, "rate": k / n if n else None, "ci95": [lo, hi]}


def spread(values: list[float]) -> dict[str, Any] | None:
    values = [v for v in values if v is not None]
    return Spread.of(values).to_dict() if values else None


def ab_goal(condition: str, r: dict[str, Any]) -> dict[str, Any]:
    side, bound, target = GOALS[condition]
    value, (lo, hi) = r["rate"], r["ci95"]
    met = value is not None and (value <= bound if side == "at most" else value >= bound)
    shown = hi <= bound if side == "at most" else lo >= bound
    return {
        "met": met,
        "shown_by_ci": shown,
        "figure": f"{r['flagged']} of {r['n']} (95% CI {lo:.1%}-{hi:.1%})",
        "target": target,
    }


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    if not rounds:
        return {}
    out: dict[str, Any] = {"rounds": len(rounds), "tools": {}, "goals": {}}
    if "pytest-benchmark" in rounds[0]:
        out["tools"]["pytest-benchmark"] = pytest_benchmark_summary(rounds)
    if "mlperf-stored" in rounds[0]:
        out["tools"]["mlperf-stored"] = mlperf_summary(rounds)
    if "ab" not in rounds[0]:
        return out
    ab_rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rnd in rounds:
        for c in rnd["ab"]["comparisons"]:
            ab_rows.setdefault((c["workload"], c["condition"]), []).append(c)
    ab: dict[str, Any] = {}
    for (key, label), rows in sorted(ab_rows.items()):
        r = rate([c["verdict"] == "REGRESSION" for c in rows])
        ab.setdefault(key, {})[label] = {
            **r,
            "verdicts": dict(Counter(c["verdict"] for c in rows)),
            "p95_ratio": spread([c["p95_ratio"] for c in rows]),
            "p50_ratio": spread([c["p50_ratio"] for c in rows]),
            "pairs": spread([c["pairs"] for c in rows]),
            "elapsed_s": spread([c["elapsed_s"] for c in rows]),
            "warning_filters": sorted({c["warning_filters"] for c in rows}),
            # which metric decided (cpu_time when the comparison was held off the CPU)
            "decided_by": dict(Counter(c.get("metric", "p95") for c in rows)),
            "cpu_ratio": spread([c["cpu_ratio"] for c in rows if c.get("cpu_ratio")] or [0.0]),
        }
        out["goals"][f"5. ab {key} {label}"] = ab_goal(label, r)
    out["tools"]["ab"] = ab
    out["ab_process_s"] = spread([rnd["ab"]["process"]["wall_s"] for rnd in rounds])
    return out


def pytest_benchmark_summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for key in GATED:
        for label in CONDITIONS:
            trials = [
                rnd["pytest-benchmark"]["compare"][label]
                for rnd in rounds
                if label in rnd["pytest-benchmark"]["compare"]
            ]
            row = {
                f"{crit}:10%": rate([crit in t["flags"].get(key, []) for t in trials])
                for crit in PB_CRITERIA
            }
            ratios = [t["ratios"][key] for t in trials if key in t["ratios"]]
            row["mean_ratio"] = spread([x["mean"] for x in ratios])
            row["median_ratio"] = spread([x["median"] for x in ratios])
            row["exit_codes"] = dict(Counter(t["process"]["returncode"] for t in trials))
            per.setdefault(key, {})[label] = row
    per["process_s"] = compare_seconds(rounds, "pytest-benchmark")
    return per


def mlperf_summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for key in GATED:
        for label in CONDITIONS:
            trials = [
                rnd["mlperf-stored"]["compare"][label]
                for rnd in rounds
                if label in rnd["mlperf-stored"]["compare"]
            ]
            rows = [t.get("workloads", {}).get(key, {}) for t in trials]
            per.setdefault(key, {})[label] = {
                "p95": rate(["p95" in row.get("regressed", []) for row in rows]),
                "any": rate([bool(row.get("regressed")) for row in rows]),
                "p95_ratio": spread([row.get("ratios", {}).get("p95") for row in rows]),
                "p50_ratio": spread([row.get("ratios", {}).get("p50") for row in rows]),
                "cpu_ratio": spread([row.get("ratios", {}).get("cpu_time") for row in rows]),
                "verdicts": dict(
                    Counter(f"{m} {v}" for row in rows for m, v in row.get("verdicts", {}).items())
                ),
                "p95_verdicts": dict(Counter(row.get("verdicts", {}).get("p95") for row in rows)),
                "metrics_flagged": dict(
                    Counter(m for row in rows for m in row.get("regressed", []))
                ),
                "exit_codes": dict(Counter(t["process"]["returncode"] for t in trials)),
            }
    per["process_s"] = compare_seconds(rounds, "mlperf-stored")
    return per


def compare_seconds(rounds: list[dict[str, Any]], tool: str) -> dict[str, Any] | None:
    """Wall time of the compare processes of `tool`."""
    return spread([t["process"]["wall_s"] for rnd in rounds for t in rnd[tool]["compare"].values()])
