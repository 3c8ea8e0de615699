"""Figures for report.html, drawn with matplotlib and returned as inline SVG text.

No pyplot: each figure is a bare `Figure`, so rendering touches no global figure manager and
works on a machine without a display. Text is written as SVG `<text>` (escaped by matplotlib's
XML writer) with math parsing off, and every id is prefixed per figure so that several figures
in one HTML page never resolve each other's clip paths. The functions take numbers and fixed
labels only: test ids and messages stay in the HTML, where the template escapes them.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from ..numbers import fmt

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

MAX_POINTS = 2000  # calls drawn one by one in the measurement-order panel; above, buckets
BUCKETS = 400  # buckets of consecutive calls drawn instead (median line, min-max band)
LOG_SPAN = 20.0  # use a log axis when the largest value shown is this many times the smallest

INK = "#1f2933"
GRID = "#e4e7eb"
BLUE = "#2b6cb0"
BLUE_LIGHT = "#9dc3e6"
ORANGE = "#dd6b20"
GREEN = "#2f855a"
RED = "#c53030"
GREY = "#a0aec0"
VERDICT_COLOURS = {"pass": GREEN, "fail": RED, "inconclusive": ORANGE}

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # real <text>: smaller, selectable, escaped by the XML writer
    "svg.hashsalt": "pytest-mlperf",  # stable clip-path ids: same record, same page
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
_METADATA: dict[str, Any] = {"Creator": None, "Date": None, "Format": None, "Type": None}
_PREAMBLE = re.compile(r"\A.*?(?=<svg)", re.S)
_SIZE = re.compile(r'\s(?:width|height)="[^"]*pt"')
_STYLE = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.S)
_PATH = re.compile(r' d="[^"]*"')
_DECIMALS = re.compile(r"(\d\.\d)\d+")
_IDS = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')
_counter = itertools.count(1)


@dataclass(frozen=True)
class Limit:
    """A latency limit drawn as a vertical line, coloured by the check's verdict."""

    metric: str  # "p50" | "p90" | "p95" | "p99" | "mean"
    value: float
    verdict: str


def _to_svg(fig: Figure) -> str:
    """The figure as an `<svg>` element fit for inlining: no prolog, fluid size, unique ids."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_METADATA)
    svg = _STYLE.sub("", _PREAMBLE.sub("", buf.getvalue(), count=1), count=1)
    svg = _SIZE.sub("", svg, count=2)
    svg = _PATH.sub(lambda m: _DECIMALS.sub(r"\1", m.group(0)), svg)  # 0.1 pt is plenty
    prefix = f"f{next(_counter)}-"
    svg = _IDS.sub(lambda m: m.group(1) + prefix + m.group(2), svg)
    return svg.replace("<svg ", '<svg class="plot" role="img" ', 1).strip()


def _figure(
    width: float, height: float, *, left: float = 0.07, right: float = 0.98, top: float = 0.2
) -> Figure:
    """Fixed margins (`top` in inches): a layout engine would draw every figure twice."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=left, right=right, bottom=0.55 / height, top=1 - top / height, wspace=0.2
    )
    fig.patch.set_alpha(0.0)
    return fig


def _style(ax: Axes) -> None:
    """Light grid, no top or right frame, few ticks: each tick costs a redraw of its text."""
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4))
        axis.set_minor_locator(NullLocator())
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _log(ax: Axes, which: str) -> None:
    """Log scale with plain tick labels: matplotlib's default ones go through mathtext,
    which costs most of a figure's render time."""
    if which == "x":
        ax.set_xscale("log")
    else:
        ax.set_yscale("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0), numticks=6))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.6g}"))
    axis.set_minor_locator(NullLocator())


def _positive(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v) and v > 0]


def _wide(values: Sequence[float]) -> bool:
    shown = _positive(values)
    return bool(shown) and max(shown) / min(shown) > LOG_SPAN


