"""Helpers shared by the text renderers: one row per result, verdict words, one-line summaries
of sweeps, comparisons and recommendations."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..neutral import neutral
from ..numbers import fmt as num
from ..regression.comparison import Comparison, comparisons_of
from ..results import Verdict
from .comparison import comparison_rows

COLUMNS = (
    "test",
    "model",
    "batch",
    "n",
    "p50 ms",
    "p95 ms [CI]",
    "p99 ms",
    "rows/s",
    "MB",
    "drift",
    "verdict",
)


def result_verdict(entry: dict[str, Any]) -> str:
    """The worst verdict of a result's checks as people read it (``FAIL``, ``pass``), or ``-``."""
    verdict = Verdict.worst(c["verdict"] for c in entry["checks"])
    return "-" if verdict is None else verdict.label


def short_test(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1] if "::" in nodeid else nodeid


def _clip(text: str, width: int = 40) -> str:
    """Long names (a Pipeline's steps) would stretch the whole table."""
    return text if len(text) <= width else text[: width - 1] + "…"


def p95_with_ci(entry: dict[str, Any]) -> str:
    lo, hi = (entry.get("ci_ms", {}).get("p95") or [None, None])[:2]
    text = num(entry["latency_ms"]["p95"])
    if lo is None and hi is None:
        return text
    return f"{text} [{num(lo)}, {num(hi)}]"


def row(entry: dict[str, Any], *, drift: bool = True) -> list[str]:
    lat = entry["latency_ms"]
    memory = entry.get("memory_mb")
    cells = [
        short_test(entry["nodeid"]),
        _clip(
            entry["name"]
            if entry["name"] == entry["model"]
            else f"{entry['name']} ({entry['model']})"
        ),
        str(entry["batch_size"]),
        str(entry["n_samples"]),
        num(lat["p50"]),
        p95_with_ci(entry),
        num(lat["p99"]),
        num(entry["throughput_rps"]),
        "-" if memory is None else num(memory, 3),
        drift_text(entry),
        result_verdict(entry),
    ]
    return cells if drift else cells[:-2] + cells[-1:]


def drift_text(entry: Mapping[str, Any]) -> str:
    """How much the machine's speed moved while the result was timed: '3.1%' (or '-')."""
    stability = entry.get("stability") or {}
    drift = stability.get("speed_drift")
    return "-" if drift is None else f"{drift:.1%}"


def stability_line(report: Mapping[str, Any]) -> str | None:
    """The run's stability in one line, from `summary.stability` (None without results)."""
    figures = (report.get("summary") or {}).get("stability")
    if not figures:
        return None
    share = figures.get("cpu_share_min")
    contended = "" if share is None else f"; CPU share {share:.0%} at the lowest"
    return (
        f"machine stability: speed drift {figures['speed_drift_median']:.1%} median, "
        f"{figures['speed_drift_max']:.1%} at most; slow calls clustered up to "
        f"x{figures['clustering_max']:.1f}{contended}; intervals allow a run spread of "
        f"{figures['run_spread']:.0%}"
    )


def checks_with(report: Mapping[str, Any], verdict: str) -> list[tuple[str, str]]:
    """(nodeid, message) of every check with this verdict."""
    return [
        (e["nodeid"], c["message"])
        for e in report["results"]
        for c in e["checks"]
        if c["verdict"] == verdict
    ]


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Collection[int] = (0, 1)
) -> list[str]:
    """A plain-text table: the `left` columns left-aligned (names), the rest right (figures).
    Cells are neutralised first: a name's control characters can neither split a row nor
    reach the terminal."""
    rows = [[neutral(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]


def label(item: Mapping[str, Any]) -> str:
    """`test (name)` for a result, sweep or comparison, as the tables name it."""
    test = short_test(str(item.get("nodeid") or ""))
    name = str(item.get("name") or item.get("model") or "")
    if not test:
        return name
    return test if not name or name == test else f"{test} ({name})"


def sweep_line(sweep: Mapping[str, Any]) -> str:
    """One sentence per batch-size sweep: the best size, what it reached, and why it stopped."""
    best = sweep.get("best_batch_size")
    point = next((p for p in sweep.get("curve") or [] if p.get("batch_size") == best), None)
    if best is None:
        found = "no batch size passed its latency limits"
    elif point is None:
        found = f"best batch size {best}"
    else:
        found = (
            f"best batch size {best}: {num(point.get('throughput_rps'))} rows/s, "
            f"p95 {num(point.get('latency_p95'))} ms"
        )
    return f"{label(sweep)}: {found}; {sweep.get('stop_reason') or 'stop reason not recorded'}"


def verdict_counts(comparisons: Sequence[Comparison]) -> str:
    """`2 improvement, 1 regression, 9 same`: how many comparisons came out each way."""
    counts = Counter(c.verdict.value for c in comparisons)
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))


def regression_count(report: Mapping[str, Any]) -> str:
    """`, 2 regressions` for the summary line when the run was compared; else nothing."""
    comparisons = comparisons_of(report)
    if not comparisons:
        return ""
    return f", {sum(c.fails_run for c in comparisons)} regressions"


def comparison_line(comparison: Comparison) -> str:
    """One comparison as a line: verdict, test and batch, then its own message (which already
    names the metric, the change and the test), or the figures when it has none."""
    test, batch, metric, base, current, change, p, verdict = comparison_rows([comparison])[0]
    message = comparison.message.removeprefix(f"{comparison.verdict.value}: ")
    figures = f"{metric} {base} -> {current} ({change}, p={p})"
    return f"{verdict} {test} batch {batch}: {message or figures}"


def recommendation_lines(item: object) -> list[str]:
    """Sentences of one `recommendations` entry, whatever its shape: the list is open-ended
    (advisor records, plain strings, entries of later versions), so nothing here may raise."""
    if isinstance(item, str):
        return [item]
    if isinstance(item, Mapping):
        who = short_test(str(item.get("nodeid") or item.get("model") or ""))
        nested = item.get("recommendations")
        texts = (
            [str(x) for x in nested]
            if isinstance(nested, list)
            else [str(item[k]) for k in ("sentence", "message", "text") if item.get(k)][:1]
        )
        if texts:
            return [f"{who}: {t}" if who else t for t in texts]
    return [json.dumps(item, default=str, sort_keys=True)]
