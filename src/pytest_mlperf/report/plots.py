"""Figures for report.html, written directly as small inline SVG (no plotting library).

A figure is a few kilobytes of text drawn in a fixed `viewBox` that scales with the page, so a
page of a thousand benchmarks stays quick to write and to open, and report.html needs nothing
beyond jinja2. Legends sit in a row above the plot area, never over the data. Every label is
escaped; the functions take numbers and fixed labels only: test ids and messages stay in the
HTML, where the template escapes them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from ..numbers import fmt

MAX_POINTS = 300  # calls drawn one by one in the measurement-order panel; above, buckets
BUCKETS = 150  # buckets of consecutive calls drawn instead (median line, min-max band)
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
WIDTH = 900
FONT = 'font-family="system-ui,DejaVu Sans,sans-serif" font-size="11"'


@dataclass(frozen=True)
class LimitLine:
    """A latency limit drawn as a line, coloured by the check's verdict."""

    metric: str  # "p50" | "p90" | "p95" | "p99" | "mean"
    value: float
    verdict: str


def _n(value: float) -> str:
    """A coordinate with one decimal, no trailing zeros: 0.1 px is plenty."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _tick(value: float) -> str:
    """A round tick value without trailing zeros: 4, 0.25, 12,000."""
    text = fmt(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _finite(values: Iterable[Any]) -> list[float]:
    return [
        float(v)
        for v in values
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ]


@dataclass(frozen=True)
class _Scale:
    """Data to pixels along one axis, linear or log."""

    low: float
    high: float
    start: float  # pixel of `low`
    end: float  # pixel of `high`
    log: bool = False
    fixed: tuple[float, ...] = ()  # ticks at these values (the batch sizes measured)

    def __call__(self, value: float) -> float:
        if self.log:
            value, low, high = (math.log10(max(x, 1e-12)) for x in (value, self.low, self.high))
        else:
            low, high = self.low, self.high
        share = 0.5 if high == low else (value - low) / (high - low)
        return self.start + min(max(share, -0.05), 1.05) * (self.end - self.start)

    def ticks(self) -> list[float]:
        """A few round values inside the range."""
        if self.fixed:
            return list(self.fixed)
        if self.log:
            first, last = math.floor(math.log10(self.low)), math.ceil(math.log10(self.high))
            found = [
                m * 10.0**e
                for e in range(first, last + 1)
                for m in (1, 3)
                if self.low <= m * 10.0**e <= self.high
            ]
            return found if len(found) >= 2 else [self.low, self.high]
        span = self.high - self.low
        if span <= 0:
            return [self.low]
        raw = span / 4
        step = 10 ** math.floor(math.log10(raw))
        step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
        first = math.ceil(self.low / step) * step
        return [first + i * step for i in range(int((self.high - first) / step + 1e-9) + 1)]


def _scale(values: Sequence[float], start: float, end: float, zero: bool = False) -> _Scale:
    """A scale that shows every value: log when they span more than `LOG_SPAN` times."""
    shown = values or [0.0, 1.0]
    low, high = min(shown), max(shown)
    if low > 0 and high / low > LOG_SPAN:
        return _Scale(low / 1.1, high * 1.1, start, end, log=True)
    if zero:
        low = min(low, 0.0)
    pad = (high - low) * 0.05 or abs(high) * 0.1 or 1.0
    return _Scale(low if zero else low - pad, high + pad, start, end)


class _Svg:
    """The parts of one figure, joined into an `<svg>` element at the end."""

    def __init__(self, height: int, title: str) -> None:
        self.height = height
        self.parts = [f"<title>{escape(title)}</title>"]

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, label: str, anchor: str = "start", **attrs: str) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.add(
            f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>{escape(label)}</text>'
        )

    def legend(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """One row above the plots: (colour, style, label); style is line, dash, band or cross."""
        x = 8.0
        for colour, style, label in entries:
            if style == "band":
                self.add(f'<rect x="{_n(x)}" y="6" width="18" height="10" fill="{colour}"/>')
            elif style == "cross":
                self.add(f'<path d="M{_n(x + 4)} 6l10 10m0-10l-10 10" stroke="{colour}"/>')
            else:
                dash = ' stroke-dasharray="5 3"' if style == "dash" else ""
                self.add(f'<path d="M{_n(x)} 11h18" stroke="{colour}" stroke-width="2"{dash}/>')
            self.text(x + 23, 15, label)
            x += 23 + 6.3 * len(label) + 16

    def axes(
        self, xs: _Scale, ys: _Scale, xlabel: str, ylabel: str, xfmt: Callable[[float], str] = _tick
    ) -> None:
        """Grid lines with their tick labels, and both axis titles (no y ticks without one)."""
        top, bottom, left, right = ys.end, ys.start, xs.start, xs.end
        yticks = ys.ticks() if ylabel else []
        grid = [f"M{_n(left)} {_n(ys(v))}H{_n(right)}" for v in yticks]
        grid += [f"M{_n(xs(v))} {_n(top)}V{_n(bottom)}" for v in xs.ticks()]
        self.add(f'<path d="{"".join(grid)}" stroke="{GRID}"/>')
        self.add(
            f'<path d="M{_n(left)} {_n(top)}V{_n(bottom)}H{_n(right)}" stroke="{GREY}" '
            'fill="none"/>'
        )
        for v in yticks:
            self.text(left - 4, ys(v) + 4, _tick(v), "end")
        for v in xs.ticks():
            self.text(xs(v), bottom + 14, xfmt(v), "middle")
        self.text((left + right) / 2, bottom + 30, xlabel, "middle")
        if ylabel:
            self.text(
                left - 42, (top + bottom) / 2, ylabel, "middle",
                transform=f"rotate(-90 {_n(left - 42)} {_n((top + bottom) / 2)})",
            )  # fmt: skip

    def done(self) -> str:
        return (
            f'<svg class="plot" role="img" viewBox="0 0 {WIDTH} {self.height}" '
            f'xmlns="http://www.w3.org/2000/svg" {FONT} fill="{INK}">'
            + "".join(self.parts)
            + "</svg>"
        )


def _marks(
    svg: _Svg,
    scale: _Scale,
    across: _Scale,
    vertical: bool,
    p95: float | None,
    ci: tuple[float | None, float | None],
    limits: Sequence[LimitLine],
) -> None:
    """The p95 (solid), its interval (a band, open where a bound is missing), limits (dashed)."""
    a, b = sorted((across.start, across.end))
    lo, hi = ci
    if lo is not None or hi is not None:
        ends = sorted(
            (scale(scale.low if lo is None else lo), scale(scale.high if hi is None else hi))
        )
        x, y, w, h = (ends[0], a, ends[1] - ends[0], b - a)
        if not vertical:
            x, y, w, h = y, x, h, w
        box = f'x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"'
        svg.add(f'<rect {box} fill="{BLUE}" fill-opacity=".15"/>')
    lines = [] if p95 is None else [(p95, BLUE, "")]
    lines += [(lim.value, VERDICT_COLOURS.get(lim.verdict, GREY), "5 3") for lim in limits]
    for value, colour, dash in lines:
        at = _n(scale(value))
        d = f"M{at} {_n(a)}V{_n(b)}" if vertical else f"M{_n(a)} {at}H{_n(b)}"
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        svg.add(f'<path d="{d}" stroke="{colour}" stroke-width="1.6"{dashed}/>')


def latency_svg(
    samples_ms: Sequence[float],
    *,
    p95: float | None,
    p95_ci: tuple[float | None, float | None] | None,
    limits: Sequence[LimitLine] = (),
    confidence: float = 0.95,
) -> str:
    """Histogram of the calls' latencies and the calls in measurement order, in one figure.

    The p95, its confidence interval and every latency limit are marked on both panels, so a
    reader sees at a glance how far the distribution sits from its budget and whether the
    machine changed speed during the run.
    """
    data = _finite(samples_ms)
    ci = p95_ci if p95_ci is not None else (None, None)
    marks = _finite([p95, *ci, *(lim.value for lim in limits)])
    svg = _Svg(250, "latency of every timed call and the calls in measurement order")
    legend = [(BLUE, "band", f"p95 {confidence:.0%} CI")] if any(v is not None for v in ci) else []
    if p95 is not None:
        legend.append((BLUE, "line", f"p95 = {fmt(p95)} ms"))
    legend += [
        (
            VERDICT_COLOURS.get(lim.verdict, GREY),
            "dash",
            f"{lim.metric} limit {fmt(lim.value)} ms"
            + (f" ({lim.verdict})" if lim.verdict in VERDICT_COLOURS else ""),
        )
        for lim in limits
    ]
    svg.legend(legend)
    values = data + marks
    log = bool(data) and min(values) > 0 and max(values) / min(values) > LOG_SPAN
    hx = _scale(values, 62, 520)
    if not log:
        hx = _scale([*values, 0.0], 62, 520, zero=True)
    if data:
        counts = _histogram(data, hx)
        hy = _scale([0.0, float(max(counts))], 205, 32, zero=True)
        hy = _Scale(0.0, hy.high, 205, 32)
        edges = _edges(hx, len(counts))
        d = [f"M{_n(edges[0])} {_n(hy(0))}"]
        for i, count in enumerate(counts):
            d.append(f"V{_n(hy(count))}H{_n(edges[i + 1])}")
        d.append(f"V{_n(hy(0))}Z")
        svg.axes(hx, hy, "latency per call (ms)" + (", log scale" if hx.log else ""), "calls")
        svg.add(f'<path d="{"".join(d)}" fill="{BLUE_LIGHT}" stroke="{BLUE}"/>')
        _marks(svg, hx, hy, True, p95, ci, limits)
        _sequence(svg, data, marks)
    else:
        svg.text(290, 120, "no samples recorded", "middle")
    return svg.done()


def _edges(xs: _Scale, bins: int) -> list[float]:
    return [xs.start + (xs.end - xs.start) * i / bins for i in range(bins + 1)]


def _histogram(data: Sequence[float], xs: _Scale) -> list[int]:
    """Counts in equal-width bins of the drawn axis (equal in log space on a log axis)."""
    bins = int(min(max(2 * math.sqrt(len(data)), 10), 60))
    counts = [0] * bins
    width = xs.end - xs.start
    for value in data:
        share = (xs(value) - xs.start) / width
        counts[min(max(int(share * bins), 0), bins - 1)] += 1
    return counts


def _sequence(svg: _Svg, data: list[float], marks: list[float]) -> None:
    """Every call in the order it ran; above `MAX_POINTS` calls, bucket medians and ranges."""
    n = len(data)
    xs = _Scale(1.0, float(max(n, 2)), 640, 885)
    ys = _scale(data + marks, 205, 32)
    if not ys.log:
        ys = _scale([*data, *marks, 0.0], 205, 32, zero=True)
    label = "call, in measurement order"
    if n <= MAX_POINTS:
        line = [(i + 1.0, v) for i, v in enumerate(data)]
        band: list[tuple[float, float, float]] = []
    else:
        size = n / BUCKETS
        chunks = [(int(i * size), int((i + 1) * size)) for i in range(BUCKETS)]
        parts = [(a, sorted(data[a:b])) for a, b in chunks if b > a]
        line = [((a + len(c) / 2) + 1, c[len(c) // 2]) for a, c in parts]
        band = [((a + len(c) / 2) + 1, c[0], c[-1]) for a, c in parts]
        label = f"call: {n:,} in {len(parts)} buckets (median, min to max)"
    svg.axes(xs, ys, label, "ms", xfmt=lambda v: f"{v:,.0f}")
    if band:
        upper = " ".join(f"{_n(xs(x))},{_n(ys(hi))}" for x, _, hi in band)
        lower = " ".join(f"{_n(xs(x))},{_n(ys(lo))}" for x, lo, _ in reversed(band))
        svg.add(f'<polygon points="{upper} {lower}" fill="{BLUE_LIGHT}"/>')
    points = " ".join(f"{_n(xs(x))},{_n(ys(y))}" for x, y in line)
    svg.add(f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width=".8"/>')


def sweep_svg(curve: Sequence[Mapping[str, Any]], best_batch_size: int | None) -> str:
    """Rows per second and p95 latency against batch size; failing sizes crossed in red."""
    points = [
        p
        for p in curve
        if isinstance(p.get("batch_size"), int | float)
        and not isinstance(p.get("batch_size"), bool)
        and p["batch_size"] > 0
    ]
    sizes = [float(p["batch_size"]) for p in points]
    svg = _Svg(240, "rows per second and p95 latency at each batch size")
    legend = [(BLUE, "line", "rows/s (left axis)"), (ORANGE, "dash", "p95 ms (right axis)")]
    if any(p.get("verdict") == "fail" for p in points):
        legend.append((RED, "cross", "latency limit broken"))
    if best_batch_size is not None:
        legend.append((GREEN, "dash", f"best: {best_batch_size}"))
    svg.legend(legend)
    if not sizes:
        svg.text(450, 120, "no batch size measured", "middle")
        return svg.done()
    xs = _Scale(min(sizes), max(sizes), 80, 820, log=min(sizes) < max(sizes))
    if len(set(sizes)) == 1:
        xs = _Scale(sizes[0] / 2, sizes[0] * 2, 80, 820, log=True)
    rps = [_value(p.get("throughput_rps")) for p in points]
    p95 = [_value(p.get("latency_p95")) for p in points]
    left = _scale(_finite(rps), 200, 32, zero=True)
    right = _scale(_finite(p95), 200, 32, zero=True)
    xs = dataclasses.replace(xs, fixed=tuple(sorted(set(sizes))))
    svg.axes(
        xs, left, "batch size (rows per call)", "rows per second",
        xfmt=lambda v: f"{v:g}",
    )  # fmt: skip
    for v in right.ticks():
        svg.text(826, right(v) + 4, _tick(v))
    svg.text(880, 116, "p95 ms", "middle", transform="rotate(90 880 116)")
    if best_batch_size is not None:
        at = _n(xs(float(best_batch_size)))
        svg.add(f'<path d="M{at} 32V200" stroke="{GREEN}" stroke-dasharray="2 3"/>')
    for series, ys, colour, dash in ((rps, left, BLUE, ""), (p95, right, ORANGE, "5 3")):
        shown = [(xs(x), ys(y)) for x, y in zip(sizes, series, strict=True) if y is not None]
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in shown)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        svg.add(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.6"'
            f"{dashed}/>"
        )
        for x, y in shown:
            svg.add(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{colour}"/>')
    for size, latency, point in zip(sizes, p95, points, strict=True):
        if point.get("verdict") == "fail" and latency is not None:
            cx, cy = xs(size), right(latency)
            svg.add(
                f'<path d="M{_n(cx - 5)} {_n(cy - 5)}l10 10m0-10l-10 10" stroke="{RED}" '
                'stroke-width="2"/>'
            )
    return svg.done()


def cost_svg(tiers: Sequence[Mapping[str, Any]], recommended: str | None) -> str:
    """Monthly cost per tier as horizontal bars: the recommended tier green, ineligible grey."""
    names = [str(t.get("tier", "?")) for t in tiers]
    costs = [_value(t.get("monthly_usd")) for t in tiers]
    shown = [c for c in costs if c is not None and c > 0]
    height = 44 + 22 * max(len(tiers), 1)
    svg = _Svg(height, "monthly cost on each tier")
    label_px = 12 + 6.5 * max((len(n) for n in names), default=4)
    xs = _scale(shown or [1.0], label_px, 700, zero=True)
    bottom = height - 34
    svg.axes(
        xs, _Scale(0.0, 1.0, bottom, 6), "USD per month" + (", log scale" if xs.log else ""), "",
        xfmt=lambda v: f"${v:,.0f}" if v >= 10 else f"${v:,.2g}",
    )  # fmt: skip
    for i, (name, cost, tier) in enumerate(zip(names, costs, tiers, strict=True)):
        y = 12 + 22 * i
        colour = GREEN if name == recommended else (BLUE if tier.get("eligible") else GREY)
        svg.text(label_px - 6, y + 12, name, "end")
        text = "cannot serve" if cost is None else f"${cost:,.2f}"
        end = xs.start
        if cost is not None and cost > 0:
            end = xs(cost)
            svg.add(
                f'<rect x="{_n(xs.start)}" y="{y}" width="{_n(end - xs.start)}" height="15" '
                f'fill="{colour}"/>'
            )
        if not tier.get("eligible"):
            text += "  (not eligible)"
        svg.text(end + 5, y + 12, text)
    return svg.done()


def _value(value: Any) -> float | None:
    """A finite float, or None (a gap) for missing or non-numeric values."""
    found = _finite([value])
    return found[0] if found else None