def latency_svg(
    samples_ms: Sequence[float],
    *,
    p95: float | None,
    p95_ci: tuple[float | None, float | None] | None,
    limits: Sequence[Limit] = (),
    confidence: float = 0.95,
) -> str:
    """Histogram of the calls' latencies and the calls in measurement order, in one figure.

    The p95, its confidence interval and every latency limit are marked on both panels, so a
    reader sees at a glance how far the distribution sits from its budget and whether the
    machine changed speed during the run.
    """
    data = np.asarray([s for s in samples_ms if math.isfinite(s)], dtype=float)
    lo, hi = p95_ci if p95_ci is not None else (None, None)
    marks = [v for v in (p95, lo, hi, *(lim.value for lim in limits)) if v is not None]
    log = _wide([*data.tolist(), *marks]) and bool(data.size) and float(data.min()) > 0
    with matplotlib.rc_context(_RC):
        fig = _figure(9.0, 2.9, top=0.45)
        hist_ax, seq_ax = fig.subplots(1, 2, width_ratios=(3, 2))
        _histogram(hist_ax, data, log, marks)
        _sequence(seq_ax, data, log)
        for ax, vertical in ((hist_ax, True), (seq_ax, False)):
            _mark_latency(ax, vertical, p95, lo, hi, limits, confidence)
        handles, labels = hist_ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper left", ncols=len(handles), borderaxespad=0.3)
        return _to_svg(fig)


def _histogram(ax: Axes, data: np.ndarray, log: bool, marks: Sequence[float]) -> None:
    _style(ax)
    ax.set_xlabel("latency per call (ms)" + (", log scale" if log else ""))
    ax.set_ylabel("calls")
    if not data.size:
        ax.text(0.5, 0.5, "no samples recorded", transform=ax.transAxes, ha="center")
        return
    left = min(float(data.min()), *marks) if marks else float(data.min())
    right = max(float(data.max()), *marks) if marks else float(data.max())
    edges = int(np.clip(2 * math.sqrt(data.size), 10, 60)) + 1  # sparse data, wider bins
    if log:
        _log(ax, "x")
        bins = np.geomspace(max(left, 1e-9), max(right, left * 1.01), edges)
    else:
        bins = np.linspace(min(left, 0.0), right if right > left else left + 1.0, edges)
    ax.hist(
        data, bins=bins.tolist(), histtype="stepfilled", color=BLUE_LIGHT, edgecolor=BLUE, lw=0.8
    )


def _sequence(ax: Axes, data: np.ndarray, log: bool) -> None:
    _style(ax)
    ax.set_xlabel("call, in measurement order")
    ax.set_ylabel("ms")
    if log:
        _log(ax, "y")
    n = int(data.size)
    if n <= MAX_POINTS:
        ax.plot(np.arange(1, n + 1), data, color=BLUE, lw=0.6, alpha=0.8)
        return
    edges = np.linspace(0, n, BUCKETS + 1).astype(int)
    chunks = [data[a:b] for a, b in itertools.pairwise(edges) if b > a]
    x = np.array([(a + b) / 2 for a, b in itertools.pairwise(edges) if b > a])
    ax.fill_between(x, [c.min() for c in chunks], [c.max() for c in chunks], color=BLUE_LIGHT, lw=0)
    ax.plot(x, [float(np.median(c)) for c in chunks], color=BLUE, lw=0.8)
    ax.set_xlabel(f"call: {n:,} in {len(chunks)} buckets (median, min to max)")


def _mark_latency(
    ax: Axes,
    vertical: bool,
    p95: float | None,
    lo: float | None,
    hi: float | None,
    limits: Sequence[Limit],
    confidence: float,
) -> None:
    """p95 (solid), its CI (band; one-sided when a bound is missing) and limits (dashed)."""
    line = ax.axvline if vertical else ax.axhline
    span = ax.axvspan if vertical else ax.axhspan
    if lo is not None or hi is not None:
        low, high = ax.get_xlim() if vertical else ax.get_ylim()
        span(
            low if lo is None else lo,
            high if hi is None else hi,  # open-ended: too few calls to bound it
            color=BLUE,
            alpha=0.15,
            lw=0,
            label=f"p95 {confidence:.0%} CI",
        )
    if p95 is not None:
        line(p95, color=BLUE, lw=1.4, label=f"p95 = {fmt(p95)} ms")
    for lim in limits:
        line(
            lim.value,
            color=VERDICT_COLOURS.get(lim.verdict, GREY),
            lw=1.4,
            ls="--",
            label=f"{lim.metric} limit {lim.value:g} ms"
            + (f" ({lim.verdict})" if lim.verdict in VERDICT_COLOURS else ""),
        )


