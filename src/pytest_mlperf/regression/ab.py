"""Side-by-side A/B: baseline and candidate timed as interleaved paired blocks in one process.

A stored baseline comes from another job, whose machine may simply have been slower; no
statistic can tell that apart from a regression. Here both models run in the same process.
A pair is a block of ``block_calls`` calls of each model, and inside the pair the two models
take turns in runs of ``interleave`` calls (ABBA ABBA ... with one call per run), so both
blocks are measured over the same second of the machine's time. On a shared machine the speed
moves within a second: adjacent 100-call blocks of the same forest differed by a log-sd of
0.16-0.21, calls taking turns by 0.02 (docs/regressions.md, "Side by side"). The unit of the
test is the pair: ``d_i = ln(Q_candidate,i / Q_baseline,i)`` for a block statistic Q, and a
paired one-sided test on the ``d_i``. By default three statistics are judged together, p50,
p95 and the mean, each at a third of ``alpha`` (Bonferroni): a model that does more work per
call moves its median by the full amount and its tail by less (a fixed cost added to a call at
1.5x the median is a smaller share of it), so the tail alone misses it on a noisy hour
(docs/regressions.md, "Side by side").

REGRESSION needs the test to be significant *and* the ratio to exceed ``1 + tolerance``;
IMPROVEMENT is the mirror image. When the first ``blocks`` pairs leave the answer UNKNOWN
(beyond the tolerance but not significant, or Pinpoint's grey zone ``p <= unknown_p``), pairs
are added up to ``max_blocks`` and the test is run once more. Each of the two looks tests at
``alpha / 2``, so the chance of a false REGRESSION over both stays within ``alpha``: testing
again after every couple of added pairs multiplied it in the seeded simulations.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import stats
from ..bench import Target, call_error, make_batches, quiet_interpreter, resolve_model, time_calls
from ..numbers import level
from ..probe import CONTENTION_FREE
from . import DEFAULT_MAX_PCT
from .blocks import MIN_BLOCK, TIMER_FLOOR_MS, block_summary, unit_of
from .comparison import Comparison, ComparisonKind, ComparisonVerdict

WALL_METRICS = ("p50", "p95", "mean")
AB_METRICS = (*WALL_METRICS, "cpu_time")  # cpu_time: mean process CPU time per call (ms)
ANY = "any"  # the default: p50, p95 and the mean judged together


@dataclass(frozen=True)
class ABBlock:
    """One pair of blocks: which model ran first, and each block's statistics in ms."""

    pair: int
    order: str  # "AB": baseline first, "BA": candidate first
    baseline: dict[str, float]
    candidate: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "order": self.order,
            "baseline": dict(self.baseline),
            "candidate": dict(self.candidate),
        }


