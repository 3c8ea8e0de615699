"""report.md: verdict first, one compact table, details folded away (fit for a PR comment).

GitHub refuses a comment body over 65,536 characters and a large step summary is unreadable,
so the page is built from parts that each have ever shorter forms. When the whole is too long,
raw detail goes first (cost line items, every check, unchanged comparisons, sweep curves),
then summaries; the verdict, broken budgets, regressions and errors go last and only as far as
needed, and a note says what was shortened: report.json and report.html keep everything.
Sizes are counted in UTF-8 bytes, never fewer than the characters GitHub counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..numbers import fmt as num
from ..numbers import usd
from ..regression.comparison import Comparison, comparisons_of, flagged
from ..results import RunVerdict
from .common import (
    checks_with,
    comparison_line,
    label,
    recommendation_lines,
    regression_count,
    row,
    stability_line,
    sweep_line,
    verdict_counts,
)
from .comparison import COLUMNS as COMPARISON_COLUMNS
from .comparison import comparison_rows
from .cost import cost_markdown, total_line
from .escape import escape_md
from .load import (
    CURVE_HEADER,
    LOAD_HEADER,
    capacity_line,
    curve_rows,
    load_entries,
    load_line,
    load_rows,
    predicted_entries,
    prediction_line,
)

LIMIT = 65_536  # characters in a GitHub comment body
NOTE_RESERVE = 1_000  # bytes kept free for the note that says what was shortened


def _size(lines: Sequence[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


@dataclass
class _Part:
    """One piece of the page: its forms, fullest first, and what each step down leaves out.

    Past its last form, a part with `items` (rows of a table, entries of a list) is clipped to
    a byte budget, keeping the first items; `more(n)` says that n were left out.
    """

    forms: list[list[str]]
    cuts: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    more: Callable[[int], list[str]] | None = None
    what: str = ""
    level: int = 0
    clipped: list[str] | None = None
    size: int = 0

    def __post_init__(self) -> None:
        self.size = _size(self.lines)

    @property
    def lines(self) -> list[str]:
        return self.forms[self.level] if self.clipped is None else self.clipped

    def shorten(self, budget: int) -> str | None:
        """Step down to the next form, else clip the items to `budget` bytes; say what that
        left out (None: nothing)."""
        if self.level + 1 < len(self.forms):
            self.level += 1
            self.size = _size(self.lines)
            return self.cuts[self.level - 1]
        if self.more is None or self.size <= budget:
            return None
        kept, used = 0, _size(self.head) + _size(self.more(len(self.items))) + 1
        for item in self.items:
            used += _size([item])
            if used > budget:
                break
            kept += 1
        left = len(self.items) - kept
        self.clipped = [*self.head, *self.items[:kept], *self.more(left), ""]
        self.size = _size(self.clipped)
        return f"{left:,} {self.what}"


def _table(header: Sequence[str], rows: list[list[str]], right_from: int) -> list[str]:
    """Escaped GFM table; columns from `right_from` on are right-aligned (figures)."""
    rule = "|" + "|".join("---" if i < right_from else "---:" for i in range(len(header))) + "|"
    cells = [" | ".join(escape_md(c) for c in r) for r in rows]
    return ["| " + " | ".join(header) + " |", rule, *[f"| {c} |" for c in cells]]


def _folded(title: str, body: list[str]) -> list[str]:
    """A collapsed <details> section; blank lines around the body keep its Markdown alive."""
    while body and not body[-1].strip():
        body = body[:-1]
    if not body:
        return []
    return [f"<details><summary>{escape_md(title)}</summary>", "", *body, "", "</details>", ""]


def _listed(title: str, items: list[str], what: str) -> _Part:
    """A heading and a bulleted list that is clipped only as a last resort."""
    head = [f"### {title}", ""] if items else []

    def more(n: int) -> list[str]:
        return [f"- … and {n:,} more {what} in report.json"] if n else []

    lines = [*head, *items, ""] if items else []
    return _Part([lines], items=items, head=head, more=more, what=what)


# A PR comment's column is about 850 px wide: the verdict and the p95 come first so that they
# show without scrolling sideways; the wide interval and the model's name come last.
MD_ORDER = (9, 0, 5, 4, 7, 2, 3, 6, 8, 1)  # indices into COLUMNS / `row`
MD_COLUMNS = (
    *("verdict", "test", "p95 ms", "p50 ms", "rows/s", "batch", "calls", "p95 CI", "p99 ms"),
    *("MB", "model"),
)
CHECKS_TITLE = "Every check (figures when its verdict was reached)"
TABLE_NOTE = (
    "*Figures over all timed calls; each check quotes its figure and call count when its "
    "verdict was reached.*"
)


def _md_row(entry: dict[str, Any]) -> list[str]:
    """`row`'s cells in `MD_ORDER`, the p95 split from its interval."""
    cells = row(entry, drift=False)  # the head line gives the run's stability instead
    p95, _, ci = cells[5].partition(" ")
    cells = [cells[i] for i in MD_ORDER]
    return [*cells[:2], p95, *cells[3:7], ci, *cells[7:]]


def _results_part(results: list[dict[str, Any]]) -> _Part:
    """The compact table; clipped, it keeps the results that failed or are undecided first."""
    rows = [_md_row(e) for e in results]
    full = [*_table(MD_COLUMNS, rows, right_from=2), "", TABLE_NOTE]
    urgent_first = sorted(rows, key=lambda r: r[0] not in ("FAIL", "INCONCLUSIVE"))
    items = _table(MD_COLUMNS, urgent_first, right_from=2)[2:]

    def more(n: int) -> list[str]:
        return ["", f"*… and {n:,} more results in report.json and report.html*"] if n else []

    return _Part(
        [[*full, ""]], items=items, head=full[:2], more=more, what="results from the table"
    )


def _check_lines(report: Mapping[str, Any]) -> list[str]:
    return [
        f"- **{escape_md(c['verdict'])}** {escape_md(e['nodeid'])}: {escape_md(c['message'])}"
        for e in report["results"]
        for c in e["checks"]
    ]


def _comparisons_part(comparisons: list[Comparison]) -> _Part:
    title = f"Comparisons: {verdict_counts(comparisons)}"

    def form(chosen: list[Comparison]) -> list[str]:
        table = _table(COMPARISON_COLUMNS, comparison_rows(chosen), right_from=3)
        return _folded(title, table if chosen else ["Nothing changed beyond the tolerance."])

    forms = [form(comparisons), form(flagged(comparisons)), []]
    return _Part(forms, ["unchanged comparisons", "the comparison table"])


def _costs_part(costs: list[dict[str, Any]], limit: int) -> _Part:
    total = total_line(costs)
    title = "Monthly cost estimates" + (f": {total}" if total else "")
    rows = [
        [
            label(c),
            str(c.get("batch_size")),
            str(c.get("recommended") or "none eligible"),
            usd(c.get("recommended_monthly_usd")),
        ]
        for c in costs
    ]
    compact = _table(("benchmark", "batch", "recommended tier", "monthly"), rows, right_from=1)
    full = cost_markdown(costs, max_chars=limit)  # longer than the whole page: cut anyway
    forms = [_folded(title, [full]), _folded(title, compact), []]
    return _Part(forms, ["cost tables per tier", "the cost summary"])


def _sweeps_part(sweeps: list[dict[str, Any]]) -> _Part:
    title = f"Batch-size sweeps ({len(sweeps)})"
    lines = [f"- {escape_md(sweep_line(s))}" for s in sweeps]
    curves: list[str] = []
    for sweep, line in zip(sweeps, lines, strict=True):
        points = [
            [
                str(p.get("batch_size")),
                num(p.get("throughput_rps")),
                num(p.get("latency_p95")),
                str(p.get("verdict")),
            ]
            for p in sweep.get("curve") or []
        ]
        curves += [line, "", *_table(("batch", "rows/s", "p95 ms", "verdict"), points, 0), ""]
    forms = [_folded(title, curves), _folded(title, lines), []]
    return _Part(forms, ["batch-size curves", "sweep summaries"])


def _environment(report: Mapping[str, Any]) -> list[str]:
    env, settings = report["environment"], report["settings"]
    lines = [
        f"- Machine: {escape_md(env.get('cpu'))}, {env.get('cpu_count')} CPUs, "
        f"{escape_md(env.get('platform'))}; fingerprint {escape_md(env.get('fingerprint'))}",
        f"- Python {escape_md(env.get('python'))}; load average {env.get('load_average')}",
        f"- Confidence {settings.get('confidence')}; max time {settings.get('max_time')} s per "
        f"measurement; percentiles: {escape_md(settings.get('percentile_method'))}",
        f"- pytest-mlperf {escape_md(report.get('plugin_version'))}, "
        f"report created {escape_md(report.get('created'))}",
    ]
    lines += [
        f"- Shard {i}: {escape_md(s.get('source'))}, machine "
        f"{escape_md((s.get('environment') or {}).get('fingerprint'))}"
        for i, s in enumerate(report.get("shards") or [])
    ]
    return lines


def _load_part(results: list[dict[str, Any]]) -> _Part:
    """Runs under load and capacities found: one line each, then their tables and curves."""
    entries = load_entries(results)
    predicted = [f"- {escape_md(prediction_line(e))}" for e in predicted_entries(results)]
    if not entries and not predicted:
        return _Part([[]])
    title = f"Under load and capacity ({len(entries) + len(predicted)})"
    lines, tables = list(predicted), list(predicted)
    for entry in entries:
        capacity = entry.get("capacity")
        if isinstance(capacity, Mapping):
            line = f"- {escape_md(capacity_line(entry))}"
            lines.append(line)
            tables += [line, "", *_table(CURVE_HEADER, curve_rows(capacity), 0), ""]
        else:
            lines.append(f"- {escape_md(load_line(entry))}")
    runs = [e for e in entries if not isinstance(e.get("capacity"), Mapping)]
    if runs:
        tables = [*_table(LOAD_HEADER, load_rows(runs), 2), "", *tables]
    return _Part([_folded(title, tables), _folded(title, lines), []], ["load tables", "load runs"])