def sweep_svg(curve: Sequence[Mapping[str, Any]], best_batch_size: int | None) -> str:
    """Rows per second and p95 latency against batch size; failing sizes in red."""
    points = [
        p for p in curve if isinstance(p.get("batch_size"), int | float) and p["batch_size"] > 0
    ]
    sizes = [float(p["batch_size"]) for p in points]
    rps = [_or_nan(p.get("throughput_rps")) for p in points]
    p95 = [_or_nan(p.get("latency_p95")) for p in points]
    failed = [i for i, p in enumerate(points) if p.get("verdict") == "fail"]
    with matplotlib.rc_context(_RC):
        fig = _figure(9.0, 2.7, left=0.09, right=0.92)
        ax = fig.subplots()
        _style(ax)
        if len(set(sizes)) > 1:
            ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [f"{s:g}" for s in sizes])
        ax.minorticks_off()
        ax.set_xlabel("batch size (rows per call)")
        ax.set_ylabel("rows per second", color=BLUE)
        ax.plot(sizes, rps, "o-", color=BLUE, lw=1.6, ms=4, label="rows/s")
        right = ax.twinx()
        right.spines["top"].set_visible(False)
        right.set_ylabel("p95 latency (ms)", color=ORANGE)
        if _wide(p95):
            _log(right, "y")
        right.plot(sizes, p95, "s--", color=ORANGE, lw=1.2, ms=4, label="p95 ms")
        if failed:
            right.plot(
                [sizes[i] for i in failed],
                [p95[i] for i in failed],
                "x",
                color=RED,
                ms=9,
                mew=2,
                label="latency limit broken",
            )
        if best_batch_size is not None:
            ax.axvline(
                best_batch_size, color=GREEN, lw=1.2, ls=":", label=f"best: {best_batch_size}"
            )
        handles = ax.get_legend_handles_labels()
        extra = right.get_legend_handles_labels()
        ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left")
        return _to_svg(fig)


def cost_svg(tiers: Sequence[Mapping[str, Any]], recommended: str | None) -> str:
    """Monthly cost per tier as horizontal bars: the recommended tier green, ineligible grey."""
    names = [str(t.get("tier", "?")) for t in tiers]
    costs = [_or_nan(t.get("monthly_usd")) for t in tiers]
    colours = [
        GREEN if n == recommended else (BLUE if t.get("eligible") else GREY)
        for n, t in zip(names, tiers, strict=True)
    ]
    shown = [c for c in costs if math.isfinite(c)]
    log = _wide(shown)
    with matplotlib.rc_context(_RC):
        label_in = 0.15 + 0.075 * max((len(n) for n in names), default=4)  # ~9 pt characters
        fig = _figure(9.0, 1.0 + 0.28 * max(len(tiers), 1), left=min(label_in / 9.0, 0.4))
        ax = fig.subplots()
        _style(ax)
        ax.grid(False, axis="y")
        y = np.arange(len(tiers))
        width = [c if math.isfinite(c) else 0.0 for c in costs]
        ax.barh(y, width, color=colours, height=0.65)
        ax.set_yticks(y, names, parse_math=False)
        ax.invert_yaxis()
        ax.set_xlabel("USD per month" + (", log scale" if log else ""))
        if log:
            _log(ax, "x")
        top = max(shown, default=1.0) or 1.0
        ax.set_xlim(right=top * (8 if log else 1.3))
        if log:
            ax.set_xlim(left=min(v for v in shown if v > 0) / 2 if any(shown) else 0.01)
        for i, (cost, tier) in enumerate(zip(costs, tiers, strict=True)):
            text = f"${cost:,.2f}" if math.isfinite(cost) else "cannot serve"
            if not tier.get("eligible"):
                text += "  (not eligible)"
            x = cost if math.isfinite(cost) and cost > 0 else ax.get_xlim()[0]
            ax.text(x, i, "  " + text, va="center", fontsize=8, color=INK, parse_math=False)
        return _to_svg(fig)


def _or_nan(value: Any) -> float:
    """A finite float, or NaN (matplotlib leaves a gap) for missing or non-numeric values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan
