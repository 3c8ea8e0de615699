"""`make bench`: pytest-mlperf measured side by side with pytest-benchmark, in one run.

Sections (figures and their meaning in docs/performance.md):

1. overhead  Per-call latency pytest-mlperf reports for a no-op callable vs a bare
             `perf_counter_ns` loop in the same pytest test (alternating blocks).
2. suite     Wall time of a latency-checked suite on W0-W3 (limits 5x the reference p95)
             under pytest-mlperf vs pytest-benchmark's defaults, real pytest processes,
             minus the tool-independent floor `pytest --collect-only`.
3. ci        W2: does the p95 of a 20,000-call reference loop, interleaved in the same
             test, lie inside the 95% CI of p95 that pytest-mlperf reports?
4. unused    A 2,000-test suite without benchmarks, plugin enabled vs `-p no:mlperf`.
5. ab        Regression gating on W1 and W2, A/A and A/B (+10%, +25% injected slowdown):
             `model_bench.ab` vs pytest-benchmark's `--benchmark-compare-fail=mean:10%` vs
             pytest-mlperf's stored runs (gating.py). Not in the default selection: about
             two minutes per trial (`--sections ab --ab-trials N`).
6. xdist     Wall time of the examples/ suite with -n 0, -n 2, -n 2 --mlperf-serial, and how
             far the latency figures move (parallel.py).
7. batching  benchmarks/batching.py: throughput gain of BatchInferenceOptimizer, MicroBatcher
             and PredictionCache over one-by-one calls.

Sections 1, 2 and 4 are repeated in rounds that interleave the tools (the order rotates each
round), so slow and fast spells of this shared machine hit every tool alike; sections 5 and 6
rotate their conditions the same way. Every figure is min / median / max over the repeats,
and comparisons are ratios of medians. Sections are selected by number or by name.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import analysis
import gating
import parallel
import profiling
import slowdown
import suites
import workloads
from host import ProcessRun, load1, machine, pytest_argv, run_process
from probes import OUT_ENV
from render import render_markdown

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIMIT_FACTOR = 5.0  # the suites' limits: this many times the reference percentile
NO_MLPERF = ("-p", "no:mlperf")
NO_BENCHMARK = ("-p", "no:benchmark")
SECTIONS = {
    "1": "overhead",
    "2": "suite",
    "3": "ci",
    "4": "unused",
    "5": "ab",
    "6": "xdist",
    "7": "batching",
}
DEFAULT_SECTIONS = "1,2,3,4,xdist,batching"


def section_number(name: str) -> str:
    """'ab' or '5' -> '5'; ValueError for anything else."""
    name = name.strip()
    if name in SECTIONS:
        return name
    for number, label in SECTIONS.items():
        if label == name:
            return number
    choices = ", ".join(f"{n} ({label})" for n, label in SECTIONS.items())
    raise ValueError(f"unknown section {name!r}; choose from {choices}")


@dataclass
class Options:
    repeats: int
    pairs_per_round: int
    reference_calls: int
    overhead_blocks: int
    overhead_calls: int
    ci_runs: int
    ci_block_calls: int
    unused_files: int
    unused_tests: int
    ab_trials: int
    ab_w1_repeats: int
    ab_injection: str
    ab_gates: tuple[str, ...]
    xdist_repeats: int
    batching_repeats: int
    sections: list[str]
    plugin_path: Path | None
    plugin_commit: str | None
    profile: bool
    out: Path
    rerender: Path | None = None

    def wants(self, section: str) -> bool:
        return section_number(section) in self.sections


@dataclass
class Bench:
    """The scratch folder, the environment of the pytest processes, and every process run."""

    options: Options
    work: Path
    runs: list[ProcessRun] = field(default_factory=list)
    count: int = 0

    @property
    def env(self) -> dict[str, str]:
        """Bytecode caching on (as on a developer's machine; the warm-up runs write it)."""
        candidate = self.options.plugin_path
        paths = (candidate and str(candidate), str(HERE), os.environ.get("PYTHONPATH"))
        path = os.pathsep.join(p for p in paths if p)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return {**env, "PYTHONPATH": path, workloads.MODELS_ENV: str(self.work / "models.joblib")}

    def pytest(
        self,
        label: str,
        folder: Path,
        *args: str,
        keep: bool = True,
        env: dict[str, str] | None = None,
        exit1_ok: bool = False,
    ) -> ProcessRun:
        """Run pytest in `folder`; its records go to a fresh JSON-lines file (see `records`).
        `env` adds variables; `exit1_ok`: exit 1 is a measured outcome, not a harness failure."""
        self.count += 1
        name = label.replace("/", "").replace(" ", "_")
        stem = self.work / "logs" / f"{self.count:04d}-{name}"
        stem.parent.mkdir(parents=True, exist_ok=True)
        full_env = {**self.env, **(env or {}), OUT_ENV: f"{stem}.jsonl"}
        log = Path(f"{stem}.log")
        run = run_process(label, pytest_argv(*args), folder, full_env, log, exit1_ok)
        if run.returncode not in ((0, 1) if exit1_ok else (0,)):
            print(f"  ! {label}: pytest exited {run.returncode}, see {run.log}", file=sys.stderr)
        if keep:
            self.runs.append(run)
        return run

    @staticmethod
    def records(run: ProcessRun, kind: str) -> list[dict[str, Any]]:
        path = Path(run.log).with_suffix(".jsonl")
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [r for r in map(json.loads, lines) if r["kind"] == kind]


# -- set-up -----------------------------------------------------------------------------------


def prepare(bench: Bench) -> dict[str, Any]:
    """Fit and save the models once; write the files of sections 1 and 4."""
    started = time.perf_counter()
    models = workloads.fit_models()
    workloads.save_models(models, bench.work / "models.joblib")
    refit = workloads.fingerprints(workloads.fit_models())
    opts = bench.options
    suites.unused_suite(bench.work / "unused", opts.unused_files, opts.unused_tests)
    overhead = suites.overhead(opts.overhead_blocks, opts.overhead_calls)
    suites.write(bench.work / "overhead", "test_overhead.py", overhead)
    return {
        "fingerprints": workloads.fingerprints(models),
        "refit_identical": refit == workloads.fingerprints(models),
        "seconds": time.perf_counter() - started,
    }


def measure_reference(bench: Bench) -> dict[str, dict[str, Any]]:
    """The reference loop inside pytest (no plugin active); its percentiles set the limits."""
    folder = bench.work / "reference"
    suites.write(folder, "test_reference.py", suites.reference(bench.options.reference_calls))
    run = bench.pytest("reference", folder, *NO_MLPERF, *NO_BENCHMARK)
    return {r["workload"]: r for r in bench.records(run, "reference")}


def limits_from(reference: dict[str, dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any]:
    """Marker arguments per workload: LIMIT_FACTOR x the reference percentile, in ms."""
    return {
        key: {f"{m}_ms": float(f"{LIMIT_FACTOR * ref[f'{m}_ns'] / 1e6:.4g}") for m in metrics}
        for key, ref in reference.items()
    }


# -- the rounds of sections 1, 2 and 4 -------------------------------------------------------


def rotated(items: list[Any], by: int) -> list[Any]:
    by %= len(items)
    return items[by:] + items[:by]


def overhead_round(bench: Bench, folder: Path, r: int) -> dict[str, Any]:
    report = folder / f"pytest-benchmark-{r}.json"
    run = bench.pytest("overhead", folder, "test_overhead.py", f"--benchmark-json={report}")
    stats = json.loads(report.read_text())["benchmarks"][0]["stats"] if report.exists() else {}
    return {
        "process": run.to_dict(),
        "blocks": bench.records(run, "overhead"),
        "host": bench.records(run, "overhead_host"),
        "pytest_benchmark": {k: stats.get(k) for k in ("median", "mean", "rounds", "iterations")},
    }


PHASES = ("-p", "phase_timer")  # every suite process reports where its time went
COLLECT = ("--collect-only", "-q")
SUITE_CONDITIONS: dict[str, tuple[str, ...]] = {
    # label: pytest arguments (run in the suite folder)
    "floor": (*PHASES, *COLLECT, *NO_MLPERF, *NO_BENCHMARK, "test_pytest_benchmark.py"),
    "floor+mlperf": (*PHASES, *COLLECT, *NO_BENCHMARK, "test_mlperf_p95.py"),
    "floor+pytest-benchmark": (*PHASES, *COLLECT, *NO_MLPERF, "test_pytest_benchmark.py"),
    "mlperf p95": (*PHASES, *NO_BENCHMARK, "test_mlperf_p95.py"),
    "mlperf p95, no report": (*PHASES, *NO_BENCHMARK, "test_mlperf_p95.py"),
    "mlperf p95+p99": (*PHASES, *NO_BENCHMARK, "test_mlperf_p95_p99.py"),
    "pytest-benchmark": (*PHASES, *NO_MLPERF, "test_pytest_benchmark.py"),
}


REPORTED = ("mlperf p95", "mlperf p95+p99")  # run with --mlperf-report (JSON, Markdown, HTML)


def suite_round(bench: Bench, folder: Path, r: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label in rotated(list(SUITE_CONDITIONS), r):
        args = SUITE_CONDITIONS[label]
        report = folder / f"report-{r}-{label.replace(' ', '_').replace(',', '')}"
        if label in REPORTED:
            args = (*args, f"--mlperf-report={report}")
        run = bench.pytest(label, folder, *args, exit1_ok=label.startswith("mlperf"))
        out[label] = {"process": run.to_dict(), "phases": bench.records(run, "phases")}
        if label in REPORTED:
            out[label]["report"] = analysis.report_digest(report / "report.json")
    return out


UNUSED_CONDITIONS = {"enabled": NO_BENCHMARK, "disabled": (*NO_BENCHMARK, *NO_MLPERF)}


def unused_round(bench: Bench, folder: Path, r: int, pairs: int) -> list[dict[str, Any]]:
    out = []
    for p in range(pairs):
        pair = {}
        for label in rotated(list(UNUSED_CONDITIONS), r + p):
            run = bench.pytest(f"unused-{label}", folder, "-q", *UNUSED_CONDITIONS[label])
            pair[label] = run.to_dict()
        out.append(pair)
    return out


# -- section 3 --------------------------------------------------------------------------------


def ci_coverage(bench: Bench, limit_ms: float) -> dict[str, Any]:
    folder = bench.work / "ci"
    opts = bench.options
    suites.write(
        folder, "test_ci.py", suites.ci_coverage(opts.ci_runs, opts.ci_block_calls, limit_ms)
    )
    run = bench.pytest("ci", folder, *NO_BENCHMARK)
    return {
        "process": run.to_dict(),
        "limit_ms": limit_ms,
        "reference_blocks": bench.records(run, "ci_reference"),
        "fixed": bench.records(run, "ci_fixed"),
        "adaptive": bench.records(run, "ci_adaptive"),
    }


def step_breakdown(bench: Bench, limits: dict[str, Any]) -> list[dict[str, Any]]:
    """Diagnostic: the steps of model_bench calls with the p95 suite's limits, clocked."""
    folder = bench.work / "breakdown"
    suites.write(folder, "test_breakdown.py", suites.breakdown(limits, repeats=3))
    run = bench.pytest("breakdown", folder, *NO_BENCHMARK, keep=False)
    return bench.records(run, "breakdown")


# -- the whole run ------------------------------------------------------------------------------


def write_suites(bench: Bench, reference: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Section 2's files; the suites' limits come from the reference loop."""
    limits = {
        "test_mlperf_p95.py": limits_from(reference, ("p95",)),
        "test_mlperf_p95_p99.py": limits_from(reference, ("p95", "p99")),
    }
    for name, marker_args in limits.items():
        suites.write(bench.work / "suite", name, suites.mlperf_suite(marker_args))
    suites.write(bench.work / "suite", "test_pytest_benchmark.py", suites.pytest_benchmark_suite())
    return limits


def warm_up(bench: Bench) -> None:
    """One uncounted run of each command: bytecode caches written, files in the page cache."""
    if bench.options.wants("2"):
        for label, args in SUITE_CONDITIONS.items():
            bench.pytest(f"warmup {label}", bench.work / "suite", *args, keep=False)
    if bench.options.wants("4"):
        for label, args in UNUSED_CONDITIONS.items():
            bench.pytest(f"warmup unused-{label}", bench.work / "unused", "-q", *args, keep=False)
    if bench.options.wants("xdist"):
        parallel.warm_up(bench, REPO)


def run_rounds(bench: Bench) -> dict[str, list[Any]]:
    """Sections 1, 2 and 4, interleaved: each round runs every selected section once."""
    opts, work = bench.options, bench.work
    rounds: dict[str, list[Any]] = {"overhead": [], "suite": [], "unused": []}
    if not any(opts.wants(x) for x in ("1", "2", "4")):
        return rounds
    for r in range(opts.repeats):
        print(f"round {r + 1}/{opts.repeats} ...", flush=True)
        if opts.wants("1"):
            rounds["overhead"].append(overhead_round(bench, work / "overhead", r))
        if opts.wants("2"):
            rounds["suite"].append(suite_round(bench, work / "suite", r))
        if opts.wants("4"):
            rounds["unused"] += unused_round(bench, work / "unused", r, opts.pairs_per_round)
    return rounds


def checkout_plugin(commit: str, folder: Path) -> tuple[Path, str]:
    """src/pytest_mlperf of `commit` (git archive) in `folder`: a fixed version to measure
    while the working tree changes. Returns the folder to put on sys.path and the full hash."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{commit}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", sha, "src/pytest_mlperf"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src", sha


def run_batching(bench: Bench) -> dict[str, Any]:
    """benchmarks/batching.py in its own process; its rows come back as JSON."""
    out = bench.work / "batching.json"
    log = bench.work / "logs" / "batching.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        str(HERE / "batching.py"),
        f"--repeats={bench.options.batching_repeats}",
        f"--json={out}",
    ]
    run = run_process("batching", argv, bench.work, bench.env, log)
    bench.runs.append(run)
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    return {"process": run.to_dict(), "command": "python benchmarks/batching.py", **data}


def run_gating(bench: Bench, reference: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Section 5: `--ab-trials` rounds of every gate and condition (gating.py)."""
    opts = bench.options
    folder = bench.work / "gating"
    base_ns = {k: reference[k]["p50_ns"] for k in gating.GATED if k in reference}
    gating.write_files(folder, opts.ab_injection, base_ns, opts.ab_w1_repeats)
    print("gating: warm-up processes (not counted) ...", flush=True)
    gating.warm_up(bench, folder)
    rounds = []
    for r in range(opts.ab_trials):
        print(f"gating round {r + 1}/{opts.ab_trials} ...", flush=True)
        rounds.append(gating.gate_round(bench, folder, r, opts.ab_gates))
    return {
        "injection": opts.ab_injection,
        "base_ns": base_ns,
        "w1_repeats": opts.ab_w1_repeats,
        "rounds": rounds,
    }


def run_all(opts: Options) -> dict[str, Any]:
    work = opts.out / "scratch"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sha = None
    if opts.plugin_commit:
        opts.plugin_path, sha = checkout_plugin(opts.plugin_commit, work / "plugin")
        print(f"measuring pytest_mlperf as of commit {sha[:12]} ({opts.plugin_path})")
    bench = Bench(opts, work)
    raw: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()},
        "machine": machine(REPO, bench.env),
        "plugin_commit": sha,
        "load1_start": load1(),
    }
    started = time.perf_counter()
    print("preparing models and suites ...", flush=True)
    raw["models"] = prepare(bench)
    fixed_injection = opts.wants("ab") and opts.ab_injection == "fixed"
    if opts.wants("2") or opts.wants("3") or fixed_injection:
        print("reference loop (limits) ...", flush=True)
        raw["reference"] = measure_reference(bench)
        raw["limits"] = write_suites(bench, raw["reference"])
    print("warm-up processes (not counted) ...", flush=True)
    warm_up(bench)
    raw["rounds"] = run_rounds(bench)
    if opts.wants("3"):
        print("CI coverage (W2) ...", flush=True)
        raw["ci"] = ci_coverage(bench, raw["limits"]["test_mlperf_p95.py"]["W2"]["p95_ms"])
    if opts.wants("xdist"):
        raw["xdist"] = []
        for r in range(opts.xdist_repeats):
            print(f"examples under xdist, round {r + 1}/{opts.xdist_repeats} ...", flush=True)
            raw["xdist"].append(parallel.examples_round(bench, REPO, work, r))
    if opts.wants("batching"):
        print("batching.py ...", flush=True)
        raw["batching"] = run_batching(bench)
    if opts.wants("ab"):
        raw["gating"] = run_gating(bench, raw.get("reference", {}))
    if opts.profile:
        print("diagnostics (profiles, step clocks) ...", flush=True)
        raw["profiles"] = profiling.profiles(bench.env, work)
        if "limits" in raw:
            raw["breakdown"] = step_breakdown(bench, raw["limits"]["test_mlperf_p95.py"])
    raw["load1_end"] = load1()
    raw["seconds"] = time.perf_counter() - started
    raw["processes"] = [run.to_dict() for run in bench.runs]
    return raw


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--repeats", type=int, default=5, help="rounds of sections 1, 2, 4 (default 5)")
    add("--pairs-per-round", type=int, default=2, help="section 4 on/off pairs per round")
    add("--reference-calls", type=int, default=2000, help="reference loop calls per workload")
    add("--overhead-blocks", type=int, default=6, help="section 1 blocks per process")
    add("--overhead-calls", type=int, default=400, help="section 1 calls per block")
    add("--ci-runs", type=int, default=10, help="section 3 runs of pytest-mlperf")
    add("--ci-block-calls", type=int, default=2000, help="reference calls before each run")
    add("--unused-files", type=int, default=20, help="section 4 test files")
    add("--unused-tests", type=int, default=100, help="section 4 tests per file")
    add("--ab-trials", type=int, default=5, help="section 5 rounds (trials per condition)")
    add(
        "--ab-w1-repeats",
        type=int,
        default=5,
        help="section 5: model_bench.ab comparisons of W1 per condition and round",
    )
    add(
        "--ab-injection",
        choices=slowdown.MODES,
        default="proportional",
        help="section 5 slowdown: proportional to each call (every percentile +pct, default), "
        "fixed (pct x the reference median, the peers' protocol), or work (pct x a typical "
        "call of extra arithmetic per call, as a code change adds work; no busy-wait)",
    )
    add(
        "--ab-gates",
        default=",".join(gating.TOOLS),
        help="section 5: the gates to run, comma-separated (default: all of "
        f"{','.join(gating.TOOLS)}; the stored-run gates alone take a tenth of the time)",
    )
    add("--xdist-repeats", type=int, default=3, help="section 6 rounds")
    add("--batching-repeats", type=int, default=5, help="section 7 rounds of batching.py")
    add(
        "--sections",
        default=DEFAULT_SECTIONS,
        help=f"comma-separated subset, by number or name (default {DEFAULT_SECTIONS}; "
        "5/ab is not in it)",
    )
    add(
        "--plugin-path",
        type=Path,
        help="folder holding a candidate pytest_mlperf package, put first on the measured "
        "processes' sys.path (to try a fix without installing it)",
    )
    add(
        "--plugin-commit",
        metavar="REF",
        help="measure src/pytest_mlperf as of this git commit (git archive into the scratch "
        "folder) instead of the working tree",
    )
    add(
        "--no-profile",
        action="store_true",
        help="skip the diagnostics (import time, cProfile of the plain suite, step clocks)",
    )
    add("--out", type=Path, default=HERE / "results", help="results folder")
    add(
        "--rerender",
        type=Path,
        metavar="JSON",
        help="run nothing: summarize and render the raw records of an earlier run "
        "(results/bench-<time>.json) again, into <JSON>.md",
    )
    a = parser.parse_args(argv)
    counts = (a.repeats, a.pairs_per_round, a.ci_runs, a.ab_trials, a.ab_w1_repeats)
    if min(*counts, a.xdist_repeats, a.batching_repeats) < 1:
        parser.error("every count (--repeats, --ab-trials, ...) must be at least 1")
    try:
        sections = sorted({section_number(x) for x in a.sections.split(",") if x.strip()})
    except ValueError as exc:
        parser.error(str(exc))
    gates = tuple(g.strip() for g in a.ab_gates.split(",") if g.strip())
    if not gates or set(gates) - set(gating.TOOLS):
        parser.error(f"--ab-gates takes some of {','.join(gating.TOOLS)}, got {a.ab_gates!r}")
    if a.plugin_path and a.plugin_commit:
        parser.error("--plugin-path and --plugin-commit exclude each other")
    return Options(
        repeats=a.repeats,
        pairs_per_round=a.pairs_per_round,
        reference_calls=a.reference_calls,
        overhead_blocks=a.overhead_blocks,
        overhead_calls=a.overhead_calls,
        ci_runs=a.ci_runs,
        ci_block_calls=a.ci_block_calls,
        unused_files=a.unused_files,
        unused_tests=a.unused_tests,
        ab_trials=a.ab_trials,
        ab_w1_repeats=a.ab_w1_repeats,
        ab_injection=a.ab_injection,
        ab_gates=gates,
        xdist_repeats=a.xdist_repeats,
        batching_repeats=a.batching_repeats,
        sections=sections,
        plugin_path=a.plugin_path.resolve() if a.plugin_path else None,
        plugin_commit=a.plugin_commit,
        profile=not a.no_profile,
        out=a.out.resolve(),
        rerender=a.rerender,
    )


def rerender(path: Path) -> int:
    """Summarize and render the raw records of an earlier run again (after a change to
    analysis.py or render.py): writes <path>.md next to it."""
    raw = json.loads(path.read_text(encoding="utf-8"))["raw"]
    markdown = render_markdown(analysis.summarize(raw), raw)
    path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return 0


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.rerender:
        return rerender(opts.rerender)
    opts.out.mkdir(parents=True, exist_ok=True)
    raw = run_all(opts)
    summary = analysis.summarize(raw)
    result = {"summary": summary, "raw": raw}
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    text = json.dumps(result, indent=1)
    for name in (f"bench-{stamp}.json", "latest.json"):
        (opts.out / name).write_text(text, encoding="utf-8")
    markdown = render_markdown(summary, raw)
    (opts.out / "latest.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"wrote {opts.out / f'bench-{stamp}.json'} and latest.md ({raw['seconds']:.0f} s)")
    return 1 if harness_failed(raw["processes"]) else 0


def harness_failed(processes: list[dict[str, Any]]) -> bool:
    """Exit 1 of a latency-checked suite or of a compare run is a measured outcome (a broken
    limit, a flagged regression); any other non-zero exit means a benchmark process did not
    do its job."""
    return any(
        p["returncode"] >= 2 or (p["returncode"] == 1 and not p.get("exit1_ok")) for p in processes
    )


if __name__ == "__main__":
    sys.exit(main())
