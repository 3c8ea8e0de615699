"""Figures for load and capacity, as plain SVG: the latency-vs-rate "hockey stick" with the
limits and the capacity marked, and the split of latency under load into queueing and service
time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .plots import BLUE, GREEN, INK, ORANGE, RED, _finite, _n, _scale, _Svg, _tick, _value


def _polyline(svg: _Svg, points: list[tuple[float, float]], colour: str, dash: str) -> None:
    coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    svg.add(
        f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.6"{dashed}/>'
    )
    for x, y in points:
        svg.add(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{colour}"/>')


def capacity_svg(capacity: Mapping[str, Any]) -> str:
    """p95 and p99 latency against the offered rate; limits dashed, capacity dotted in green,
    runs that did not hold crossed in red (a log latency axis when saturation dwarfs them)."""
    curve = sorted(
        (p for p in capacity.get("curve") or [] if isinstance(p, Mapping)),
        key=lambda p: _value(p.get("rps")) or 0.0,
    )
    rps = [_value(p.get("rps")) for p in curve]
    p95 = [_value(p.get("latency_p95")) for p in curve]
    p99 = [_value(p.get("latency_p99")) for p in curve]
    limits = {str(k): v for k, v in (capacity.get("limits") or {}).items() if _value(v)}
    max_rps = _value(capacity.get("max_rps"))
    svg = _Svg(250, "latency against the offered request rate")
    legend = [(BLUE, "line", "p95"), (ORANGE, "dash", "p99")]
    legend += [(INK, "dash", f"{metric} limit") for metric in limits]
    if any(not p.get("held") for p in curve):
        legend.append((RED, "cross", "not held"))
    if max_rps:
        legend.append((GREEN, "dash", f"capacity {max_rps:,.4g}"))
    svg.legend(legend)
    xs_values = _finite([*rps, max_rps])
    if not xs_values:
        svg.text(450, 125, "no request rate measured", "middle")
        return svg.done()
    xs = _scale(xs_values, 80, 860, zero=True)
    ys = _scale(_finite([*p95, *p99, *limits.values()]), 210, 32, zero=True)
    svg.axes(xs, ys, "offered requests per second", "latency (ms)")
    for value in limits.values():
        at = _n(ys(float(value)))
        svg.add(f'<path d="M80 {at}H860" stroke="{INK}" stroke-dasharray="5 3"/>')
    if max_rps:
        at = _n(xs(max_rps))
        svg.add(
            f'<path d="M{at} 32V210" stroke="{GREEN}" stroke-width="1.4" stroke-dasharray="2 3"/>'
        )
    for series, colour, dash in ((p95, BLUE, ""), (p99, ORANGE, "5 3")):
        pairs = zip(rps, series, strict=True)
        shown = [(xs(x), ys(y)) for x, y in pairs if x is not None and y is not None]
        _polyline(svg, shown, colour, dash)
    for point, x, y in zip(curve, rps, p95, strict=True):
        if not point.get("held") and x and y is not None:
            cx, cy = xs(x), ys(y)
            svg.add(
                f'<path d="M{_n(cx - 5)} {_n(cy - 5)}l10 10m0-10l-10 10" stroke="{RED}" '
                'stroke-width="2"/>'
            )
    return svg.done()


def split_svg(queue_ms: Mapping[str, Any], service_ms: Mapping[str, Any]) -> str:
    """Queueing and service time at p50, p95 and p99, side by side."""
    metrics: Sequence[str] = ("p50", "p95", "p99")
    queue = [_value(queue_ms.get(m)) for m in metrics]
    service = [_value(service_ms.get(m)) for m in metrics]
    svg = _Svg(200, "queueing and service time under load")
    svg.legend([(ORANGE, "band", "queueing"), (BLUE, "band", "service")])
    ys = _scale([0.0, *_finite([*queue, *service])], 160, 32, zero=True)
    ys = type(ys)(0.0, ys.high, 160, 32)  # bars start at zero: a linear axis
    slot = (860 - 80) / len(metrics)
    svg.add(f'<path d="M80 32V160H860" stroke="{INK}" fill="none"/>')
    for v in ys.ticks():
        svg.text(76, ys(v) + 4, _tick(v), "end")
    svg.text(38, 96, "ms", "middle", transform="rotate(-90 38 96)")
    for i, metric in enumerate(metrics):
        left = 80 + slot * i + slot * 0.2
        for j, (value, colour) in enumerate(((queue[i], ORANGE), (service[i], BLUE))):
            if value is None:
                continue
            top = ys(value)
            svg.add(
                f'<rect x="{_n(left + j * slot * 0.3)}" y="{_n(top)}" '
                f'width="{_n(slot * 0.28)}" height="{_n(160 - top)}" fill="{colour}"/>'
            )
        svg.text(80 + slot * (i + 0.5), 176, metric, "middle")
    return svg.done()
