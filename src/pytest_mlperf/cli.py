"""The `pytest-mlperf` console script: work outside a test run.

Each sub-command registers itself in `build_parser` with a `handler`; `main` dispatches to it
and turns usage errors into exit status 2 with one clear line (no traceback). Exit status 1
means what the command checked failed (e.g. a broken budget), so CI can gate on it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .cost import (
    TIER_GROUPS,
    TIER_NAMES,
    CostConfig,
    CostConfigError,
    Workload,
    check_budget,
    estimate_workload,
    load_cost_config,
)
from .cost.estimate import SCHEMA as COST_SCHEMA
from .neutral import neutral
from .regression import DEFAULT_ALPHA, DEFAULT_MAX_PCT, DEFAULT_RUN_SPREAD_PCT
from .report.cost import cost_markdown, cost_terminal_lines
from .results import RunVerdict

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad input on the command line or in a file it names: exit status 2."""


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


# Flags that map one-to-one onto cost assumptions: flag name -> (type, help).
_ASSUMPTION_FLAGS: dict[str, tuple[Callable[[str], Any], str]] = {
    "requests_per_month": (_float, "requests (calls of batch-size rows) per month"),
    "peak_to_average": (_float, "peak-to-average traffic ratio (default 3)"),
    "peak_hours": (_float, "hours a day at peak (default 8)"),
    "target_utilization": (_float, "target utilisation of replicas (0.6 Cloud Run, 0.7 others)"),
    "min_replicas": (_integer, "minimum replicas (0 pay-per-request, 1 others)"),
    "speed_factor": (_float, "target latency / CI latency (default 1)"),
    "memory_headroom": (_float, "memory multiplier over the measured peak (default 1.25)"),
    "base_memory_mb": (_float, "resident memory of the loaded model and runtime (default 0)"),
    "region": (str, "AWS region of the price table (default us-east-1)"),
    "arch": (str, "x86_64, arm64 or any (default x86_64)"),
    "strategy": (str, "cost, speed or balanced (default cost)"),
    "balanced_weight": (_float, "weight of cost in the balanced strategy, 0..1 (default 0.5)"),
    "latency_limit_ms": (_float, "p95 limit in ms: tiers predicted above it are not eligible"),
    "container_vcpu": (_float, "vCPU per container, pod or Cloud Run instance (default 1)"),
    "response_bytes": (_float, "bytes sent back per request, for egress (default 0)"),
}


