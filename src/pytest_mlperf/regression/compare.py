"""Stored-run comparison: "is this run slower than the accepted one?".

Comparison works on *blocks* of consecutive calls, not on single calls: calls of one process
share the machine's drift and are autocorrelated, so a test that counts every call as an
independent observation raises false alarms many times its nominal rate (``docs/regressions.md``,
"Why not just compare two numbers?"). What the block test cannot see is a whole run being
slower than usual. Two readings taken between windows of the measurement (:mod:`..probe`)
cancel most of it: the machine-speed probe rescales every timing metric by how fast each run's
machine was, and ``cpu_time`` compares the CPU time per call, from which waiting for the CPU
drops out. A run that other processes held off the CPU (contended) judges its wall-clock
metrics not at all: ``cpu_time`` decides (docs/regressions.md, "Runs measured apart on a
noisy machine"). The tolerance and the run-to-run spread absorb the rest, which is why another
machine's baseline only ever warns and why the side-by-side measurement (:mod:`.ab`) is the
tight gate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import probe, stats
from ..numbers import fmt, level
from ..results import RunVerdict, Stability
from . import DEFAULT_ALPHA, DEFAULT_MAX_PCT, DEFAULT_RUN_SPREAD_PCT, TAIL_SPREAD_FACTOR
from .blocks import MIN_BLOCK, MIN_BLOCKS, block_size_for, block_values, metric_value, unit_of
from .comparison import Comparison, ComparisonKind, ComparisonVerdict
from .store import BaselineError, entry_problem, fingerprint_of, is_figure, validate_run

MEMORY_FLOOR_MB = 16.0  # a memory change smaller than this never counts, whatever the percent
MIN_HISTORY = 3  # earlier runs holding a result before its own run-to-run spread is used

WALL_METRICS = ("p50", "p95", "throughput")  # from wall-clock samples: waiting counts
TAIL_METRICS = ("p95", "throughput")  # moved by the slow calls: a wider assumed run spread
TESTED_METRICS = (*WALL_METRICS, "cpu_time")  # each a block test in the Holm family
METRICS = (*TESTED_METRICS, "memory")
# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    """What one comparison is judged by."""

    tolerance_pct: float
    same_machine: bool
    alpha: float
    memory_floor_mb: float
    run_spread_pct: float


def _figures(entry: Mapping[str, Any]) -> Stability | None:
    stability = entry.get("stability")
    return Stability.from_dict(stability) if isinstance(stability, dict) else None


def _machine_free_value(
    entry: Mapping[str, Any], metric: str, probe_version: int | None
) -> float | None:
    """A stored result's whole-run figure, in units of its probe when ``probe_version`` is
    given (None when the run has no probe of that version), in its own unit otherwise."""
    figures = _figures(entry)
    if probe_version is not None and (figures is None or figures.probe_version != probe_version):
        return None
    if metric == "cpu_time":
        units = probe.cpu_per_call(figures, probe_version is not None)
        return None if units is None else float(np.median(units))
    value = metric_value(entry, metric)
    speed = None if figures is None else figures.probe_ms
    if value is None or probe_version is None or not speed:
        return value
    return value * speed if metric == "throughput" else value / speed


def run_spread(
    history: Sequence[Mapping[str, Any]],
    metric: str,
    default_pct: float,
    probe_version: int | None = None,
) -> tuple[float, float | None, str]:
    """Run-to-run spread of a result's log statistic: ``(sd, degrees of freedom, source)``.

    From the earlier runs of the same result when there are at least ``MIN_HISTORY`` (their
    standard deviation, in probe units when the comparison is, which also holds each run's
    own sampling noise: slightly cautious); otherwise the assumed ``default_pct``, taken as
    known, and ``TAIL_SPREAD_FACTOR`` times that for p95 and throughput, whose slow calls come
    and go between processes.
    """
    logs = [
        math.log(v)
        for e in history
        if (v := _machine_free_value(e, metric, probe_version)) is not None and v > 0
    ]
    if len(logs) >= MIN_HISTORY:
        sd = float(np.std(logs, ddof=1))
        return sd, float(len(logs) - 1), f"{len(logs)} earlier runs"
    factor = TAIL_SPREAD_FACTOR if metric in TAIL_METRICS else 1.0
    return math.log1p(factor * default_pct / 100.0), None, "assumed"


@dataclass
class _Pending:
    """A comparison whose verdict waits for the multiple-testing adjustment."""

    record: Comparison
    test: stats.RatioTest | None
    higher_is_worse: bool
    contended_share: float | None = None  # a wall-clock metric of a contended run: not judged
    machine_adjusted: bool = False  # compared in units of each run's machine-speed probe


def _key(entry: Mapping[str, Any]) -> tuple[str, str, int]:
    return (entry["nodeid"], entry["name"], int(entry["batch_size"]))


def _base_record(entry: Mapping[str, Any], metric: str, rules: _Rules) -> Comparison:
    return Comparison(
        kind=ComparisonKind.STORED,
        nodeid=entry["nodeid"],
        name=entry["name"],
        batch_size=int(entry["batch_size"]),
        metric=metric,
        unit=unit_of(metric),
        verdict=ComparisonVerdict.UNKNOWN,
        tolerance_pct=rules.tolerance_pct,
        same_machine=rules.same_machine,
        gating=rules.same_machine,
    )


def _entry_comparisons(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    rules: _Rules,
) -> list[_Pending]:
    """The metric comparisons of one result; the timing ones carry their block test."""
    size = block_size_for(len(baseline.get("samples_ms", [])), len(current.get("samples_ms", [])))
    base_figures, cur_figures = _figures(baseline), _figures(current)
    machine = probe.machine_ratio(base_figures, cur_figures)
    # the unit of every figure below: this probe version when both runs share it, else none
    version = cur_figures.probe_version if machine is not None and cur_figures else None
    shares = [
        f.cpu_share
        for f in (base_figures, cur_figures)
        if f is not None and f.cpu_share is not None and probe.contended(f)
    ]
    pending = []
    for metric in METRICS:
        base, cur = metric_value(baseline, metric), metric_value(current, metric)
        record = replace(_base_record(current, metric, rules), baseline=base, current=cur)
        if metric == "memory":
            if base is not None or cur is not None:
                record = _judge_memory(record, rules.tolerance_pct / 100.0, rules.memory_floor_mb)
                pending.append(_Pending(record, None, True))
            continue
        if metric == "cpu_time":
            in_units = version is not None
            a = probe.cpu_per_call(base_figures, in_units)
            b = probe.cpu_per_call(cur_figures, in_units)
            if a is None or b is None:
                continue  # a run without the readings (a test's own clock, an older release)
            adjusted = "CPU time per call in units of each run's probe" if in_units else None
        else:
            a, b = block_values(baseline, metric, size), block_values(current, metric, size)
            adjusted = None
            if machine is not None:
                b = b * machine if metric == "throughput" else b / machine
                adjusted = (
                    f"machine-speed adjusted by the probe (this run's machine x{machine:.2f})"
                )
        test = None
        if min(a.size, b.size) >= MIN_BLOCKS:
            sd, df, source = run_spread(history, metric, rules.run_spread_pct, version)
            test = stats.unpaired_ratio_test(
                a, b, confidence=1.0 - 2.0 * rules.alpha, run_sd=sd, run_df=df
            )
            blocks = {"size": size, "baseline": int(a.size), "current": int(b.size)}
            if metric == "cpu_time":
                blocks["size"] = MIN_BLOCK  # one block per window of calls
            record = replace(
                record,
                ratio=test.ratio,
                ci=test.ci,
                confidence=test.confidence,
                test=test.method if adjusted is None else f"{test.method}; {adjusted}",
                blocks=blocks,
                run_spread={"sd": sd, "source": source},
            )
        elif base and cur is not None:
            record = replace(record, ratio=cur / base)
        share = min(shares) if shares and metric in WALL_METRICS else None
        pending.append(_Pending(record, test, metric != "throughput", share, adjusted is not None))
    return pending


def _judge_memory(record: Comparison, tolerance: float, floor_mb: float) -> Comparison:
    """Memory is near-deterministic: a relative threshold with an absolute floor, no test."""
    base, cur = record.baseline, record.current
    if base is None or cur is None:
        return replace(
            record,
            verdict=ComparisonVerdict.UNKNOWN,
            message="memory was measured in only one of the two runs",
        )
    allowed = max(tolerance * base, floor_mb)
    change = cur - base
    shift = f"{fmt(base)} → {fmt(cur)} MB"
    if change > allowed:
        verdict = ComparisonVerdict.REGRESSION  # WARN when the comparison does not gate
        message = f"memory grew by {fmt(change)} MB ({shift}; allowed {fmt(allowed)})"
    elif -change > allowed:
        verdict = ComparisonVerdict.IMPROVEMENT
        message = f"memory fell by {fmt(-change)} MB ({shift})"
    else:
        verdict = ComparisonVerdict.SAME
        message = f"memory within {fmt(allowed)} MB ({shift})"
    return replace(
        record,
        ratio=cur / base if base > 0 else None,
        test=f"threshold: +{tolerance:.0%} and at least {fmt(floor_mb)} MB",
        verdict=verdict,
        message=message,
    )


def _finish(items: list[_Pending], alpha: float, bonferroni: int | None = None) -> None:
    """Adjust the p-values across the family and set the verdicts.

    Slower and faster are two families, each adjusted on its own (Holm, or Bonferroni over a
    given family size), so the chance of any false regression in the run stays within alpha.
    """
    tested = [p for p in items if p.test is not None and p.contended_share is None]
    worse = [_p_worse(p) for p in tested]
    better = [_p_better(p) for p in tested]
    if bonferroni is None:
        worse_adj, better_adj = stats.holm_adjust(worse), stats.holm_adjust(better)
    else:
        worse_adj = [min(1.0, bonferroni * p) for p in worse]
        better_adj = [min(1.0, bonferroni * p) for p in better]
    for item, pw, pb, aw, ab in zip(tested, worse, better, worse_adj, better_adj, strict=True):
        assert item.test is not None
        tolerance = item.record.tolerance_pct
        verdict = stats.ratio_verdict(
            item.test,
            tolerance=(tolerance or 0.0) / 100.0,
            alpha=alpha,
            higher_is_worse=item.higher_is_worse,
            p_worse=aw,
            p_better=ab,
        )
        worse_side = (item.test.ratio > 1.0) == item.higher_is_worse
        p_value, p_adjusted = (pw, aw) if worse_side else (pb, ab)
        record = replace(item.record, p_value=p_value, p_adjusted=p_adjusted)
        item.record = _with_verdict(record, ComparisonVerdict(verdict), item.machine_adjusted)
    for item in items:
        if item.test is not None and item.contended_share is not None:
            item.record = _judge_contended(item.record, item.contended_share)
        elif item.test is None and item.record.metric != "memory":
            item.record = _judge_untested(item.record)


def _p_worse(item: _Pending) -> float:
    assert item.test is not None
    return item.test.p_greater if item.higher_is_worse else item.test.p_less


def _p_better(item: _Pending) -> float:
    assert item.test is not None
    return item.test.p_less if item.higher_is_worse else item.test.p_greater


def _change_text(record: Comparison) -> str:
    ratio = record.ratio
    change = "" if ratio is None else f" {ratio - 1.0:+.1%}"
    values = f"{fmt(record.baseline)} → {fmt(record.current)} {record.unit}"
    return f"{record.metric}{change} ({values}"


_MESSAGES = {
    ComparisonVerdict.REGRESSION: "regression: {}",
    ComparisonVerdict.WARN: "possible regression, baseline from another machine (not gating): {}",
    ComparisonVerdict.IMPROVEMENT: "improvement: {}",
    ComparisonVerdict.UNKNOWN: "beyond tolerance but not significant, too noisy to tell: {}",
    ComparisonVerdict.SAME: "no significant change beyond tolerance: {}",
}


def _with_verdict(
    record: Comparison, verdict: ComparisonVerdict, machine_adjusted: bool = False
) -> Comparison:
    """The tested record with its verdict (WARN when it does not gate) and its one line."""
    record = replace(record, verdict=verdict)
    assert record.ci is not None and record.confidence is not None
    assert record.ratio is not None and record.p_adjusted is not None
    lo, hi = record.ci
    detail = (
        f"; ratio {record.ratio:.3f}{' machine-adjusted' if machine_adjusted else ''}, "
        f"{level(record.confidence)} CI [{lo:.3f}, {hi:.3f}], "
        f"p={record.p_adjusted:.2g} adjusted; tolerance {record.tolerance_pct:g}%)"
    )
    message = _MESSAGES[record.verdict].format(_change_text(record) + detail)
    if verdict is ComparisonVerdict.UNKNOWN:
        message += _settle_hint(record)
    return replace(record, message=message)


def _settle_hint(record: Comparison) -> str:
    """What would settle an UNKNOWN: both versions in one process, or a measured run spread."""
    hint = "; to settle it, time both versions side by side with model_bench.ab"
    if record.run_spread is not None and record.run_spread.get("source") == "assumed":
        sd = float(record.run_spread["sd"])
        hint += (
            f", or keep {MIN_HISTORY} stored runs of this test so that their spread replaces "
            f"the assumed {math.expm1(sd):.0%}"
        )
    return hint


def _judge_untested(record: Comparison) -> Comparison:
    """Too few raw samples for blocks: never gate, only say whether it looks beyond tolerance."""
    ratio = record.ratio
    tol = (record.tolerance_pct or 0.0) / 100.0
    beyond = ratio is not None and abs(ratio - 1.0) > tol
    return replace(
        record,
        verdict=ComparisonVerdict.UNKNOWN if beyond or ratio is None else ComparisonVerdict.SAME,
        message=(
            f"{_change_text(record)}; no test: fewer than {MIN_BLOCKS} blocks of {MIN_BLOCK} "
            "calls in one of the runs)"
        ),
    )


def _judge_contended(record: Comparison, share: float) -> Comparison:
    """A wall-clock metric of a run held off the CPU: shown, never judged (not in the family)."""
    assert record.ratio is not None and record.ci is not None and record.confidence is not None
    lo, hi = record.ci
    return replace(
        record,
        verdict=ComparisonVerdict.UNKNOWN,
        message=(
            f"not judged: {_change_text(record)}; ratio {record.ratio:.3f}, "
            f"{level(record.confidence)} CI [{lo:.3f}, {hi:.3f}]); other processes held this "
            f"comparison's runs off the CPU (CPU share {share:.0%}), so wall-clock times "
            "include waiting: cpu_time decides"
        ),
    )


def _presence_record(
    entry: Mapping[str, Any], verdict: ComparisonVerdict, rules: _Rules
) -> Comparison:
    new = verdict is ComparisonVerdict.NEW
    return replace(
        _base_record(entry, "all", rules),
        verdict=verdict,
        gating=False,
        message="new: not in the baseline"
        if new
        else "missing: in the baseline but not measured in this run",
    )


def _rules(
    max_pct: float, same_machine: bool, alpha: float, memory_floor_mb: float, spread: float
) -> _Rules:
    for name, value in (("max_pct", max_pct), ("memory_floor_mb", memory_floor_mb)):
        if not (is_figure(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if not (is_figure(spread) and spread >= 0):
        raise ValueError(f"run_spread_pct must be a non-negative number, got {spread!r}")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha!r}")
    return _Rules(float(max_pct), same_machine, alpha, float(memory_floor_mb), float(spread))


def compare_runs(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    max_pct: float = DEFAULT_MAX_PCT,
    per_test_pct: Mapping[str, float] | None = None,
    same_machine: bool | None = None,
    alpha: float = DEFAULT_ALPHA,
    history: Sequence[Mapping[str, Any]] = (),
    run_spread_pct: float = DEFAULT_RUN_SPREAD_PCT,
    memory_floor_mb: float = MEMORY_FLOOR_MB,
) -> list[Comparison]:
    """Every result of ``current`` against the same (nodeid, name, batch size) in ``baseline``.

    Per result: p50, p95 and throughput by a Welch test on per-block log statistics widened by
    the run-to-run spread (from ``history``, earlier runs of this machine, when at least
    ``MIN_HISTORY`` hold the result; else ``run_spread_pct`` is assumed); memory by threshold.
    The p-values of the whole run are Holm-adjusted at family level ``alpha``.
    ``same_machine=None`` compares the fingerprints. Only a same-machine comparison can say
    ``regression`` (``gating`` True); from another machine it says ``warn``. Results only in
    ``current`` are ``new``, only in ``baseline`` ``missing``.
    """
    validate_run(current, "the current run")
    validate_run(baseline, "the baseline run")
    for i, run in enumerate(history):
        validate_run(run, f"history run #{i}")
    if same_machine is None:
        same_machine = fingerprint_of(current) == fingerprint_of(baseline)
    base_rules = _rules(max_pct, same_machine, alpha, memory_floor_mb, run_spread_pct)
    overrides = dict(per_test_pct or {})
    earlier: dict[tuple[str, str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for run in history:
        for entry in run["results"]:
            earlier[_key(entry)].append(entry)
    waiting: dict[tuple[str, str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for entry in baseline["results"]:
        waiting[_key(entry)].append(entry)
    pending: list[_Pending] = []
    for entry in current["results"]:
        tol = overrides.get(entry["nodeid"], base_rules.tolerance_pct)
        rules = _rules(tol, same_machine, alpha, memory_floor_mb, run_spread_pct)
        matches = waiting.get(_key(entry))
        if matches:
            pending += _entry_comparisons(entry, matches.pop(0), earlier[_key(entry)], rules)
        else:
            pending.append(
                _Pending(_presence_record(entry, ComparisonVerdict.NEW, rules), None, True)
            )
    _finish([p for p in pending if p.record.metric != "all"], alpha)
    records = [p.record for p in pending]
    for entries in waiting.values():
        for entry in entries:
            tol = overrides.get(entry["nodeid"], base_rules.tolerance_pct)
            rules = _rules(tol, same_machine, alpha, memory_floor_mb, run_spread_pct)
            records.append(_presence_record(entry, ComparisonVerdict.MISSING, rules))
    return records


def compare_entry(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    max_pct: float = DEFAULT_MAX_PCT,
    same_machine: bool = True,
    alpha: float = DEFAULT_ALPHA,
    family_size: int = 1,
    history: Sequence[Mapping[str, Any]] = (),
    run_spread_pct: float = DEFAULT_RUN_SPREAD_PCT,
    memory_floor_mb: float = MEMORY_FLOOR_MB,
) -> list[Comparison]:
    """The comparisons of one result, for a verdict while its test is still running.

    Holm needs every p-value of the run; a test that wants its verdict at once can use
    Bonferroni over the expected ``family_size`` (3 per result in the baseline): what it
    rejects, Holm over the same family rejects too, so the test-time verdict never contradicts
    the end-of-run one. Entries are ``results`` records (``BenchmarkResult.to_record``), and
    ``history`` holds the same result's entries from earlier runs.
    """
    rules = _rules(max_pct, same_machine, alpha, memory_floor_mb, run_spread_pct)
    if family_size < 1:
        raise ValueError(f"family_size must be >= 1, got {family_size!r}")
    for source, entry in (("the current result", current), ("the baseline result", baseline)):
        problem = entry_problem(entry)
        if problem is not None:
            raise BaselineError(f"{source} {problem}")
    pending = _entry_comparisons(current, baseline, history, rules)
    _finish(pending, alpha, bonferroni=family_size)
    return [p.record for p in pending]


def comparison_gate(comparisons: Iterable[Comparison]) -> dict[str, Any]:
    """How many comparisons came out each way, and ``fail`` when any of them fails the run."""
    counts = dict.fromkeys((v.value for v in ComparisonVerdict), 0)
    total = failed = 0
    for c in comparisons:
        total += 1
        counts[c.verdict.value] += 1
        failed += c.fails_run
    return {"comparisons": total, **counts, "verdict": RunVerdict.of(failed > 0).value}
