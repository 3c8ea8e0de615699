"""report.html: one self-contained page, rendered from the report record alone.

The page opens offline and from an artifact viewer: styles are inline, figures are small
inline SVG written directly (`plots.py`), and a Content-Security-Policy forbids scripts and
every outside resource, so even a bug in escaping could not run code or call home. All text
from the record goes through Jinja2's auto-escaping. The verdict, broken budgets, regressions
and errors come first; each benchmark's details, cost tables and comparisons are folded one
click away, so a page of a thousand benchmarks stays small and quick to open. Sections whose
data is absent are left out: the record of an ordinary run has no sweeps, costs or
comparisons.

jinja2 is a dependency; should it be missing, `render_html` raises `HtmlUnavailable`, whose
message says how to install it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..judge import MEAN_CI_MISSING
from ..marks import PERCENTILES
from ..numbers import finite, fmt, usd
from ..numbers import p_value as format_p
from ..regression.comparison import Comparison, ComparisonKind, comparisons_of
from ..results import RunVerdict
from .common import drift_text, result_verdict, short_test, stability_line

if TYPE_CHECKING:
    from jinja2 import Environment

DASH = "\u2013"  # en dash: a value the record does not have
INSTALL_HINT = "report.html needs jinja2: pip install 'pytest-mlperf[html]'"
# Beyond these counts the rest get tables only (failed first), so that a page of a thousand
# benchmarks stays under about 5 MB and opens in a second or two.
MAX_LATENCY_FIGURES = 100
MAX_SWEEP_FIGURES = 20
UNFOLDED_RESULTS = 50  # above, the tables show what failed and fold the rest
MAX_COST_DETAILS = 50  # benchmarks whose every tier (and cost figure) the page shows
LATENCY_METRICS = (*PERCENTILES, "mean")
HIGHER_IS_BETTER = ("throughput",)
VERDICT_CLASSES = {
    "pass": "pass",
    "fail": "fail",
    "inconclusive": "warn",
    "regression": "fail",
    "warn": "warn",
    "unknown": "warn",
    "improvement": "pass",
    "same": "neutral",
    "new": "neutral",
    "missing": "warn",
}
COMPARISON_ORDER = ("regression", "warn", "unknown", "missing", "improvement", "new", "same")


class HtmlUnavailable(RuntimeError):
    """report.html was asked for, but jinja2 is not installed."""


def html_available() -> bool:
    """True when jinja2 is installed (callers may skip report.html otherwise)."""
    try:
        _modules()
    except HtmlUnavailable:
        return False
    return True


@functools.cache
def _modules() -> tuple[Any, Callable[[str], Any]]:
    """The plots module and markupsafe's Markup, or `HtmlUnavailable` saying what to install."""
    try:
        import jinja2  # noqa: F401
        from markupsafe import Markup

        from . import plots
    except ImportError as exc:
        raise HtmlUnavailable(f"{INSTALL_HINT} ({exc})") from exc
    return plots, Markup


@functools.cache
def _environment() -> Environment:
    _modules()
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_mlperf.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: Mapping[str, Any]) -> str:
    """The report record as one HTML page (raises `HtmlUnavailable` without jinja2)."""
    plots, markup = _modules()
    page = Page(report, plots, markup)
    return _environment().get_template("report.html.j2").render(page.context())


# --- formatting -------------------------------------------------------------------------------


def num(value: Any, digits: int = 4) -> str:
    """A figure as the other reports print it; a dash for missing or non-numeric values."""
    number = finite(value)
    return DASH if number is None else fmt(number, digits)


def interval(pair: Any) -> str:
    """`[lo, hi]`, with an open side where too few calls bound it; empty when there is none."""
    if not isinstance(pair, list | tuple) or len(pair) < 2:
        return ""
    lo, hi = (finite(v) for v in pair[:2])
    if lo is None and hi is None:
        return ""
    return f"[{fmt(lo)}, {fmt(hi)}]"  # an open end reads "n/a", as in report.md and the terminal


_BREAK_AFTER = re.compile(r"(?<=[_./:\-\[,])(?=.)")


