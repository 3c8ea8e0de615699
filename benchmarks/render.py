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


def verdict(g: dict[str, Any]) -> str:
    text = "**met**" if g["met"] else "**missed**"
    if g["met"] and g.get("shown_by_ci") is False:
        text += " (point estimate; the 95% CI still reaches past the target)"
    return text


def goals(summary: dict[str, Any]) -> list[str]:
    rows = [[name, g["figure"], g["target"], verdict(g)] for name, g in summary["goals"].items()]
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
        if not c["workloads"]:
            continue
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
            f"({m.get('open_hits', 0)} of them with an open end: n/a, too few effective calls) "
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


def rate(r: dict[str, Any] | None) -> str:
    """'k / n (95% CI lo-hi%)' for a count of flagged comparisons."""
    if not r or not r["n"]:
        return "n/a"
    lo, hi = r["ci95"]
    return f"{r['flagged']} / {r['n']} ({lo:.0%}-{hi:.0%})"


def gating(g: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    if not g:
        return []
    info = raw["gating"]
    tools = g["tools"]
    ab, pb, stored = (tools.get(t, {}) for t in ("ab", "pytest-benchmark", "mlperf-stored"))
    rows = []
    for key, label in gating_keys(g):
        p, m = pb.get(key, {}).get(label, {}), stored.get(key, {}).get(label, {})
        rows.append(
            [
                key,
                label,
                rate(ab.get(key, {}).get(label)),
                rate(p.get("mean:10%")),
                rate(p.get("median:10%")),
                rate(m.get("p95")),
                rate(m.get("any")),
            ]
        )
    header = ["workload", "condition", "`model_bench.ab` REGRESSION"]
    header += ["pytest-benchmark `mean:10%`", "pytest-benchmark `median:10%`"]
    header += ["mlperf stored, p95", "mlperf stored, any metric"]
    out = [
        "## 5. Regression gating: A/A and A/B on W1 and W2",
        "",
        f"- {g['rounds']} rounds; slowdown injection `{info['injection']}`"
        + (f" (base medians {info['base_ns']} ns)" if info["injection"] == "fixed" else "")
        + f"; W1 compared {info['w1_repeats']} times per condition and round by `ab`.",
        f"- Seconds per process: `ab` (all its comparisons) {sp(g.get('ab_process_s'), 's')}; "
        f"pytest-benchmark compare {sp(pb.get('process_s'), 's')}; pytest-mlperf stored compare "
        f"{sp(stored.get('process_s'), 's')}.",
        "",
        "Flagged comparisons, count / trials (exact 95% CI of the rate); in A/A a flag is a "
        "false alarm, in A/B a detection:",
        "",
        *table(header, rows),
    ]
    detail = [
        [
            key,
            label,
            ", ".join(f"{v} {c}" for v, c in sorted(r["verdicts"].items())),
            sp(r["p95_ratio"], digits=4),
            sp(r["p50_ratio"], digits=4),
            ", ".join(f"{m} {c}" for m, c in sorted(r.get("decided_by", {}).items())) or "-",
            sp(r["cpu_ratio"], digits=4) if r.get("cpu_ratio", {}).get("max") else "-",
            sp(r["pairs"]),
            sp(r["elapsed_s"], "s"),
        ]
        for key, label in gating_keys(g)
        if (r := ab.get(key, {}).get(label))
    ]
    out += [
        "`model_bench.ab` (tolerance 5%, defaults otherwise):",
        "",
        *table(
            [
                "workload",
                "condition",
                "verdicts",
                "p95 ratio",
                "p50 ratio",
                "decided by",
                "cpu_time ratio",
                "pairs",
                "seconds",
            ],
            detail,
        ),
    ]
    observed = [
        [
            key,
            label,
            sp(pb.get(key, {}).get(label, {}).get("mean_ratio"), digits=4),
            sp(pb.get(key, {}).get(label, {}).get("median_ratio"), digits=4),
            sp(stored.get(key, {}).get(label, {}).get("p95_ratio"), digits=4),
            sp(stored.get(key, {}).get(label, {}).get("p50_ratio"), digits=4),
            sp(stored.get(key, {}).get(label, {}).get("cpu_ratio"), digits=4),
            stored.get(key, {}).get(label, {}).get("metrics_flagged", {}),
            stored.get(key, {}).get(label, {}).get("verdicts", {}),
        ]
        for key, label in gating_keys(g)
    ]
    header = ["workload", "condition", "pytest-benchmark mean ratio", "median ratio"]
    header += ["mlperf stored p95 ratio", "p50 ratio", "cpu ratio", "stored: metrics flagged"]
    header += ["stored: verdicts"]
    return [
        *out,
        "Observed compare / baseline ratios of the stored-run tools:",
        "",
        *table(header, observed),
    ]


def gating_keys(g: dict[str, Any]) -> list[tuple[str, str]]:
    """(workload, condition) rows of every gate that ran, in a stable order."""
    seen = {
        (key, label)
        for tool in g["tools"].values()
        for key, conditions in tool.items()
        if isinstance(conditions, dict) and key != "process_s"
        for label in conditions
    }
    order = {"A/A": 0, "+10%": 1, "+25%": 2}
    return sorted(seen, key=lambda kl: (kl[0], order.get(kl[1], 9), kl[1]))


def xdist(x: dict[str, Any]) -> list[str]:
    if not x:
        return []
    rows = [
        [
            f"`{label}`",
            sp(c["wall_s"], "s"),
            sp(c["cpu_s"], "s"),
            f"{c['wall_ratio_to_n0']:.2f}",
            sp(c["paired_wall_ratio"]),
            c["results"],
            c["exit_codes"],
            "yes" if c["contention_warning"] else "no",
        ]
        for label, c in x["conditions"].items()
    ]
    header = ["examples/", "wall", "CPU", "wall / `-n 0`", "per round", "results", "exit"]
    out = [
        "## 6. The examples/ suite under pytest-xdist",
        "",
        f"{x['rounds']} rounds, conditions rotated:",
        "",
        *table([*header, "contention warning"], rows),
    ]
    lat = [
        [
            f"`{label}` / `-n 0`",
            sp(e["p50"]["median_over_results_per_round"], digits=3),
            sp(e["p95"]["median_over_results_per_round"], digits=3),
            sp(e["p50"]["all_ratios"], digits=3),
            sp(e["p95"]["all_ratios"], digits=3),
        ]
        for label, e in x["latency"].items()
    ]
    header = ["latency ratio", "p50, median over results", "p95, median over results"]
    out += [
        "Latency per result against `-n 0` of the same round (per round: the median over the "
        "results; then every result of every round):",
        "",
        *table([*header, "p50, every result", "p95, every result"], lat),
    ]
    per = []
    for label, e in x["latency"].items():
        for key, value in e["p95"]["per_result_median"].items():
            per.append([f"`{label}`", key.replace("|", " / "), f"{value:.2f}"])
    return [*out, *table(["condition", "result", "p95 ratio, median of rounds"], per)]


def batching(b: dict[str, Any]) -> list[str]:
    if not b:
        return []
    rows = [
        [
            r["model"],
            r["variant"],
            sp(r["rate"], digits=4),
            sp(r["gain"], "x", digits=3) if r["gain"] else "",
            r["baseline"] or "",
            r["note"],
        ]
        for r in b["rows"]
    ]
    settings = b["settings"]
    return [
        "## 7. Batching helpers: throughput against one-by-one calls",
        "",
        f"`python benchmarks/batching.py --repeats {settings.get('repeats')}` "
        f"({settings.get('clients')} client threads, one BLAS thread; {b['seconds']:.0f} s):",
        "",
        *table(["model", "variant", "rows/s", "gain", "against", "note"], rows),
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
    cost = p.get("report_cost_s") or {}
    if cost and "error" not in cost:
        steps = "; ".join(f"{k} {v * 1000:.0f} ms" for k, v in cost.items())
        out += [
            f"- Writing the p95 suite's report (`--mlperf-report`), step by step in a fresh "
            f"process with numpy and scikit-learn loaded: {steps}.",
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
        *gating(summary.get("gating", {}), raw),
        *xdist(summary.get("xdist", {})),
        *batching(summary.get("batching", {})),
        *(diagnostics(raw["profiles"], summary["breakdown"]) if "profiles" in raw else []),
    ]
    return "\n".join(lines)
