"""Replay latency verdicts on recorded streams of real calls: flips, decided shares, coverage.

Section 10 (`stability.py`) times long plain loops of a forest and an MLP in separate pytest
processes: 2,500 consecutive call times per loop, four to twelve loops per hour. Those recorded
hours are kept in `benchmarks/data/streams/` (gzipped JSON, times in ms). This script cuts
runs out of those loops (2,000 calls from the loop's start and from its 500th call) and
feeds each run, look by look, to the verdict code of whichever pytest-mlperf is imported, as
the timed loop would. Every hour on record then gives 8-24 runs per model instead of the 8 a
live section-10 run measures, and a change to the statistics can be judged on the same calls
as the code before it:

    .venv/bin/python benchmarks/replay.py                      # every recorded hour
    .venv/bin/python benchmarks/replay.py --run-spreads 15,20  # the stated floor's trade-off
    .venv/bin/python benchmarks/replay.py --record 10          # record an hour, replay it
    .venv/bin/python benchmarks/replay.py --keep benchmarks/results/stability-*.json
    PYTHONPATH=OLD/src .venv/bin/python benchmarks/replay.py   # another commit's statistics

Per hour and model, the limits are 0.2, 0.6, 0.85, 1.2, 1.7 and 5x the pooled p95 (or, with
`--metric p99`, `p50` or `mean`, the p99, the median or the mean) of all its loops, the long-run
value: a flip is a PASS and a FAIL of the same limit in two runs of that hour. Coverage is
against the same statistic of the hour's other loops (a separate reference, as in section 3),
for a 400-call run without a limit. Long-run values and references are numpy's interpolated
percentiles (or means) of 7,500 calls or more, within a fraction of a percent of the plugin's
nearest rank. What a replay leaves out: the CPU-share readings (recorded loops have none, so
no contention factor) and the plugin's own process.
"""

from __future__ import annotations

import argparse
import gzip
import inspect
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import stability as section10

import pytest_mlperf
from pytest_mlperf import stability
from pytest_mlperf.bench import result_from_samples
from pytest_mlperf.judge import Judge
from pytest_mlperf.marks import Limit

STREAMS = Path(__file__).resolve().parent / "data" / "streams"
FACTORS = (0.2, 0.6, 0.85, 1.2, 1.7, 5.0)  # the limit over the long-run value
CLEAR = {0.6: "fail", 1.7: "pass"}  # the goal: decided in at least 7 of 8 runs
EXTREME = {0.2: "fail", 5.0: "pass"}  # a model 5x over or under its limit: within 300 calls
NEAR = (0.85, 1.2)  # never PASS in one run and FAIL in another
# an hour is steady when its loops' p95s lie within what the default stated run spread allows
# between runs (+-1.96 sd: x1.34 at 15%), phased when they are further apart
STEADY = float(np.exp(1.96 * stability.DEFAULT_RUN_SPREAD))
STARTS = (0, 500)
RUN_CALLS = 2000  # the p95 schedule's last look
INTERVAL_CALLS = 400  # a run without a limit: the default fixed budget


@dataclass
class Hour:
    """The recorded loops of one model in one file."""

    name: str
    model: str
    loops: list[np.ndarray]

    def long_run(self, metric: str) -> float:
        """The metric (``p95``, ``p99``, ``p50`` or ``mean``) of every loop pooled."""
        return statistic(np.concatenate(self.loops), metric)

    @property
    def spread(self) -> float:
        """The largest loop p95 over the smallest: how far the hour's phases moved the tail."""
        p95s = [float(np.percentile(loop, 95)) for loop in self.loops]
        return max(p95s) / min(p95s)

    def reference(self, skip: int, metric: str) -> float:
        """The metric of every loop but one: the separate reference for a run cut from it."""
        others = [loop for i, loop in enumerate(self.loops) if i != skip]
        return statistic(np.concatenate(others), metric)