def _add_cost(commands: Any) -> None:
    parser = commands.add_parser(
        "cost",
        help="estimate monthly cost per infrastructure tier from measured figures",
        description="Estimate what serving a model costs per month on each tier, from its "
        "measured latency, memory and throughput, without a test run. Reads assumptions and "
        "price overrides from --config (default: ./pyproject.toml when it exists).",
    )
    measured = parser.add_argument_group("measured figures (per request = one call)")
    measured.add_argument("--p95-ms", type=_float, required=True, help="p95 latency, ms")
    measured.add_argument("--mean-ms", type=_float, help="mean latency, ms (default: p95)")
    measured.add_argument("--memory-mb", type=_float, help="peak extra memory of one call, MB")
    measured.add_argument("--throughput-rps", type=_float, help="measured rows per second")
    measured.add_argument("--batch-size", type=_integer, default=1, help="rows per call")
    measured.add_argument(
        "--capacity-rps",
        type=_float,
        help="requests/s one replica held within its latency limits (model_bench.capacity); "
        "sizes replicas instead of the mean latency",
    )
    measured.add_argument(
        "--capacity-workers", type=_integer, default=1, help="workers of that replica"
    )
    measured.add_argument("--name", default="", help="label for the model in the output")
    assumed = parser.add_argument_group("assumptions (override --config)")
    for key, (kind, text) in _ASSUMPTION_FLAGS.items():
        assumed.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, help=text)
    assumed.add_argument(
        "--tiers",
        help=f"comma-separated tiers or groups to consider ({', '.join(TIER_NAMES)}; "
        f"groups {', '.join(TIER_GROUPS)})",
    )
    assumed.add_argument(
        "--free-tier",
        dest="apply_free_tier",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="take the providers' monthly free tiers off (default: off)",
    )
    assumed.add_argument(
        "--gpu",
        dest="gpu",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the model needs a GPU",
    )
    parser.add_argument("--config", help="pyproject.toml or a TOML file with [cost]/[pricing]")
    parser.add_argument("--tier", help="tier (or group) to check the budget on")
    parser.add_argument("--max-monthly-usd", type=_float, help="fail (exit 1) above this")
    parser.add_argument("--warn-monthly-usd", type=_float, help="warn above this")
    parser.add_argument(
        "--format", choices=("table", "json", "markdown"), default="table", help="output format"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show line items")
    parser.set_defaults(handler=run_cost)


def _add_compare(commands: Any) -> None:
    parser = commands.add_parser(
        "compare",
        help="compare two report.json runs; exit 1 on a regression",
        description="Compare every result of NEW with the same test and batch size in BASE "
        "(p50, p95, throughput: block test, Holm-corrected; memory: threshold). Exit 1 on a "
        "regression, 0 otherwise, 2 on unusable input. Runs from different machines only warn.",
    )
    parser.add_argument("base", metavar="BASE.json", help="the accepted run (report.json)")
    parser.add_argument("new", metavar="NEW.json", help="the run to judge (report.json)")
    parser.add_argument(
        "--max-pct",
        type=_float,
        default=DEFAULT_MAX_PCT,
        help="tolerance in percent (default %(default)g)",
    )
    parser.add_argument(
        "--alpha",
        type=_float,
        default=DEFAULT_ALPHA,
        help="family-wise error rate (default %(default)g)",
    )
    parser.add_argument(
        "--run-spread-pct",
        type=_float,
        default=DEFAULT_RUN_SPREAD_PCT,
        help="assumed run-to-run spread of p50 and CPU time, percent (default %(default)g); "
        "p95 and throughput assume three times as much",
    )
    parser.add_argument(
        "--format", choices=("table", "md", "json"), default="table", help="output format"
    )
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Compare two stored runs: 1 when a same-machine comparison regressed."""
    from .regression.compare import compare_runs, comparison_gate
    from .regression.store import BaselineError, read_run
    from .report.comparison import comparison_markdown, comparison_table

    try:
        base, new = read_run(args.base), read_run(args.new)
        comparisons = compare_runs(
            new,
            base,
            max_pct=args.max_pct,
            alpha=args.alpha,
            run_spread_pct=args.run_spread_pct,
        )
    except (BaselineError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    summary = comparison_gate(comparisons)
    same_machine = base["environment"]["fingerprint"] == new["environment"]["fingerprint"]
    if args.format == "json":
        document = {
            "baseline": args.base,
            "current": args.new,
            "same_machine": same_machine,
            "comparisons": [c.to_dict() for c in comparisons],
            "summary": summary,
        }
        print(json.dumps(document, indent=2, allow_nan=False))
    else:
        render = comparison_markdown if args.format == "md" else comparison_table
        print(render(comparisons))
        if not same_machine:
            print("note: the runs come from different machines: differences only warn")
        counts = ", ".join(f"{summary[v]} {v}" for v in ("regression", "warn", "improvement"))
        print(f"compare {RunVerdict.label_of(summary['verdict'])}: {counts}")
    return EXIT_FAILED if summary["verdict"] == "fail" else EXIT_OK


def _add_report(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="render a saved report.json again (terminal, Markdown, HTML); exit 1 on FAIL",
        description="Render a saved report.json: without flags print the terminal summary; "
        "with --html/--md/--json write those files. Exit 1 when the record's verdict is FAIL, "
        "0 otherwise, 2 on unusable input or when --html finds no jinja2.",
    )
    parser.add_argument("path", metavar="REPORT.json", help="a report.json of pytest-mlperf")
    parser.add_argument("--html", metavar="PATH", help="write the HTML page here")
    parser.add_argument("--md", metavar="PATH", help="write the Markdown here")
    parser.add_argument("--json", metavar="PATH", help="write the record here")
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument("--verbose", "-v", action="store_true", help="every table in full")
    volume.add_argument(
        "--quiet", "-q", action="store_true", help="only broken budgets, regressions, errors"
    )
    parser.set_defaults(handler=run_report)


def _add_merge(commands: Any) -> None:
    parser = commands.add_parser(
        "merge",
        help="merge the report.json of CI shards into one report; exit 1 on FAIL",
        description="Merge the report.json files of CI shards into one report (report.json, "
        "report.md and report.html) in OUTDIR; each result keeps the "
        "machine it ran on. Exit 1 when the merged verdict is FAIL, 0 otherwise, 2 on "
        "unusable input (another schema, a test in two shards).",
    )
    parser.add_argument("paths", metavar="REPORT.json", nargs="+", help="the shards' reports")
    parser.add_argument(
        "-o", "--output", metavar="OUTDIR", required=True, help="folder for the merged report"
    )
    parser.set_defaults(handler=run_merge)


def _gate(report: dict[str, Any], *, say: bool = True) -> int:
    """Gate on a record as the test run did: 1 when its verdict is FAIL."""
    summary = report["summary"]
    if say:
        print(
            f"pytest-mlperf: {summary['benchmarks']} benchmarks, {summary['failed_checks']} "
            f"failed checks, {summary.get('errors', 0)} errors -> "
            f"{RunVerdict.label_of(summary['verdict'])}"
        )
    return EXIT_FAILED if summary["verdict"] == "fail" else EXIT_OK


@contextlib.contextmanager
def _damaged(what: str) -> Iterator[None]:
    """A record that passed `load_report` may still be damaged or edited by hand: a missing or
    mistyped field becomes a usage error naming the file, not a traceback."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"{what} (damaged or edited by hand?): {detail}") from exc


def _load(path: str) -> dict[str, Any]:
    from .merge import MergeError, load_report

    try:
        return load_report(path)
    except MergeError as exc:
        raise UsageError(str(exc)) from exc


def run_report(args: argparse.Namespace) -> int:
    """Render a saved record: print it, or write the files asked for."""
    from .report import atomic_write, report_json
    from .report.html import HtmlUnavailable, render_html
    from .report.markdown import render_markdown
    from .report.terminal import render_terminal

    report = _load(args.path)
    renderers: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (target, render)
        for target, render in (
            (args.json, report_json),
            (args.md, render_markdown),
            (args.html, render_html),
        )
        if target
    ]
    with _damaged(f"{args.path}: cannot render this report"):
        code = _gate(report, say=False)  # a record without a verdict fails before any write
        if not renderers:
            for line in render_terminal(report, verbose=args.verbose, quiet=args.quiet):
                print(line)
            return code
        try:  # everything is rendered before anything is written: no half of the outputs
            texts = [(target, render(report)) for target, render in renderers]
        except HtmlUnavailable as exc:  # its message says what to install
            raise UsageError(str(exc)) from exc
    for target, text in texts:
        try:
            atomic_write(target, text)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc
        print(neutral(f"pytest-mlperf: wrote {target}"))
    return _gate(report)