def test_name(nodeid: str) -> Any:
    """The test's own id parts, function then parameters, with a line-break opportunity after
    each `_ . / : - [ ,` so that a narrow column wraps there and never inside a word."""
    from markupsafe import Markup, escape

    def wrappable(text: str) -> str:
        return "<wbr>".join(str(escape(part)) for part in _BREAK_AFTER.split(text))

    name = short_test(nodeid)
    function, bracket, params = name.partition("[")
    html = f'<code class="name">{wrappable(function)}</code>'
    if bracket:
        html += f' <code class="name param">[{wrappable(params)}</code>'
    return Markup(html)


def _missing(key: str) -> str:
    """Why the mean has no interval (percentiles without one have no lower bound at all)."""
    return MEAN_CI_MISSING if key == "mean" else ""


def css_class(verdict: Any) -> str:
    """A fixed set of class names, whatever the record says."""
    return VERDICT_CLASSES.get(str(verdict).lower(), "neutral")


def distance(check: Mapping[str, Any]) -> str:
    """How far the value is from its limit, in the direction that breaks it."""
    value, limit = finite(check.get("value")), finite(check.get("limit"))
    if value is None or limit is None or limit == 0:
        return ""
    change = value / limit - 1.0
    size = f"{abs(change):.{1 if abs(change) < 0.1 else 0}%}"
    if check.get("metric") in HIGHER_IS_BETTER:
        return f"{size} under" if change < 0 else f"{size} above"
    return f"+{size} over" if change > 0 else f"{size} under"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


# --- the page ---------------------------------------------------------------------------------


