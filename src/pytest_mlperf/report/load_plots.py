"""Figures for load and capacity: the latency-vs-rate "hockey stick" with the limits and the
capacity marked, and the split of latency under load into queueing and service time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

from .plots import (
    _RC,
    BLUE,
    GREEN,
    INK,
    ORANGE,
    RED,
    _figure,
    _log,
    _or_nan,
    _style,
    _to_svg,
    _wide,
)


def capacity_svg(capacity: Mapping[str, Any]) -> str:
    """p95 and p99 latency against the offered rate; limits dashed, capacity dotted in green,
    runs that did not hold crossed in red."""
    curve = sorted(
        (p for p in capacity.get("curve") or [] if isinstance(p, Mapping)),
        key=lambda p: _or_nan(p.get("rps")),
    )
    rps = [_or_nan(p.get("rps")) for p in curve]
    p95 = [_or_nan(p.get("latency_p95")) for p in curve]
    p99 = [_or_nan(p.get("latency_p99")) for p in curve]
    with matplotlib.rc_context(_RC):
        fig = _figure(9.0, 2.7, left=0.09, right=0.98)
        ax = fig.subplots()
        _style(ax)
        ax.set_xlabel("offered requests per second")
        ax.set_ylabel("latency (ms)")
        limits = capacity.get("limits") or {}
        shown = [v for v in (*p95, *p99) if v == v]  # not NaN
        far = bool(limits) and bool(shown) and max(shown) > 4 * max(limits.values())
        if far or _wide([*p95, *p99, *limits.values()]):
            _log(ax, "y")  # saturated steps would squash the limit's neighbourhood
        ax.plot(rps, p95, "o-", color=BLUE, lw=1.6, ms=4, label="p95")
        ax.plot(rps, p99, "s--", color=ORANGE, lw=1.2, ms=3, label="p99")
        missed = [i for i, p in enumerate(curve) if not p.get("held")]
        if missed:
            ax.plot(
                [rps[i] for i in missed], [p95[i] for i in missed], "x", color=RED, ms=9,
                mew=2, label="not held",
            )  # fmt: skip
        for metric, value in limits.items():
            ax.axhline(float(value), color=INK, lw=1.0, ls="--", label=f"{metric} limit")
        max_rps = capacity.get("max_rps")
        if isinstance(max_rps, int | float) and max_rps > 0:
            ax.axvline(
                float(max_rps), color=GREEN, lw=1.4, ls=":", label=f"capacity {max_rps:,.4g}"
            )
        ax.legend(loc="upper left")
        return _to_svg(fig)


def split_svg(queue_ms: Mapping[str, Any], service_ms: Mapping[str, Any]) -> str:
    """Queueing and service time at p50, p95 and p99, side by side."""
    metrics: Sequence[str] = ("p50", "p95", "p99")
    xs = range(len(metrics))
    queue = [_or_nan(queue_ms.get(m)) for m in metrics]
    service = [_or_nan(service_ms.get(m)) for m in metrics]
    with matplotlib.rc_context(_RC):
        fig = _figure(9.0, 2.2, left=0.09, right=0.98)
        ax = fig.subplots()
        _style(ax)
        ax.bar([x - 0.2 for x in xs], queue, width=0.4, color=ORANGE, label="queueing")
        ax.bar([x + 0.2 for x in xs], service, width=0.4, color=BLUE, label="service")
        ax.set_xticks(list(xs), list(metrics))
        ax.set_ylabel("ms")
        ax.legend(loc="upper left")
        return _to_svg(fig)