def run_merge(args: argparse.Namespace) -> int:
    """Merge shard reports into one folder and gate on the merged verdict."""
    from datetime import UTC, datetime

    from . import __version__
    from .merge import MergeError, merge_reports
    from .report import write_reports

    shards = [(path, _load(path)) for path in args.paths]
    with _damaged("cannot merge these reports"):
        try:
            merged = merge_reports(
                shards,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                plugin_version=__version__,
            )
        except MergeError as exc:
            raise UsageError(str(exc)) from exc
        try:
            written = write_reports(merged, args.output)
        except OSError as exc:
            raise UsageError(f"cannot write to {args.output}: {exc.strerror or exc}") from exc
    for path in written:
        print(neutral(f"pytest-mlperf: wrote {path}"))
    return _gate(merged)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-mlperf", description="pytest-mlperf tools for work outside a test run."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_cost(commands)
    _add_compare(commands)
    _add_report(commands)
    _add_merge(commands)
    return parser


def _config(args: argparse.Namespace) -> CostConfig:
    path = args.config
    if path is None and Path("pyproject.toml").is_file():
        path = "pyproject.toml"
    config = load_cost_config(path)
    overrides: dict[str, Any] = {
        key: getattr(args, key)
        for key in (*_ASSUMPTION_FLAGS, "apply_free_tier", "gpu")
        if getattr(args, key) is not None
    }
    if args.tiers is not None:
        overrides["tiers"] = [t.strip() for t in args.tiers.split(",") if t.strip()]
    return config.with_overrides(overrides, where="command line")