@dataclass
class ABResult:
    """Candidate/baseline ratios of p50, p95 and mean latency, and the verdict on ``judged``.

    Ratios are candidate over baseline: above 1 the candidate is slower. Intervals are at
    ``1 - 2 * alpha_look / len(judged)``, so the lower end is above 1 exactly when the one-sided
    test of that metric at that look is significant. ``metric`` names the judged metric that
    the verdict rests on (for a regression, the one with the strongest evidence).
    ``throughput_ratio`` is the inverse of the mean-latency ratio.
    """

    verdict: ComparisonVerdict
    metric: str
    judged: tuple[str, ...]  # the metrics the verdict judged: cpu_time alone when contended
    tolerance_pct: float
    alpha: float
    alpha_look: float
    tests: dict[str, stats.RatioTest]
    blocks: list[ABBlock]
    block_calls: int
    batch_size: int
    method: str
    baseline_name: str
    candidate_name: str
    stop_reason: str
    looks: list[dict[str, Any]] = field(default_factory=list)
    verdicts: dict[str, ComparisonVerdict] = field(default_factory=dict)  # per metric
    elapsed_s: float = 0.0
    interleave: int = 1  # calls of one model before the other takes its turn
    cpu_share: float | None = None  # process CPU time / wall time of the timed calls
    asked_metric: str = ""  # the metric asked for ("any" by default)

    @property
    def contended(self) -> bool:
        """Other processes held this comparison off the CPU: its wall-clock times include
        waiting for the CPU, so CPU time per call decided (docs/regressions.md)."""
        return self.cpu_share is not None and self.cpu_share < CONTENTION_FREE

    @property
    def contention_note(self) -> str:
        """One line on why cpu_time decided, empty when it did not."""
        if not self.contended or self.judged != ("cpu_time",):
            return ""
        assert self.cpu_share is not None
        asked = "p50, p95 and mean" if self.asked_metric == ANY else self.asked_metric
        return (
            f"other processes held this comparison off the CPU (CPU share "
            f"{self.cpu_share:.0%}), so wall-clock times include waiting: cpu_time decided "
            f"instead of {asked}"
        )

    @property
    def ratio(self) -> float:
        """Ratio of the metric the verdict rests on."""
        return self.tests[self.metric].ratio

    @property
    def ci(self) -> tuple[float, float]:
        return self.tests[self.metric].ci

    @property
    def p_value(self) -> float:
        """One-sided p-value of "the candidate is slower" on the verdict's metric."""
        return self.tests[self.metric].p_greater

    @property
    def p50_ratio(self) -> float:
        return self.tests["p50"].ratio

    @property
    def p95_ratio(self) -> float:
        return self.tests["p95"].ratio

    @property
    def throughput_ratio(self) -> float:
        return 1.0 / self.tests["mean"].ratio

    @property
    def n_pairs(self) -> int:
        return len(self.blocks)

    @property
    def n_calls(self) -> int:
        """Timed calls of each model."""
        return self.n_pairs * self.block_calls

    @property
    def regressed(self) -> bool:
        return self.verdict is ComparisonVerdict.REGRESSION

    def summary(self) -> str:
        """One line: verdict, ratio with its interval, p-value, tolerance."""
        lo, hi = self.ci
        confidence = level(self.tests[self.metric].confidence)
        note = f"; {self.contention_note}" if self.contention_note else ""
        return (
            f"{self.verdict.label}: {self.metric} ratio {self.ratio:.3f} "
            f"[{confidence} CI {lo:.3f}, {hi:.3f}], p={self.p_value:.2g} "
            f"(tolerance {self.tolerance_pct:g}%, alpha {self.alpha:g}, "
            f"{self.n_pairs} pairs x {self.block_calls} calls{note})"
        )

    def __str__(self) -> str:
        lines = [
            f"A/B: {self.candidate_name} (candidate) vs {self.baseline_name} (baseline), "
            f"{self.method}, batch size {self.batch_size}",
            f"  {self.summary()}",
        ]
        for metric in AB_METRICS:
            if metric not in self.tests:
                continue
            test = self.tests[metric]
            label = "throughput" if metric == "mean" else metric
            ratio, (lo, hi) = test.ratio, test.ci
            if metric == "mean":
                ratio, lo, hi = 1.0 / ratio, 1.0 / hi, 1.0 / lo
            lines.append(
                f"    {label:<10} ratio {ratio:.3f} [{lo:.3f}, {hi:.3f}]  "
                f"p(slower)={test.p_greater:.2g}  p(faster)={test.p_less:.2g}"
            )
        lines.append(f"  stopped: {self.stop_reason}; {self.n_calls} timed calls per model")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only, for the report record."""
        return {
            "verdict": self.verdict.value,
            "metric": self.metric,
            "tolerance_pct": self.tolerance_pct,
            "alpha": self.alpha,
            "alpha_look": self.alpha_look,
            "baseline": self.baseline_name,
            "candidate": self.candidate_name,
            "method": self.method,
            "batch_size": self.batch_size,
            "block_calls": self.block_calls,
            "interleave": self.interleave,
            "cpu_share": self.cpu_share,
            "asked_metric": self.asked_metric or self.metric,
            "judged": list(self.judged),
            "pairs": self.n_pairs,
            "calls_per_model": self.n_calls,
            "stop_reason": self.stop_reason,
            "elapsed_s": self.elapsed_s,
            "ratios": {m: t.to_dict() for m, t in self.tests.items()},
            "throughput_ratio": self.throughput_ratio,
            "verdicts": {m: v.value for m, v in self.verdicts.items()},
            "looks": [dict(look) for look in self.looks],
            "blocks": [b.to_dict() for b in self.blocks],
        }

    def typical(self, metric: str) -> tuple[float, float]:
        """Geometric means of the baseline's and the candidate's block statistics (ms).

        Their quotient is exactly the ratio the test estimates.
        """
        logs = np.log([[b.baseline[metric], b.candidate[metric]] for b in self.blocks])
        base, cand = np.exp(logs.mean(axis=0))
        return float(base), float(cand)

    def comparisons(self, nodeid: str = "", *, gating: bool = True) -> list[Comparison]:
        """The report's comparisons of this A/B call, shaped like stored-run comparisons.

        Only the judged metrics gate, and only when ``gating`` (the regression marker in
        pytest); a regression elsewhere is a WARN. The mean latency is reported as throughput
        (rows/s): there the ratio is below 1 when the candidate is slower.
        """
        records = []
        for metric in AB_METRICS:
            if metric not in self.tests:
                continue
            test = self.tests[metric]
            base, cand = self.typical(metric)
            ratio, (lo, hi) = test.ratio, test.ci
            p_worse, p_better = test.p_greater, test.p_less
            name = metric
            if metric == "mean":
                name = "throughput"
                base, cand = self.batch_size * 1000.0 / base, self.batch_size * 1000.0 / cand
                ratio, lo, hi = 1.0 / ratio, 1.0 / hi, 1.0 / lo
            record = Comparison(
                kind=ComparisonKind.AB,
                nodeid=nodeid,
                name=f"{self.candidate_name} vs {self.baseline_name}",
                batch_size=self.batch_size,
                metric=name,
                unit=unit_of(name),
                verdict=self.verdicts[metric],
                baseline=base,
                current=cand,
                ratio=ratio,
                ci=(lo, hi),
                confidence=test.confidence,
                test=test.method,
                blocks={"size": self.block_calls, "pairs": self.n_pairs},
                tolerance_pct=self.tolerance_pct,
                same_machine=True,
                gating=gating and metric in self.judged,
            )
            improved = record.verdict is ComparisonVerdict.IMPROVEMENT
            shown_only = bool(self.contention_note) and metric in WALL_METRICS
            message = (
                f"A/B {name}: {'not judged' if shown_only else record.verdict.value}, "
                f"candidate/baseline {ratio:.3f} [{level(test.confidence)} CI {lo:.3f}, {hi:.3f}]"
                + (f"; {self.contention_note}" if shown_only else "")
            )
            records.append(
                replace(record, p_value=p_better if improved else p_worse, message=message)
            )
        return records


def _measure_pair(
    targets: tuple[Target, Target],
    batches: list[Any],
    pair: int,
    design: ABDesign,
    clock: Callable[[], int],
    cpu_clock: Callable[[], int] | None,
) -> ABBlock:
    """One block of each model on the same batches, the two taking turns in runs of
    ``design.interleave`` calls; the order of the runs alternates (AB BA AB ...), and the
    baseline starts on even pairs. With a ``cpu_clock``, each block's mean CPU time per call
    too."""
    size, run = design.block_calls, design.interleave
    ticks: tuple[list[int], list[int]] = ([], [])
    cpu: tuple[list[int], list[int]] | None = None if cpu_clock is None else ([], [])
    for turn, first in enumerate(range(0, size, run)):
        order = (0, 1) if (pair + turn) % 2 == 0 else (1, 0)
        calls = min(run, size - first)
        for who in order:
            ticks[who].extend(
                time_calls(
                    targets[who],
                    batches,
                    pair * size + first,
                    calls,
                    clock,
                    "the A/B timed loop",
                    cpu_ns=None if cpu is None else cpu[who],
                    cpu_clock=cpu_clock or time.process_time_ns,
                )
            )
    figures = [block_summary(np.asarray(t, dtype=np.float64) / 1e6) for t in ticks]
    if cpu is not None:
        for who, spent in enumerate(cpu):
            figures[who]["cpu_time"] = max(float(np.mean(spent)) / 1e6, TIMER_FLOOR_MS)
    return ABBlock(pair, "AB" if pair % 2 == 0 else "BA", figures[0], figures[1])


def _tests(blocks: list[ABBlock], confidence: float, test: str) -> dict[str, stats.RatioTest]:
    return {
        m: stats.paired_ratio_test(
            [b.baseline[m] for b in blocks],
            [b.candidate[m] for b in blocks],
            confidence=confidence,
            method=test,
        )
        for m in AB_METRICS
        if m in blocks[0].baseline
    }


def _cpu_share(blocks: list[ABBlock]) -> float | None:
    """CPU time over wall time of the timed calls (every block has the same number of calls),
    None without CPU readings."""
    sides = [side for b in blocks for side in (b.baseline, b.candidate)]
    if not sides or "cpu_time" not in sides[0]:
        return None
    wall = sum(side["mean"] for side in sides)
    return sum(side["cpu_time"] for side in sides) / wall if wall > 0 else None


def _judged(asked: str, blocks: list[ABBlock]) -> tuple[str, ...]:
    """The asked metric (p50, p95 and mean for "any"), or cpu_time alone when other processes
    held the comparison off the CPU."""
    share = _cpu_share(blocks)
    if share is not None and share < CONTENTION_FREE:
        return ("cpu_time",)
    return WALL_METRICS if asked == ANY else (asked,)


def _overall(
    verdicts: dict[str, ComparisonVerdict], tests: dict[str, stats.RatioTest]
) -> tuple[ComparisonVerdict, str]:
    """One verdict over the judged metrics, and the metric it rests on.

    REGRESSION when any of them regressed (named by the smallest p-value), SAME when all are
    within the tolerance, IMPROVEMENT when some improved and the rest are the same; otherwise
    UNKNOWN, named by the largest slowdown.
    """
    found = set(verdicts.values())
    if ComparisonVerdict.REGRESSION in found:
        verdict = ComparisonVerdict.REGRESSION
    elif found == {ComparisonVerdict.SAME}:
        verdict = ComparisonVerdict.SAME
    elif ComparisonVerdict.IMPROVEMENT in found and found <= {
        ComparisonVerdict.IMPROVEMENT,
        ComparisonVerdict.SAME,
    }:
        verdict = ComparisonVerdict.IMPROVEMENT
    else:
        verdict = ComparisonVerdict.UNKNOWN
    named = [m for m, v in verdicts.items() if v is verdict] or list(verdicts)
    if verdict is ComparisonVerdict.REGRESSION:
        return verdict, min(named, key=lambda m: tests[m].p_greater)
    if verdict is ComparisonVerdict.IMPROVEMENT:
        return verdict, min(named, key=lambda m: tests[m].p_less)
    return verdict, max(named, key=lambda m: tests[m].ratio)


@dataclass(frozen=True)
class Look:
    """What one look at the pairs measured so far concludes."""

    pairs: int
    judged: tuple[str, ...]  # the metrics judged: the asked ones, or cpu_time when contended
    tests: dict[str, stats.RatioTest]  # every metric's test
    verdicts: dict[str, ComparisonVerdict]  # each judged metric's verdict
    verdict: ComparisonVerdict  # over the judged metrics
    metric: str  # the judged metric the verdict rests on

    def to_dict(self) -> dict[str, Any]:
        test = self.tests[self.metric]
        return {
            "pairs": self.pairs,
            "metric": self.metric,
            "judged": list(self.judged),
            "ratio": test.ratio,
            "p_greater": test.p_greater,
            "p_less": test.p_less,
            "verdict": self.verdict.value,
        }


@dataclass(frozen=True)
class ABDesign:
    """The validated knobs of a side-by-side comparison (see :func:`measure_ab`)."""

    blocks: int = 10
    block_calls: int = 200
    max_blocks: int = 20
    tolerance_pct: float = DEFAULT_MAX_PCT
    alpha: float = 0.01
    metric: str = ANY
    test: str = "t"
    unknown_p: float = 0.15
    interleave: int = 1

    def __post_init__(self) -> None:
        if self.blocks < 2:
            raise ValueError(f"blocks must be at least 2 pairs, got {self.blocks!r}")
        if self.max_blocks < self.blocks:
            raise ValueError(
                f"max_blocks ({self.max_blocks}) must be at least blocks ({self.blocks})"
            )
        if self.block_calls < MIN_BLOCK:
            raise ValueError(f"block_calls must be at least {MIN_BLOCK}, got {self.block_calls!r}")
        if not self.tolerance_pct >= 0:
            raise ValueError(f"tolerance_pct must be >= 0, got {self.tolerance_pct!r}")
        if not 0.0 < self.alpha < 0.5:
            raise ValueError(f"alpha must be in (0, 0.5), got {self.alpha!r}")
        if self.metric not in (ANY, *WALL_METRICS):
            raise ValueError(
                f"metric must be one of {', '.join((ANY, *WALL_METRICS))}, got {self.metric!r}"
            )
        if self.test not in ("t", "wilcoxon"):
            raise ValueError(f"test must be 't' or 'wilcoxon', got {self.test!r}")
        if not 0.0 <= self.unknown_p < 1.0:
            raise ValueError(f"unknown_p must be in [0, 1), got {self.unknown_p!r}")
        if not 1 <= self.interleave <= self.block_calls:
            raise ValueError(
                f"interleave must be from 1 to block_calls ({self.block_calls}), "
                f"got {self.interleave!r}"
            )

    @property
    def looks(self) -> tuple[int, ...]:
        """Pairs measured when the test is run: after ``blocks``, and at ``max_blocks``."""
        return (self.blocks,) if self.max_blocks == self.blocks else (self.blocks, self.max_blocks)

    @property
    def alpha_look(self) -> float:
        """Bonferroni over the looks: the overall false-alarm rate stays within ``alpha``."""
        return self.alpha / len(self.looks)

    def verdict(self, test: stats.RatioTest, *, final: bool, judged: int) -> ComparisonVerdict:
        """One metric's verdict at a look, at ``alpha_look`` shared by the ``judged`` metrics;
        before the last look the grey zone also answers UNKNOWN."""
        verdict = stats.ratio_verdict(
            test,
            tolerance=self.tolerance_pct / 100.0,
            alpha=self.alpha_look / judged,
            p_high=None if final else self.unknown_p,
        )
        return ComparisonVerdict(verdict)


def look(design: ABDesign, blocks: list[ABBlock], *, final: bool) -> Look:
    """Test the pairs measured so far and judge them by ``design``; ``final`` at the last look
    (before it, the grey zone answers UNKNOWN so that pairs are added). Replaying the looks on
    recorded blocks judges one measurement by several designs (benchmarks/ab_rules.py)."""
    judged = _judged(design.metric, blocks)
    tests = _tests(blocks, 1.0 - 2.0 * design.alpha_look / len(judged), design.test)
    verdicts = {m: design.verdict(tests[m], final=final, judged=len(judged)) for m in judged}
    verdict, metric = _overall(verdicts, tests)
    return Look(len(blocks), judged, tests, verdicts, verdict, metric)


def measure_ab(
    baseline_model: Any,
    candidate_model: Any,
    X: Any,
    *,
    batch_size: int = 1,
    method: str = "predict",
    blocks: int = 10,
    block_calls: int = 200,
    max_blocks: int = 20,
    tolerance_pct: float = DEFAULT_MAX_PCT,
    alpha: float = 0.01,
    metric: str = ANY,
    test: str = "t",
    unknown_p: float = 0.15,
    interleave: int = 1,
    warmup: int = 20,
    max_time: float = 300.0,
    disable_gc: bool = True,
    seed: int = 0,
    clock: Callable[[], int] = time.perf_counter_ns,
    cpu_clock: Callable[[], int] | None = None,
    baseline_name: str | None = None,
    candidate_name: str | None = None,
) -> ABResult:
    """Time both models in interleaved paired blocks and judge the ratio of ``metric``: p50,
    p95 and the mean together by default ("any": a regression in any of them counts).

    ``blocks`` pairs of ``block_calls`` calls each are measured first; if the verdict is
    UNKNOWN, pairs are added up to ``max_blocks`` and the test runs once more. ``max_time``
    (seconds on ``clock``) stops adding pairs early; the verdict then uses what was measured.
    Both models see the same seeded batches in the same order. ``clock`` is a nanosecond timer
    (a fake one in tests); ``cpu_clock`` reads the process CPU time in ns: by default
    ``time.process_time_ns`` with the real clock, and none with a fake one, against which CPU
    time means nothing (tests pass a fake one too). When other processes held the comparison
    off the CPU (CPU share of the timed calls below 95%), ``cpu_time`` decides instead of
    the wall-clock metrics.
    """
    design = ABDesign(
        blocks, block_calls, max_blocks, tolerance_pct, alpha, metric, test, unknown_p, interleave
    )
    targets = (resolve_model(baseline_model, method), resolve_model(candidate_model, method))
    batches = make_batches(X, batch_size, seed)
    started = time.perf_counter()
    deadline = clock() + int(max_time * 1e9)
    if cpu_clock is None and clock is time.perf_counter_ns:
        cpu_clock = time.process_time_ns
    for i in range(warmup):
        for target in targets:
            try:
                target.fn(batches[i % len(batches)])
            except Exception as exc:
                raise call_error(target, exc, "warm-up") from exc
    measured: list[ABBlock] = []
    looks: list[dict[str, Any]] = []
    stop_reason = ""
    with quiet_interpreter(disable_gc):  # one full collection; GC and tracing off till done
        for wanted in design.looks:
            while len(measured) < wanted:
                if len(measured) >= 2 and clock() > deadline:
                    stop_reason = "max_time"
                    break
                pair = _measure_pair(targets, batches, len(measured), design, clock, cpu_clock)
                measured.append(pair)
                if disable_gc:
                    gc.collect(1)  # only this pair's young garbage, outside the timed blocks
            final = bool(stop_reason) or wanted == design.looks[-1]
            seen = look(design, measured, final=final)
            looks.append(seen.to_dict())
            if seen.verdict is not ComparisonVerdict.UNKNOWN or final:
                break
    verdict, tests, judged = seen.verdict, seen.tests, seen.judged
    if not stop_reason:
        stop_reason = (
            "decided"
            if verdict is not ComparisonVerdict.UNKNOWN
            else f"max_blocks ({max_blocks} pairs)"
        )
    final_verdicts = {
        m: design.verdict(t, final=True, judged=len(judged)) for m, t in tests.items()
    }
    if judged == ("cpu_time",):  # contended: the wall-clock metrics are shown, not judged
        final_verdicts.update(dict.fromkeys(WALL_METRICS, ComparisonVerdict.UNKNOWN))
    final_verdicts.update(seen.verdicts)
    return ABResult(
        verdict=verdict,
        metric=seen.metric,
        judged=judged,
        tolerance_pct=tolerance_pct,
        alpha=alpha,
        alpha_look=design.alpha_look,
        tests=tests,
        blocks=measured,
        block_calls=block_calls,
        batch_size=batch_size,
        method=targets[0].method,
        baseline_name=baseline_name or targets[0].name,
        candidate_name=candidate_name or targets[1].name,
        stop_reason=stop_reason,
        looks=looks,
        verdicts=final_verdicts,
        elapsed_s=time.perf_counter() - started,
        interleave=interleave,
        cpu_share=_cpu_share(measured),
        asked_metric=metric,
    )
