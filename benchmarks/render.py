"""The figures of one run as Markdown (results/latest.md), to read and to quote in the docs."""

from __future__ import annotations

from typing import Any

from spread import Spread


def sp(data: dict[str, Any] | None, unit: str = "", factor: float = 1.0, digits: int = 3) -> str:
    """A stored spread as 'min / **median** / max unit'."""
    if not data:
        return "n/a"
    s = Spread(data["min"], data["median"], data["max"], data["n"]).scaled(factor)
    return s.text(unit, digits)


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def machine(summary: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    m, b = raw["machine"], summary["box"]
    versions = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    dirty = " (src/ modified, not committed)" if m["git"]["dirty"] else ""
    if raw.get("plugin_commit"):
        dirty = f"; measured: src/pytest_mlperf of commit {raw['plugin_commit'][:12]}"
    return [
        "## Machine and run",
        "",
        f"- Created {raw['created']}; command `{raw['command']}`; took {raw['seconds']:.0f} s.",
        f"- {m['cpu']}, {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}.",
        f"- Versions: {versions}.",
        f"- Repository at commit {m['git']['commit'][:12]}{dirty}; measured processes import "
        f"`{m['plugin_module']}`.",
        f"- Load average (1 min): {raw['load1_start']:.2f} at start, {raw['load1_end']:.2f} at "
        f"end, {sp(b['load1_before_process'])} before the {b['processes']} measured processes;"
        f" CPU steal during them {sp(b['steal_share'], '%', 100, 2)}.",
        f"- Models: fingerprints {raw['models']['fingerprints']}, refit identical: "
        f"{raw['models']['refit_identical']}.",
        "",
    ]


def goals(summary: dict[str, Any]) -> list[str]:
    rows = [
        [name, g["figure"], g["target"], "**met**" if g["met"] else "**missed**"]
        for name, g in summary["goals"].items()
    ]
    return ["## Goals", "", *table(["goal", "measured", "target", ""], rows)]


def overhead(o: dict[str, Any]) -> list[str]:
    if not o:
        return []
    rows = [
        ["bare `perf_counter_ns` loop", sp(o["bare_median_ns"], "ns")],
        ["pytest-mlperf `model_bench`", sp(o["mlperf_median_ns"], "ns")],
        ["difference, same block", sp(o["paired_difference_ns"], "ns")],
        [
            f"pytest-benchmark (rounds of {o['pytest_benchmark_iterations']} calls)",
            sp(o["pytest_benchmark_median_ns"], "ns"),
        ],
    ]
    return [
        "## 1. Overhead per timed call (W0, no-op)",
        "",
        *table(["timer", "median per call, min / **median** / max over blocks"], rows),
        f"Overhead: **{o['overhead_ns']:+.0f} ns** (difference of the medians). "
        f"Warning filters inside the test: {o['warning_filters_in_test']}.",
        "",
    ]


def suite(s: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    if not s:
        return []
    rows = [
        [
            label,
            sp(c["wall_s"], "s"),
            sp(c["cpu_s"], "s"),
            f"{c['minus_floor_s']:.2f} s",
            sp(c["minus_floor_paired_s"], "s"),
            c["exit_codes"],
        ]
        for label, c in s["conditions"].items()
    ]
    out = [
        "## 2. Latency-checked suite: wall time",
        "",
        *table(
            ["process", "wall", "CPU", "wall - floor (medians)", "wall - floor, per round", "exit"],
            rows,
        ),
    ]
    ratio_rows = [
        [
            label,
            f"{c['wall_ratio']:.2f}",
            f"{c['minus_floor_ratio']:.2f}",
            sp(c["paired_minus_floor_ratio"]),
            f"{c['cpu_minus_floor_ratio']:.2f}",
        ]
        for label, c in s["comparisons"].items()
    ]
    header = ["vs pytest-benchmark", "wall ratio", "wall - floor ratio", "per round"]
    out += table([*header, "CPU - floor ratio"], ratio_rows)
    ref, lim = raw["reference"], raw["limits"]
    ref_rows = [
        [
            key,
            f"{r['p50_ns'] / 1e3:.3g} µs",
            f"{r['p95_ns'] / 1e3:.3g} µs",
            f"{r['p99_ns'] / 1e3:.3g} µs",
            lim["test_mlperf_p95_p99.py"][key],
            r["warning_filters"],
        ]
        for key, r in ref.items()
    ]
    out += [
        "Reference loop inside pytest (limits = 5x):",
        "",
        *table(["workload", "p50", "p95", "p99", "limits", "warning filters"], ref_rows),
    ]
    for label, c in s["comparisons"].items():
        rows = [
            [
                name,
                sp(w["timed_calls"], digits=4),
                sp(w["seconds_in_model_bench"], "s"),
                f"{w['seconds_timed']['median']:.3f} s",
                f"{w['seconds_warmup_estimate']['median']:.3f} s",
                f"{w['seconds_other']['median']:.3f} s",
                sp(w["p95_ms"], "ms"),
                ", ".join(f"{k}: {v}" for k, v in w["verdicts"].items()),
            ]
            for name, w in c["workloads"].items()
        ]
        header = ["workload", "timed calls", "in model_bench", "timed", "warm-up", "other"]
        out += [
            f"`{label}` per workload (timed / warm-up (estimated) / other: medians):",
            "",
            *table([*header, "p95", "verdicts"], rows),
        ]
    return out + phases(s["conditions"])


def phases(conditions: dict[str, Any]) -> list[str]:
    """Median seconds per phase of each pytest process (benchmarks/phase_timer.py)."""
    keys = sorted({k for c in conditions.values() for k in c["phases_s"]})
    if not keys:
        return []
    rows = [
        [label, f"{c['wall_s']['median']:.2f}"]
        + [f"{c['phases_s'][k]['median']:.3f}" if k in c["phases_s"] else "" for k in keys]
        for label, c in conditions.items()
    ]
    return [
        "Where each process's time goes (medians, seconds; `since_loaded_s` starts when pytest"
        " has imported itself and parses the command line):",
        "",
        *table(["process", "wall", *keys], rows),
    ]


def ci(c: dict[str, Any]) -> list[str]:
    if not c:
        return []
    lo, hi = c["reference_p95_ci_ms"]
    out = [
        "## 3. W2: reference p95 inside the reported 95% CI of p95",
        "",
        f"- Reference: {c['reference_calls']} calls, p95 **{c['reference_p95_ms']:.3f} ms** "
        f"(its own 95% CI {lo:.3f}-{hi:.3f} ms), p50 {c['reference_p50_ms']:.3f} ms; p95 per "
        f"block {sp(c['block_p95_ms'], 'ms')}; warning filters {c['warning_filters_in_test']}.",
        f"- Clustering of slow calls in the reference blocks (variance of the count of calls"
        f" above the block's p95 per 100 calls / binomial variance; 1 = independent calls): "
        f"{sp(c['block_dispersion'])}.",
    ]
    for mode in ("fixed", "adaptive"):
        m = c[mode]
        what = (
            "no limit (fixed budget)"
            if mode == "fixed"
            else f"p95 limit {c['limit_ms_adaptive']} ms (adaptive)"
        )
        out.append(
            f"- {what}: reference inside the CI in **{m['hits']} of {m['runs']}** runs "
            f"(p95 of the 2,000-call block just before the run: {m['block_hits']}); "
            f"timed calls {sp(m['timed_calls'], digits=4)}; CI width {sp(m['ci_width_ms'], 'ms')};"
            f" stopped: {m['stop_reasons']}; verdicts {m['verdicts']}; runs where pytest-mlperf"
            f" warned that latency drifted: {m['runs_with_drift_warning']}."
        )
    rows = [
        [
            r["run"],
            f"{r['p95_ms']:.3f}",
            f"{r['ci'][0]:.3f} - {r['ci'][1]:.3f}" if None not in r["ci"] else r["ci"],
            r["reference"],
            f"{r['block_p95_ms']:.3f} ({r['block']})",
        ]
        for r in c["fixed"]["per_run"]
    ]
    header = ["run (fixed budget)", "p95 ms", "95% CI ms", "pooled reference", "block before"]
    return [*out, "", *table(header, rows)]


def unused(u: dict[str, Any]) -> list[str]:
    if not u:
        return []
    rows = [
        ["enabled", sp(u["enabled_wall_s"], "s"), sp(u["enabled_cpu_s"], "s")],
        ["`-p no:mlperf`", sp(u["disabled_wall_s"], "s"), sp(u["disabled_cpu_s"], "s")],
    ]
    return [
        "## 4. Installed but unused: 2,000 plain tests",
        "",
        *table(["pytest-mlperf", "wall", "CPU"], rows),
        f"Slowdown **{u['slowdown']:+.1%}** in wall time (ratio of medians), "
        f"{u['slowdown_cpu']:+.1%} in CPU time; wall ratio per adjacent pair "
        f"{sp(u['paired_ratio'], digits=4)}; {u['pairs']} pairs; exit codes {u['exit_codes']}.",
        "",
    ]


def step_table(steps: dict[str, dict[str, float]]) -> list[str]:
    """Median ms per step of one model_bench call (steps nest: _timed_loop holds gc.collect)."""
    if not steps:
        return []
    keys = list(dict.fromkeys(k for row in steps.values() for k in row if k != "n"))
    rows = [
        [workload, f"{row['n']:.0f}", *(f"{row.get(k, 0.0) * 1e3:.1f}" for k in keys)]
        for workload, row in steps.items()
    ]
    return [
        "One `model_bench` call with the p95 suite's limit, step by step (median ms of 3; steps"
        " nest: `gc.collect` runs inside `_timed_loop`, `judge.update` inside it too):",
        "",
        *table(["workload", "calls", *keys], rows),
    ]


def diagnostics(p: dict[str, Any], summary_breakdown: dict[str, Any]) -> list[str]:
    imp = p["import"]
    packages = ", ".join(f"{k} {v:.0f} ms" for k, v in imp["self_ms_by_package"].items())
    out = [
        "## Diagnostics (profiles; not timings)",
        "",
        f"- `import pytest_mlperf.plugin` after pytest: {imp['plugin_import_ms']} ms; self time "
        f"by package: {packages}.",
        "",
    ]
    out += step_table(summary_breakdown)
    for name in ("unused_suite",):
        prof = p.get(name) or {}
        for key, what in (("top_by_cumulative", "pytest_mlperf"), ("top_by_own_time", "any")):
            rows = [
                [r["function"], r["calls"], f"{r['tottime_s']:.3f}", f"{r['cum_s']:.3f}"]
                for r in prof.get(key, [])
            ]
            if rows:
                title = f"cProfile of the {name.replace('_', ' ')} (total {prof['total_s']:.2f} s)"
                out += [
                    f"{title}, {key.replace('_', ' ')}:",
                    "",
                    *table([f"{what} function", "calls", "own s", "cumulative s"], rows),
                ]
    return out


def render_markdown(summary: dict[str, Any], raw: dict[str, Any]) -> str:
    lines = [
        "# pytest-mlperf vs pytest-benchmark: figures of one run",
        "",
        *machine(summary, raw),
        *goals(summary),
        *overhead(summary["overhead"]),
        *suite(summary["suite"], raw),
        *ci(summary["ci"]),
        *unused(summary["unused"]),
        *(diagnostics(raw["profiles"], summary["breakdown"]) if "profiles" in raw else []),
    ]
    return "\n".join(lines)