# Upper bounds keep the cost arithmetic finite: 1e9 ms is eleven days per call.
_FIGURE_BOUNDS = {
    "p95_ms": 1e9,
    "mean_ms": 1e9,
    "throughput_rps": 1e15,
    "max_monthly_usd": 1e15,
    "warn_monthly_usd": 1e15,
    "memory_mb": 1e9,
}


def run_cost(args: argparse.Namespace) -> int:
    """Estimate, print, and judge the budget: 1 when --max-monthly-usd is broken."""
    config = _config(args)
    for flag, high in _FIGURE_BOUNDS.items():
        value = getattr(args, flag)
        low_ok = value is None or (value >= 0 if flag == "memory_mb" else value > 0)
        if value is not None and not (math.isfinite(value) and low_ok and value <= high):
            low = "0 or more" if flag == "memory_mb" else "a number above 0"
            raise CostConfigError(
                f"command line: --{flag.replace('_', '-')}: expected {low} and at most "
                f"{high:g}, got {value:g}"
            )
    workload = Workload(
        mean_ms=args.mean_ms if args.mean_ms is not None else args.p95_ms,
        p95_ms=args.p95_ms,
        memory_mb=args.memory_mb,
        throughput_rps=args.throughput_rps,
        batch_size=args.batch_size,
        name=args.name,
        capacity_rps=args.capacity_rps,
        capacity_workers=args.capacity_workers,
    )
    entry = {
        "schema": COST_SCHEMA,
        **estimate_workload(workload, config.assumptions, config.prices),
        "config": config.source,
    }
    verdict = None
    if args.max_monthly_usd is not None or args.warn_monthly_usd is not None:
        verdict, message = check_budget(
            entry, args.max_monthly_usd, args.tier, args.warn_monthly_usd
        )
        entry["budget"] = {"verdict": verdict, "message": message}
    elif args.tier is not None:
        raise CostConfigError("command line: --tier needs --max-monthly-usd or --warn-monthly-usd")
    if args.format == "json":
        print(json.dumps(entry, indent=2, allow_nan=False))
    elif args.format == "markdown":
        print(cost_markdown([entry]))
    else:
        lines = cost_terminal_lines([entry], verbose=args.verbose)
        print("\n".join(neutral(line) for line in lines))
        if config.source:
            print(f"config: {config.source}")
    if verdict is not None and args.format != "json":
        print(f"budget {RunVerdict.label_of(verdict)}: {entry['budget']['message']}")
    return EXIT_FAILED if verdict == "fail" else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; exit status 0 ok, 1 check failed, 2 bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (CostConfigError, UsageError) as exc:
        print(neutral(f"pytest-mlperf {args.command}: error: {exc}"), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
