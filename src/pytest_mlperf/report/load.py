"""Load and capacity results in the reports: one line each, tables, and the HTML figures.

Reads only report entries (their `load` and `capacity` objects), like every renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..numbers import fmt


def load_entries(results: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries measured under load (capacity runs included)."""
    return [e for e in results if isinstance(e.get("load"), Mapping)]


def predicted_entries(results: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Single-call entries with latency predicted under load (model_bench.predict_load)."""
    return [
        e for e in results if not isinstance(e.get("load"), Mapping) and e.get("predicted_load")
    ]


def _figures(prediction: Mapping[str, Any]) -> str:
    if not prediction.get("stable", True):
        return f"unstable (utilisation {fmt(prediction.get('utilisation'))})"
    lat = prediction.get("latency_ms") or {}
    return (
        f"p95 {fmt(lat.get('p95'))} ms, p99 {fmt(lat.get('p99'))} ms (utilisation "
        f"{fmt(prediction.get('utilisation'))})"
    )


def prediction_line(entry: Mapping[str, Any]) -> str:
    """`test - name: predicted under load at 100 rps x 2 workers: p95 ... ; ...`."""
    parts = [
        f"{fmt(p.get('rps'))} rps x {p.get('workers')} worker(s): {_figures(p)}"
        for p in entry.get("predicted_load") or []
        if isinstance(p, Mapping)
    ]
    return f"{_test(entry)} - {entry.get('name')}: predicted under load at " + "; ".join(parts)


def _test(entry: Mapping[str, Any]) -> str:
    nodeid = str(entry.get("nodeid") or "")
    return nodeid.rsplit("::", 1)[-1] if nodeid else str(entry.get("name") or "")


def _predicted(load: Mapping[str, Any], metric: str) -> str:
    predicted = load.get("predicted")
    if not isinstance(predicted, Mapping):
        return "n/a"
    if not predicted.get("stable", True):
        return "unstable"
    return fmt((predicted.get("latency_ms") or {}).get(metric))


def load_line(entry: Mapping[str, Any]) -> str:
    """`test - name: 100 rps (98.7 achieved), 2 threads: p95 31 ms (predicted 28 ms) ...`."""
    load = entry["load"]
    lat = entry.get("latency_ms") or {}
    queue, service = load.get("queue_ms") or {}, load.get("service_ms") or {}
    text = (
        f"{_test(entry)} - {entry.get('name')}: {fmt(load.get('rps'))} rps offered "
        f"({fmt(load.get('achieved_rps'))} achieved), {load.get('workers')} "
        f"{load.get('pool')}, {load.get('arrival')}: p95 {fmt(lat.get('p95'))} ms (predicted "
        f"{_predicted(load, 'p95')}), p99 {fmt(lat.get('p99'))} ms; queue p95 "
        f"{fmt(queue.get('p95'))} ms, service p95 {fmt(service.get('p95'))} ms; dropped "
        f"{load.get('dropped', 0)}, timeouts {load.get('timeouts', 0)}"
    )
    single = [p for p in entry.get("predicted_load") or [] if isinstance(p, Mapping)]
    if single:
        text += f"; predicted from the single calls: {_figures(single[-1])}"
    if load.get("saturated"):
        text += f"; SATURATED: {load.get('saturation_reason')}"
    return text


def capacity_line(entry: Mapping[str, Any]) -> str:
    """`test - name: capacity 142 rps [142, 150] within p95 <= 50 ms, 2 threads (reason)`."""
    cap = entry["capacity"]
    lo, hi = [*list(cap.get("bracket") or []), None, None][:2]
    limits = ", ".join(f"{k} <= {v:g} ms" for k, v in (cap.get("limits") or {}).items())
    return (
        f"{_test(entry)} - {entry.get('name')}: capacity {fmt(cap.get('max_rps'))} requests/s "
        f"[bracket {fmt(lo)}, {fmt(hi)}] within {limits}, {cap.get('workers')} "
        f"{cap.get('pool')} worker(s); {cap.get('stop_reason')}"
    )


LOAD_HEADER = (
    "test", "name", "rps", "achieved", "workers", "p95 ms", "predicted p95", "queue p95",
    "service p95", "saturated",
)  # fmt: skip
CURVE_HEADER = ("rps", "achieved", "p50 ms", "p95 ms", "p99 ms", "queue p95", "held")


def load_rows(entries: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for e in entries:
        load = e["load"]
        rows.append(
            [
                _test(e),
                str(e.get("name")),
                fmt(load.get("rps")),
                fmt(load.get("achieved_rps")),
                f"{load.get('workers')} {load.get('pool')}",
                fmt((e.get("latency_ms") or {}).get("p95")),
                _predicted(load, "p95"),
                fmt((load.get("queue_ms") or {}).get("p95")),
                fmt((load.get("service_ms") or {}).get("p95")),
                "yes" if load.get("saturated") else "no",
            ]
        )
    return rows


def curve_rows(capacity: Mapping[str, Any]) -> list[list[str]]:
    return [
        [
            fmt(p.get("rps")),
            fmt(p.get("achieved_rps")),
            fmt(p.get("latency_p50")),
            fmt(p.get("latency_p95")),
            fmt(p.get("latency_p99")),
            fmt(p.get("queue_p95")),
            ("yes" if p.get("held") else "no") + (" (saturated)" if p.get("saturated") else ""),
        ]
        for p in capacity.get("curve") or []
        if isinstance(p, Mapping)
    ]


def terminal_lines(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per load run and per capacity found, for the end-of-run summary."""
    lines = [f"predicted {prediction_line(e)}" for e in predicted_entries(results)]
    for entry in load_entries(results):
        if isinstance(entry.get("capacity"), Mapping):
            lines.append(f"capacity {capacity_line(entry)}")
        else:
            lines.append(f"load {load_line(entry)}")
    return lines