class Page:
    """What the template shows, computed once from the record; figures drawn here."""

    def __init__(self, report: Mapping[str, Any], plots: Any, markup: Callable[[str], Any]):
        self.report = report
        self.plots = plots
        self.markup = markup
        self.results = [_dict(e) for e in _list(report.get("results"))]
        self.notes: list[str] = []
        self.cost_folded = ""

    def context(self) -> dict[str, Any]:
        comparisons = self._comparisons()
        costs = self._costs()
        return {
            "title": self._title(),
            "created": _text(self.report.get("created")),
            "version": _text(self.report.get("plugin_version")),
            "summary": self._summary(),
            "broken": self._checks_with("fail"),
            "inconclusive": self._checks_with("inconclusive"),
            "regressions": [c for c in comparisons if c["fails_run"]],
            "errors": self._errors(),
            "warnings": self._incomplete() + [str(w) for w in _list(self.report.get("warnings"))],
            "stability": stability_line(self.report),
            "results": self._results(),
            "results_folded": len(self.results) > UNFOLDED_RESULTS,
            "sweeps": self._sweeps(),
            "loads": self._loads(),
            "costs": costs,
            "cost_shared": self._shared(costs),
            "cost_folded": self.cost_folded,
            "cost_total": self._cost_total(),
            "comparisons": [c for c in comparisons if c["verdict"] != "same"],
            "unchanged": [c for c in comparisons if c["verdict"] == "same"],
            "recommendations": self._recommendations(),
            "machine": self._machine(),
            "environment": _dict(self.report.get("environment")),
            "settings": _dict(self.report.get("settings")),
            "notes": self.notes,
        }

    def _incomplete(self) -> list[str]:
        """An interrupted run or lost tests, said first: the page shows only part of a run."""
        out = []
        if self.report.get("interrupted"):
            out.append("Interrupted: the run was stopped before its end; this report is partial.")
        lost = [str(n) for n in _list(self.report.get("lost"))]
        if lost:
            out.append(f"Lost (their worker crashed): {', '.join(lost)}")
        return out

    def _title(self) -> str:
        verdict = _dict(self.report.get("summary")).get("verdict", "")
        return (
            f"pytest-mlperf: {RunVerdict.label_of(verdict)}" if verdict else "pytest-mlperf report"
        )

    def _summary(self) -> dict[str, Any]:
        summary = _dict(self.report.get("summary"))
        regressions = sum(c.fails_run for c in comparisons_of(self.report))
        verdict = str(summary.get("verdict") or ("fail" if regressions else "pass"))
        return {
            "verdict": RunVerdict.label_of(verdict),
            "css": css_class(verdict),
            "counts": [
                ("benchmarks", summary.get("benchmarks", len(self.results))),
                ("checks", summary.get("checks", DASH)),
                ("failed", summary.get("failed_checks", DASH)),
                ("inconclusive", summary.get("inconclusive_checks", DASH)),
                ("regressions", regressions),
                ("errors", summary.get("errors", len(_list(self.report.get("errors"))))),
            ],
        }

    def _checks_with(self, verdict: str) -> list[dict[str, Any]]:
        found = []
        for index, entry in enumerate(self.results):
            for check in map(_dict, _list(entry.get("checks"))):
                if check.get("verdict") == verdict:
                    found.append(self._check_row(check, entry, index))
        return found

    @staticmethod
    def _check_row(check: dict[str, Any], entry: dict[str, Any], index: int) -> dict[str, Any]:
        return {
            "anchor": f"b{index}",
            "nodeid": _text(entry.get("nodeid")),
            "test": test_name(_text(entry.get("nodeid"))),
            "name": _text(entry.get("name")),
            "batch_size": _text(entry.get("batch_size")),
            "metric": _text(check.get("metric")),
            "limit": DASH if (limit := finite(check.get("limit"))) is None else f"{limit:,.6g}",
            "value": num(check.get("value")),
            "ci": interval(check.get("ci")),
            "distance": distance(check),
            "verdict": _text(check.get("verdict")),
            "css": css_class(check.get("verdict")),
            "message": _text(check.get("message")),
            "n": _text(check.get("n")),
        }

    def _errors(self) -> list[dict[str, str]]:
        rows = []
        for error in _list(self.report.get("errors")):
            if isinstance(error, Mapping):
                rows.append(
                    {"nodeid": _text(error.get("nodeid")), "message": _text(error.get("message"))}
                )
            else:
                rows.append({"nodeid": "", "message": _text(error)})
        return rows

    # --- benchmarks ---

    def _results(self) -> list[dict[str, Any]]:
        drawn = self._latency_figures()
        rows = []
        for index, entry in enumerate(self.results):
            lat, ci = _dict(entry.get("latency_ms")), _dict(entry.get("ci_ms"))
            name, model = _text(entry.get("name")), _text(entry.get("model"))
            memory = entry.get("memory_mb")
            rows.append(
                {
                    "anchor": f"b{index}",
                    "nodeid": _text(entry.get("nodeid")),
                    "test": test_name(_text(entry.get("nodeid"))),
                    "label": name if name == model or not model else f"{name} ({model})",
                    "method": _text(entry.get("method") or "predict"),
                    "batch_size": _text(entry.get("batch_size")),
                    "n": _text(entry.get("n_samples")),
                    "warmup": _text(entry.get("warmup_calls")),
                    "elapsed": num(entry.get("elapsed_s"), 3),
                    "stop_reason": _text(entry.get("stop_reason")),
                    "outcome": _text(entry.get("outcome")),
                    "verdict": self._verdict(entry),
                    "css": css_class(self._verdict(entry).lower()),
                    "open": self._verdict(entry) in ("FAIL", "INCONCLUSIVE"),
                    "p50": num(lat.get("p50")),
                    "p95": num(lat.get("p95")),
                    "p95_ci": interval(ci.get("p95")),
                    "p99": num(lat.get("p99")),
                    "stats": [
                        (key, num(lat.get(key)), interval(ci.get(key)) or _missing(key))
                        for key in ("mean", "p50", "p90", "p95", "p99", "min", "max", "std")
                        if key in lat
                    ],
                    "confidence": f"{finite(entry.get('confidence')) or 0.95:.0%}",
                    "rps": num(entry.get("throughput_rps")),
                    "memory": "not measured" if memory is None else f"{num(memory, 3)} MB",
                    "drift": drift_text(entry),
                    "clustering": self._clustering(entry),
                    "cpu_share": self._cpu_share(entry),
                    "checks": [
                        self._check_row(_dict(c), entry, index) for c in _list(entry.get("checks"))
                    ],
                    "warnings": [str(w) for w in _list(entry.get("warnings"))],
                    "figure": drawn.get(index),
                }
            )
        return rows

    @staticmethod
    def _cpu_share(entry: Mapping[str, Any]) -> str:
        value = finite(_dict(entry.get("stability")).get("cpu_share"))
        return "-" if value is None else f"{value:.0%}"

    @staticmethod
    def _clustering(entry: Mapping[str, Any]) -> str:
        value = finite(_dict(entry.get("stability")).get("clustering"))
        return "-" if value is None else f"x{value:.1f}"

    @staticmethod
    def _verdict(entry: Mapping[str, Any]) -> str:
        try:
            return result_verdict({"checks": [_dict(c) for c in _list(entry.get("checks"))]})
        except KeyError:
            return "-"

    def _latency_figures(self) -> dict[int, Any]:
        """Latency figures by result index: failures first when there are too many to draw."""
        rank = {"FAIL": 0, "INCONCLUSIVE": 1}
        order = sorted(
            (i for i, e in enumerate(self.results) if _list(e.get("samples_ms"))),
            key=lambda i: (rank.get(self._verdict(self.results[i]), 2), i),
        )
        chosen = order[:MAX_LATENCY_FIGURES]
        if len(order) > len(chosen):
            self.notes.append(
                f"Latency figures are drawn for {len(chosen)} of {len(order)} benchmarks "
                "(failed and inconclusive first) to keep this page quick to open; the tables "
                "show every benchmark."
            )
        return {i: self._latency_figure(self.results[i]) for i in sorted(chosen)}

    def _latency_figure(self, entry: Mapping[str, Any]) -> Any:
        samples = [v for v in (finite(s) for s in _list(entry.get("samples_ms"))) if v is not None]
        ci = _list(_dict(entry.get("ci_ms")).get("p95"))
        limits = [
            self.plots.LimitLine(str(c["metric"]), limit, _text(c.get("verdict")))
            for c in map(_dict, _list(entry.get("checks")))
            if c.get("metric") in LATENCY_METRICS and (limit := finite(c.get("limit"))) is not None
        ]
        svg = self.plots.latency_svg(
            samples,
            p95=finite(_dict(entry.get("latency_ms")).get("p95")),
            p95_ci=(finite(ci[0]), finite(ci[1])) if len(ci) >= 2 else None,
            limits=limits,
            confidence=finite(entry.get("confidence")) or 0.95,
        )
        return self.markup(svg)

    # --- sweeps, costs, comparisons, advice ---

    def _capped(self, items: Sequence[Any], cap: int, what: str) -> int:
        if len(items) > cap:
            self.notes.append(
                f"{what} figures are drawn for the first {cap} of {len(items)}; "
                "the tables show all of them."
            )
        return cap

    def _sweeps(self) -> list[dict[str, Any]]:
        sweeps = [_dict(s) for s in _list(self.report.get("sweeps"))]
        cap = self._capped(sweeps, MAX_SWEEP_FIGURES, "Batch-size")
        rows = []
        for index, sweep in enumerate(sweeps):
            curve = [_dict(p) for p in _list(sweep.get("curve"))]
            best = sweep.get("best_batch_size")
            number = finite(best)
            best_size = None if number is None else int(number)
            figure = None
            if curve and index < cap:
                figure = self.markup(self.plots.sweep_svg(curve, best_size))
            name, model = _text(sweep.get("name")), _text(sweep.get("model"))
            rows.append(
                {
                    "nodeid": _text(sweep.get("nodeid")),
                    "label": name if name == model or not model else f"{name} ({model})",
                    "best": "none passed its latency limits" if best is None else _text(best),
                    "stop_reason": _text(sweep.get("stop_reason")),
                    "figure": figure,
                    "points": [
                        {
                            "batch_size": _text(p.get("batch_size")),
                            "rps": num(p.get("throughput_rps")),
                            "p95": num(p.get("latency_p95")),
                            "verdict": _text(p.get("verdict")),
                            "css": css_class(p.get("verdict")),
                            "best": p.get("batch_size") == best,
                        }
                        for p in curve
                    ],
                }
            )
        return rows

    def _loads(self) -> list[dict[str, Any]]:
        """Load runs and capacities: a line, a figure, and the capacity curve."""
        from . import load as text
        from . import load_plots

        entries = text.load_entries(self.results)
        cap = self._capped(entries, MAX_SWEEP_FIGURES, "Load")
        rows: list[dict[str, Any]] = [
            {
                "nodeid": _text(e.get("nodeid")),
                "line": text.prediction_line(e),
                "capacity": False,
                "saturated": False,
                "figure": None,
                "header": text.CURVE_HEADER,
                "curve": [],
            }
            for e in text.predicted_entries(self.results)
        ]
        for index, entry in enumerate(entries):
            capacity = entry.get("capacity")
            load = _dict(entry.get("load"))
            drawn = index < cap
            if isinstance(capacity, Mapping):
                line, curve = text.capacity_line(entry), text.curve_rows(capacity)
                svg = load_plots.capacity_svg(capacity) if drawn else None
            else:
                line, curve = text.load_line(entry), []
                queue, service = _dict(load.get("queue_ms")), _dict(load.get("service_ms"))
                svg = load_plots.split_svg(queue, service) if drawn else None
            rows.append(
                {
                    "nodeid": _text(entry.get("nodeid")),
                    "line": line,
                    "capacity": isinstance(capacity, Mapping),
                    "saturated": bool(load.get("saturated")),
                    "figure": None if svg is None else self.markup(svg),
                    "header": text.CURVE_HEADER,
                    "curve": curve,
                }
            )
        return rows

    def _costs(self) -> list[dict[str, Any]]:
        costs = [_dict(c) for c in _list(self.report.get("costs"))]
        broken = [i for i, c in enumerate(costs) if _dict(c.get("budget")).get("verdict") == "fail"]
        detailed = set((broken + list(range(len(costs))))[:MAX_COST_DETAILS])
        self.cost_folded = ""
        if len(costs) > len(detailed):
            self.cost_folded = (
                f"Every tier is shown for {len(detailed)} of {len(costs):,} benchmarks (broken "
                "budgets first) to keep this page quick to open; report.json has them all."
            )
        rows = []
        for index, entry in enumerate(costs):
            tiers = [_dict(t) for t in _list(entry.get("tiers"))]
            recommended = entry.get("recommended")
            detail = index in detailed
            figure = None
            if tiers and detail:
                figure = self.markup(self.plots.cost_svg(tiers, recommended))
            chosen = next((t for t in tiers if t.get("tier") == recommended), {})
            sensitivity = _dict(entry.get("sensitivity"))
            rows.append(
                {
                    "anchor": f"c{index}",
                    "detail": detail,
                    "nodeid": _text(entry.get("nodeid")),
                    "test": test_name(_text(entry.get("nodeid"))),
                    "label": _text(entry.get("name") or entry.get("model")),
                    "batch_size": _text(entry.get("batch_size")),
                    "sizing": _text(_dict(chosen.get("sizing")).get("summary")),
                    "request": _text(entry.get("request")),
                    "recommended": _text(recommended),
                    "recommended_usd": usd(entry.get("recommended_monthly_usd")),
                    "recommendation": _text(entry.get("recommendation")),
                    "budget": self._budget(entry.get("budget")),
                    "figure": figure,
                    "tiers": [self._tier_row(t, recommended) for t in tiers] if detail else [],
                    "scenarios": [
                        {
                            "label": _text(s.get("label")),
                            "requests": num(s.get("requests_per_month")),
                            "peak": num(s.get("peak_to_average")),
                            "tier": _text(s.get("recommended") or "none"),
                            "usd": usd(s.get("recommended_usd")),
                        }
                        for s in map(_dict, _list(sensitivity.get("scenarios")))
                    ],
                    "sensitivity": _text(sensitivity.get("summary")),
                    "assumptions": _dict(entry.get("assumptions")),
                    "notes": [str(n) for n in _list(entry.get("notes"))],
                    "prices": " ".join(
                        p
                        for p in (
                            f"{_text(entry.get('currency'))} list prices as of",
                            _text(entry.get("prices_as_of")),
                            f"({_text(entry.get('prices_origin'))})",
                        )
                        if p.strip("() ")
                    ),
                    "stale": _text(entry.get("stale_warning")),
                }
            )
        return rows

    @staticmethod
    def _shared(costs: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The assumptions and notes, once, when every benchmark has the same ones."""
        if len(costs) < 2:
            return None
        first = {"assumptions": costs[0]["assumptions"], "notes": costs[0]["notes"]}
        same = all(
            c["assumptions"] == first["assumptions"] and c["notes"] == first["notes"] for c in costs
        )
        return first if same else None

    @staticmethod
    def _budget(budget: Any) -> dict[str, str] | None:
        """A cost budget's verdict, when the entry carries one ({verdict, message})."""
        if not isinstance(budget, Mapping) or not budget.get("verdict"):
            return None
        verdict = _text(budget.get("verdict"))
        return {
            "verdict": verdict,
            "css": css_class(verdict),
            "message": _text(budget.get("message")),
        }

    @staticmethod
    def _tier_row(tier: Mapping[str, Any], recommended: Any) -> dict[str, Any]:
        eligible = bool(tier.get("eligible"))
        return {
            "tier": _text(tier.get("tier")),
            "kind": _text(tier.get("kind")),
            "monthly": usd(tier.get("monthly_usd")),
            "provisioned": usd(tier.get("provisioned_usd")),
            "usage": usd(tier.get("usage_usd")),
            "sizing": _text(_dict(tier.get("sizing")).get("summary")),
            "p95": num(tier.get("predicted_p95_ms")),
            "eligible": "yes" if eligible else f"no: {_text(tier.get('reason'))}",
            "recommended": tier.get("tier") == recommended,
            "css": "pass" if tier.get("tier") == recommended else ("" if eligible else "muted"),
        }

    def _cost_total(self) -> str:
        costs = [_dict(c) for c in _list(self.report.get("costs"))]
        if len(costs) < 2:
            return ""
        values = [finite(c.get("recommended_monthly_usd")) for c in costs]
        missing = sum(v is None for v in values)
        text = f"{usd(sum(v for v in values if v is not None))}/month over {len(costs)} benchmarks"
        return text + (f" ({missing} without an eligible tier)" if missing else "")

    def _comparisons(self) -> list[dict[str, Any]]:
        """Every comparison, the ones that need a look first."""
        rank = {v: i for i, v in enumerate(COMPARISON_ORDER)}
        rows = [self._comparison_row(c) for c in comparisons_of(self.report)]
        return sorted(rows, key=lambda r: rank.get(r["verdict"], len(rank)))

    @staticmethod
    def _comparison_row(c: Comparison) -> dict[str, Any]:
        ratio = c.ratio
        p_value = c.p_value if c.p_adjusted is None else c.p_adjusted
        measured = c.baseline is not None or c.current is not None
        return {
            "nodeid": c.nodeid,
            "test": test_name(c.nodeid),
            "name": c.name,
            "batch_size": _text(c.batch_size),
            "kind": "A/B" if c.kind is ComparisonKind.AB else c.kind.value,
            "metric": c.metric,
            "shift": f"{num(c.baseline)} → {num(c.current)} {c.unit}" if measured else "",
            "change": "" if ratio is None else f"{ratio - 1.0:+.1%}",
            "ratio": "" if ratio is None else f"{ratio:.3f} {interval(c.ci)}",
            "p": "" if p_value is None else format_p(p_value),
            "tolerance": "" if c.tolerance_pct is None else f"{c.tolerance_pct:g}%",
            "gating": c.gating,
            "fails_run": c.fails_run,
            "verdict": c.verdict.value,
            "css": css_class(c.verdict.value),
            "message": c.message,
        }

    def _recommendations(self) -> list[dict[str, Any]]:
        """Plain sentences, or advice entries ({model, recommendations: [...]}), or anything."""
        groups = []
        for item in _list(self.report.get("recommendations")):
            if isinstance(item, str):
                groups.append({"title": "", "lines": [item]})
            elif isinstance(item, Mapping) and isinstance(item.get("recommendations"), list):
                title = _text(item.get("nodeid") or item.get("model"))
                groups.append({"title": title, "lines": [str(x) for x in item["recommendations"]]})
            else:
                groups.append({"title": "", "lines": [json.dumps(item, default=str)]})
        return groups

    def _machine(self) -> list[tuple[str, str]]:
        env = _dict(self.report.get("environment"))
        settings = _dict(self.report.get("settings"))
        cores = env.get("cpu_count")
        rows = [
            ("CPU", f"{_text(env.get('cpu'))}" + (f", {cores} cores" if cores else "")),
            ("GPU", _text(env.get("gpu")) or "none"),
            ("Platform", _text(env.get("platform"))),
            ("Python", " ".join(_text(env.get(k)) for k in ("implementation", "python")).strip()),
            ("Load average", ", ".join(num(x, 3) for x in _list(env.get("load_average")))),
            ("Fingerprint", _text(env.get("fingerprint"))),
            ("Confidence", f"{c:.0%}" if (c := finite(settings.get("confidence"))) else ""),
            ("Percentiles", _text(settings.get("percentile_method"))),
        ]
        return [(k, v) for k, v in rows if v]