def statistic(calls: np.ndarray, metric: str) -> float:
    """``p95``, ``p50`` (numpy's interpolated percentiles) or ``mean`` of some calls."""
    if metric == "mean":
        return float(np.mean(calls))
    return float(np.percentile(calls, float(metric.removeprefix("p"))))


@dataclass
class Tally:
    """Every run's verdicts per limit factor, and per hour for the table of hours."""

    runs: int = 0
    verdicts: dict[float, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    covered: int = 0
    groups: dict[tuple[str, str, float], set[str]] = field(default_factory=dict)
    per_hour: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def read(path: Path) -> dict[str, Any]:
    """A recorded hour: a kept `.json.gz`, or a section-10 record from `benchmarks/results`."""
    try:
        text = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(text)
        loops = data["references"]
        if not all(set(section10.MODELS) <= set(loop["samples_ms"]) for loop in loops):
            raise KeyError("samples_ms")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(
            f"{path}: not a recorded hour (loops of {section10.MODELS}): {exc!r}"
        ) from None
    return dict(data)


def hours(paths: list[Path]) -> list[Hour]:
    out = []
    for path in paths:
        data = read(path)
        name = path.name.split(".")[0]
        for model in section10.MODELS:
            loops = [
                np.asarray(ref["samples_ms"][model], dtype=float) for ref in data["references"]
            ]
            if len(loops) >= 3 and all(len(loop) >= RUN_CALLS + max(STARTS) for loop in loops):
                out.append(Hour(name, model, loops))
    return out


def keep(references: list[dict[str, Any]], stamp: str) -> Path:
    """Save an hour's loops in `data/streams` (times rounded to 10 ns), to replay later."""
    STREAMS.mkdir(parents=True, exist_ok=True)
    loops = [
        {
            "load": ref.get("load"),
            "samples_ms": {
                m: [round(x, 5) for x in ref["samples_ms"][m]] for m in section10.MODELS
            },
        }
        for ref in references
    ]
    path = STREAMS / f"{stamp}.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"references": loops}).encode(), mtime=0))
    return path


def stated(floor: float) -> dict[str, float]:
    """The stated floor as `result_from_samples` takes it, where it takes it (since the tail's
    upper side was made wider); older code has no such argument."""
    takes = "stated_spread" in inspect.signature(result_from_samples).parameters
    return {"stated_spread": floor} if takes else {}


def verdict(run: np.ndarray, limit: Limit, floor: float) -> tuple[str, int]:
    """The verdict and call count of one percentile limit, looked at as the timed loop does."""
    judge = Judge([limit], 1, 0.95, floor)
    for n in judge.looks:
        if judge.update(run[:n]):
            break
    else:
        judge.update(run, final=True)
    state = judge.states[0]
    assert state.verdict is not None
    return state.verdict.value, state.n


def covers(run: np.ndarray, truth: float, floor: float, metric: str) -> bool:
    """Whether the interval a run without a limit reports holds the reference."""
    spread = stability.measure(run, floor).run_spread
    result = result_from_samples(run, "replay", 1, 0.95, spread, **stated(floor))
    low, high = result.ci[metric]
    return (low is None or low <= truth) and (high is None or truth <= high)


def replay(all_hours: list[Hour], floor: float, metric: str) -> Tally:
    tally = Tally()
    for hour in all_hours:
        long_run = hour.long_run(metric)
        for i, loop in enumerate(hour.loops):
            for start in STARTS:
                run = loop[start : start + RUN_CALLS]
                tally.runs += 1
                covered = covers(run[:INTERVAL_CALLS], hour.reference(i, metric), floor, metric)
                tally.covered += covered
                letters = tally.per_hour.setdefault((hour.name, hour.model), ["", "", ""])
                letters[2] += "c" if covered else "-"
                for factor in FACTORS:
                    outcome = verdict(run, Limit(metric, factor * long_run), floor)
                    tally.verdicts[factor].append(outcome)
                    group = tally.groups.setdefault((hour.name, hour.model, factor), set())
                    group.add(outcome[0])
                    if factor in CLEAR:
                        letters[list(CLEAR).index(factor)] += outcome[0][0]
    return tally


def table(tallies: dict[float, Tally], hour_count: int, metric: str) -> str:
    rows = [
        "| run spread | flips (hour x model x limit) | 0.6x FAIL | 1.7x PASS | wrong verdicts "
        f"| 0.2x / 5x decided within 300 calls | long-run {metric} covered | mean calls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for floor, tally in tallies.items():
        runs = tally.runs
        flips = sum(
            {"pass", "fail"} <= seen for (_, _, f), seen in tally.groups.items() if f in NEAR
        )
        clear = [sum(v == want for v, _ in tally.verdicts[f]) for f, want in CLEAR.items()]
        wrong = sum(
            v == ("pass" if f < 1 else "fail") for f in FACTORS for v, _ in tally.verdicts[f]
        )
        fast = [
            sum(v == want and n <= 300 for v, n in tally.verdicts[f]) for f, want in EXTREME.items()
        ]
        calls = np.mean([n for f in FACTORS for _, n in tally.verdicts[f]])
        rows.append(
            f"| {floor:.0%} | {flips} of {2 * hour_count} | {clear[0]} / {runs} "
            f"| {clear[1]} / {runs} | {wrong} | {fast[0]} / {runs}, {fast[1]} / {runs} "
            f"| {tally.covered} / {runs} | {calls:.0f} |"
        )
    return "\n".join(rows)


def limit_table(tallies: list[Tally]) -> str:
    """Per limit, over every run of every hour: the verdicts, and how many came early."""
    rows = [
        "| limit | PASS | FAIL | INCONCLUSIVE | decided within 100 calls | within 200 |",
        "|---|---|---|---|---|---|",
    ]
    for factor in FACTORS:
        outcomes = [o for tally in tallies for o in tally.verdicts[factor]]
        count = {v: sum(seen == v for seen, _ in outcomes) for v in ("pass", "fail")}
        early = [sum(v != "inconclusive" and n <= c for v, n in outcomes) for c in (100, 200)]
        rows.append(
            f"| {factor:g}x | {count['pass']} | {count['fail']} "
            f"| {len(outcomes) - count['pass'] - count['fail']} | {early[0]} | {early[1]} |"
        )
    return "\n".join(rows)


def hour_table(all_hours: list[Hour], tallies: dict[str, Tally]) -> str:
    """Per hour and model: how far apart its loops were, and each run's outcome (f: FAIL,
    p: PASS, i: INCONCLUSIVE; c: the reference inside the interval, -: outside)."""
    rows = [
        "| hour | model | loops' p95 (ms) | 0.6x | 1.7x | covered |",
        "|---|---|---|---|---|---|",
    ]
    per_hour = {k: v for tally in tallies.values() for k, v in tally.per_hour.items()}
    for hour in all_hours:
        at_06, at_17, covered = per_hour[(hour.name, hour.model)]
        p95s = sorted(float(np.percentile(loop, 95)) for loop in hour.loops)
        rows.append(
            f"| {hour.name} | {hour.model} | {p95s[0]:.2f}-{p95s[-1]:.2f} (x{hour.spread:.2f}) "
            f"| `{at_06}` | `{at_17}` | `{covered}` |"
        )
    return "\n".join(rows)


def skew_table(all_hours: list[Hour]) -> str:
    """How far a 400-call run's p50 and p95 read from the p50 and p95 of the hour's other
    loops: quantiles of the log ratio over runs starting every 300 calls of every loop."""
    rows = [
        "| model | statistic | runs | 2.5% | 50% | 97.5% | as ratios (2.5%, 97.5%) |",
        "|---|---|---|---|---|---|---|",
    ]
    for model in section10.MODELS:
        for q in (50, 95):
            logs = []
            for hour in (h for h in all_hours if h.model == model):
                for i, loop in enumerate(hour.loops):
                    others = np.concatenate([x for j, x in enumerate(hour.loops) if j != i])
                    reference = float(np.percentile(others, q))
                    for start in range(0, len(loop) - INTERVAL_CALLS + 1, 300):
                        run = loop[start : start + INTERVAL_CALLS]
                        logs.append(float(np.log(np.percentile(run, q) / reference)))
            low, mid, high = np.quantile(logs, [0.025, 0.5, 0.975])
            rows.append(
                f"| {model} | p{q} | {len(logs)} | {low:+.2f} | {mid:+.2f} | {high:+.2f} "
                f"| x{np.exp(low):.2f}, x{np.exp(high):.2f} |"
            )
    return "\n".join(rows)


def record(loops: int) -> Path:
    """`loops` plain loops in separate pytest processes, kept as an hour in `data/streams`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="mlperf-replay-") as tmp:
        folder = Path(tmp)
        models = folder / "models.joblib"
        section10.fit(models)
        refs = []
        for i in range(loops):
            refs.append(section10.run_reference(sys.executable, folder, models, 2500))
            print(f"loop {i + 1}/{loops}: p95 {refs[-1]['p95_ms']}", file=sys.stderr)
    return keep(refs, stamp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", type=int, default=0, help="record this many loops first")
    parser.add_argument(
        "--run-spreads", default="", help="comma-separated stated run spreads (percent)"
    )
    parser.add_argument(
        "--metric",
        choices=("p95", "p99", "p50", "mean"),
        default="p95",
        help="the limits' statistic",
    )
    parser.add_argument(
        "--keep", action="store_true", help="save the given section-10 records in data/streams"
    )
    parser.add_argument("files", nargs="*", type=Path, help="recorded hours (default: all kept)")
    opts = parser.parse_args(argv)
    try:
        floors = [float(v) / 100 for v in opts.run_spreads.split(",") if v.strip()]
    except ValueError:
        parser.error(f"--run-spreads takes numbers like 15,20, got {opts.run_spreads!r}")
    floors = floors or [stability.DEFAULT_RUN_SPREAD]
    if opts.keep:
        for path in opts.files:
            stamp = path.name.split(".")[0].removeprefix("stability-").removeprefix("streams-")
            print(f"kept {keep(read(path)['references'], stamp)}", file=sys.stderr)
    if opts.record:
        opts.files.append(record(opts.record))
    paths = opts.files or sorted(STREAMS.glob("*.json.gz"))
    recorded = hours(paths)
    if not recorded:
        parser.error("no recorded hour with three or more loops of 2,500 calls")
    names = sorted({h.name for h in recorded})
    print(
        f"{len(names)} recorded hours ({', '.join(names)}), {len(recorded)} hour x model "
        f"streams; {opts.metric} limits judged by pytest-mlperf from "
        f"{Path(pytest_mlperf.__file__).parent}"
    )
    steady = [h for h in recorded if h.spread <= STEADY]
    kinds = {"steady": steady, "phased": [h for h in recorded if h.spread > STEADY]}
    tallies: dict[str, dict[float, Tally]] = {}
    for kind, group in kinds.items():
        if not group:
            continue
        tallies[kind] = {floor: replay(group, floor, opts.metric) for floor in floors}
        print(
            f"\n{kind.capitalize()} hours ({len(group)} hour x model streams, loops' p95 "
            f"{'within' if kind == 'steady' else 'more than'} x{STEADY:.2f} apart):\n"
        )
        print(table(tallies[kind], len(group), opts.metric))
    print(f"\nEvery run, per limit, at a run spread of {floors[0]:.0%}:\n")
    print(limit_table([t[floors[0]] for t in tallies.values()]))
    print("\nA 400-call run against the hour's other loops (log ratio):\n")
    print(skew_table(recorded))
    for floor in floors:
        print(f"\nRuns per hour at a run spread of {floor:.0%}:\n")
        print(hour_table(recorded, {k: t[floor] for k, t in tallies.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