def _parts(report: Mapping[str, Any], limit: int) -> dict[str, _Part]:
    """Every part of the page in page order."""
    summary = report["summary"]
    icon = "✅" if summary["verdict"] == "pass" else "❌"
    head = [
        f"## {icon} pytest-mlperf: {escape_md(RunVerdict.label_of(summary['verdict']))}",
        "",
        f"{summary['benchmarks']} benchmarks, {summary['checks']} checks: "
        f"{summary['failed_checks']} failed, {summary['inconclusive_checks']} inconclusive, "
        f"{summary.get('errors', 0)} errors{regression_count(report)}.",
        "",
    ]
    if report.get("interrupted"):
        head += ["**Interrupted:** the run was stopped before its end; this report is partial.", ""]
    if report.get("lost"):
        lost = ", ".join(escape_md(n) for n in report["lost"])
        head += [f"**Lost** (their worker crashed): {lost}", ""]
    steadiness = stability_line(report)
    head += [f"{escape_md(steadiness[0].upper() + steadiness[1:])}.", ""] if steadiness else []
    budget = report.get("budget")
    if budget:
        head += [
            f"**Session budget: {escape_md(budget['verdict'])}** — {escape_md(budget['message'])}",
            "",
        ]
    comparisons = comparisons_of(report)

    def bullets(pairs: list[tuple[str, str]]) -> list[str]:
        return [f"- {escape_md(n)}: {escape_md(m)}" for n, m in pairs]

    errors = [(str(e.get("nodeid")), str(e.get("message"))) for e in report.get("errors") or []]
    regressions = [c for c in comparisons if c.fails_run]
    recommendations = [
        f"- {escape_md(line)}"
        for item in report.get("recommendations") or []
        for line in recommendation_lines(item)
    ]
    return {
        "head": _Part([head]),
        "broken": _listed("Broken budgets", bullets(checks_with(report, "fail")), "failed checks"),
        "regressions": _listed(
            "Regressions",
            [f"- {escape_md(comparison_line(c))}" for c in regressions],
            "regressions",
        ),
        "errors": _listed("Errors", bullets(errors), "errors"),
        "inconclusive": _listed(
            "Inconclusive", bullets(checks_with(report, "inconclusive")), "inconclusive checks"
        ),
        "warnings": _listed(
            "Warnings", [f"- {escape_md(w)}" for w in report.get("warnings") or []], "warnings"
        ),
        "results": _results_part(list(report["results"])),
        "checks": _Part([_folded(CHECKS_TITLE, _check_lines(report)), []], ["every check"]),
        "comparisons": _Part([[]]) if not comparisons else _comparisons_part(comparisons),
        "costs": _Part([[]]) if not report.get("costs") else _costs_part(report["costs"], limit),
        "load": _load_part(list(report["results"])),
        "sweeps": _Part([[]]) if not report.get("sweeps") else _sweeps_part(report["sweeps"]),
        "recommendations": _Part(
            [_folded("Recommendations", recommendations), []], ["recommendations"]
        ),
        "environment": _Part(
            [_folded("Environment and method", _environment(report)), []], ["the environment"]
        ),
    }


# What goes first when the page is too long: raw detail, then summaries, then rows of the
# results table (passing ones first); the verdict, broken budgets, regressions and errors are
# never dropped, only clipped as a last resort.
ORDER = ("costs", "checks", "comparisons", "sweeps", "load", "recommendations", "costs", "sweeps",
         "load", "results", "comparisons", "environment",
         "results", "warnings", "inconclusive", "errors", "regressions", "broken")  # fmt: skip


def _shorten(parts: dict[str, _Part], limit: int) -> list[str]:
    """Shorten parts until the page fits in `limit` bytes; what was left out, in order."""
    budget = limit - NOTE_RESERVE
    total = sum(p.size for p in parts.values())
    left_out: dict[str, str] = {}  # a part clipped twice is named once, with its last count
    for key in ORDER:
        if total <= budget:
            break
        part = parts[key]
        before = part.size
        cut = part.shorten(budget - (total - before))
        total += part.size - before
        if cut:
            left_out[key if part.clipped else cut] = cut
    return list(left_out.values())


def _note(left_out: list[str]) -> list[str]:
    return [
        f"> **Note:** shortened to fit GitHub's {LIMIT:,}-character limit "
        f"(left out: {escape_md('; '.join(left_out))}). "
        "report.json and report.html have everything.",
        "",
    ]


def render_markdown(report: Mapping[str, Any], *, limit: int = LIMIT) -> str:
    """The report record as Markdown of at most `limit` UTF-8 bytes."""
    parts = _parts(report, limit)
    if sum(p.size for p in parts.values()) <= limit:
        return "\n".join(line for p in parts.values() for line in p.lines)
    left_out = _shorten(parts, limit)
    head = parts.pop("head").lines
    text = "\n".join([*head, *_note(left_out), *(line for p in parts.values() for line in p.lines)])
    if len(text.encode("utf-8")) > limit:  # only with absurdly long single lines
        text = "\n".join([*head, *_note(["everything but the verdict"])])
    return text
