"""report.html: built from a real-shaped record (the project's own judge, cost model, sweep and
baseline comparison produce its parts), checked for escaping, sections and self-containment.

`sample_report` is also what tests/test_browser.py opens in Chromium and photographs.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("jinja2", reason="report.html needs jinja2")

from pytest_mlperf import marks
from pytest_mlperf.bench import Sweep, result_from_samples
from pytest_mlperf.cost import estimate_for_result
from pytest_mlperf.judge import MEAN_CI_MISSING, Judge
from pytest_mlperf.numbers import fmt
from pytest_mlperf.regression.compare import compare_runs
from pytest_mlperf.report import html as report_html
from pytest_mlperf.report.html import HtmlUnavailable, render_html
from pytest_mlperf.report.markdown import render_markdown
from pytest_mlperf.report.terminal import render_terminal
from pytest_mlperf.results import BenchmarkResult, build_report

HOSTILE = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=2">'
ENVIRONMENT = {
    "python": "3.11.7",
    "implementation": "CPython",
    "platform": "Linux-6.1-x86_64-with-glibc2.36",
    "cpu": "Intel(R) Xeon(R) Processor",
    "cpu_count": 4,
    "gpu": None,
    "load_average": [0.42, 0.51, 0.48],
    "packages": {"numpy": "2.1.0", "scikit-learn": "1.5.2", "pytest": "8.3.3"},
    "threads": {
        "env": {"OMP_NUM_THREADS": "1"},
        "pools": [{"user_api": "blas", "internal_api": "openblas", "num_threads": 1}],
    },
    "fingerprint": "d5c84591c9f395aa",
}


def measured(
    name: str,
    model: str,
    batch_size: int,
    median_ms: float,
    limits: list[marks.Limit],
    *,
    n: int = 400,
    spread: float = 0.25,
    memory_mb: float | None = 12.5,
    seed: int = 0,
) -> BenchmarkResult:
    """A result as the benchmarker makes it, from a seeded log-normal latency stream."""
    rng = np.random.default_rng(seed)
    samples = median_ms * rng.lognormal(0.0, spread, n)
    samples[rng.random(n) < 0.02] *= 3.0  # a few slow calls, as on a real machine
    judge = Judge(limits, batch_size, 0.95)
    for look in judge.looks:  # stop at the first look that decides every limit, as bench does
        if look <= n and judge.update(samples[:look]):
            samples = samples[:look]
            break
    judge.update(samples, final=True)
    result = result_from_samples(samples, model, batch_size, 0.95)
    result.memory_mb = memory_mb
    result.checks = judge.checks(samples, memory_mb, model)
    result.name, result.warmup_calls = name, 20
    result.elapsed_s = len(samples) * median_ms / 1000
    result.stop_reason = "verdicts reached" if limits else "sample cap"
    return result


def entry(nodeid: str, result: BenchmarkResult) -> dict[str, Any]:
    outcome = "failed" if not result.passed else "passed"
    return result.to_record(nodeid=nodeid, outcome=outcome)


def sample_report(*, hostile: bool = False, extras: bool = True) -> dict[str, Any]:
    """A run with a broken p95 budget, an inconclusive limit, a sweep, costs and a regression."""
    param = HOSTILE if hostile else "gbm"
    fraud = f"tests/test_models.py::test_fraud_model[{param}]"
    results = [
        (
            fraud,
            measured("fraud", "HistGradientBoostingClassifier", 1, 3.2, marks.latency(p95_ms=3.0)),
        ),
        (
            "tests/test_models.py::test_churn_model",
            measured(
                "churn",
                "RandomForestClassifier",
                1,
                6.0,
                [*marks.latency(p95_ms=25), *marks.memory(max_mb=64)],
                seed=1,
            ),
        ),
        (
            "tests/test_models.py::test_ranker",
            measured("ranker", "LGBMRanker", 8, 1.1, marks.latency(p95_ms=1.75), n=300, seed=2),
        ),
        (
            "tests/test_models.py::test_scoring_throughput",
            measured(
                "scoring", "LogisticRegression", 64, 0.9, marks.throughput(min_rps=40_000), seed=3
            ),
        ),
    ]
    if hostile:
        results[1][1].warnings.append(f"drifted {HOSTILE_IMG}")
        results[1][1].name = HOSTILE_IMG
    entries = [entry(nodeid, r) for nodeid, r in results]
    errors = [
        {
            "nodeid": f"tests/test_models.py::test_legacy[{param}]",
            "message": f"model_bench: {HOSTILE if hostile else 'legacy.joblib'} has no method "
            "'predict'\n(pass method='transform' for a transformer)",
        }
    ]
    report = build_report(
        entries,
        ENVIRONMENT,
        {"confidence": 0.95, "max_time": 10.0, "inconclusive": "warn"},
        created="2025-06-01T12:00:00+00:00",
        plugin_version="0.1.0",
        errors=errors,
        warnings=["load average 3.9 on 4 cores during the run: latency may be inflated"],
    )
    if not extras:
        return report
    sweep = Sweep(
        [
            measured(
                "fraud",
                "HistGradientBoostingClassifier",
                b,
                2.0 + 0.045 * b,
                marks.latency(p95_ms=8.0),
                seed=b,
            )
            for b in (1, 8, 32, 64, 128)
        ],
        requested=[1, 8, 32, 64, 128, 256],
        stop_reason="latency limit crossed at batch 128",
    ).to_dict()
    report["sweeps"] = [{**sweep, "nodeid": fraud}]
    today = dt.date(2025, 6, 1)
    report["costs"] = [
        estimate_for_result(e, latency_limit_ms=e["checks"][0]["limit"], today=today)
        for e in entries[:2]
    ]
    baseline = copy.deepcopy(report)
    for e in baseline["results"]:
        factor = 0.7 if e["nodeid"] == fraud else 1.0
        e["samples_ms"] = [s * factor for s in e["samples_ms"]]
        e["latency_ms"] = {k: v * factor for k, v in e["latency_ms"].items()}
        e["throughput_rps"] /= factor
    report["comparisons"] = [c.to_dict() for c in compare_runs(report, baseline)]
    report["recommendations"] = [
        "fraud: batch 32 serves 8,900 rows/s at p95 4.7 ms, 9.4x the rows/s of batch 1",
        {"model": "RandomForestClassifier", "recommendations": ["churn: max_depth 12 halves p95"]},
    ]
    return report


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_report())


@pytest.fixture(scope="module")
def hostile_page() -> str:
    return render_html(sample_report(hostile=True))


def text_of(page: str) -> str:
    """Visible text, roughly: tags dropped, entities decoded."""
    return html.unescape(
        re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))
    )


# --- safety -----------------------------------------------------------------------------------


def test_hostile_ids_names_and_messages_are_text(hostile_page: str) -> None:
    assert "<script" not in hostile_page.lower()
    assert "<img" not in hostile_page.lower()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in hostile_page
    assert "onerror=&#34;window.__pwned=2&#34;" in hostile_page or "onerror=&quot;" in hostile_page
    visible = text_of(hostile_page)
    assert f"test_fraud_model[{HOSTILE}]" in visible
    assert HOSTILE_IMG in visible


def test_hostile_text_never_reaches_attributes_or_figures(hostile_page: str) -> None:
    for svg in re.findall(r"<svg.*?</svg>", hostile_page, flags=re.S):
        assert "pwned" not in svg
    for attributes in re.findall(r"<[a-z]+\s([^>]*)>", hostile_page):
        assert "<" not in attributes


def test_tier_names_in_a_figure_are_escaped_and_not_math() -> None:
    report = sample_report(extras=False)
    tier = {"tier": "<b>$x$</b>", "monthly_usd": 12.0, "eligible": True, "sizing": {}}
    report["costs"] = [{"name": "m", "tiers": [tier], "recommended": "<b>$x$</b>"}]
    page = render_html(report)
    svg = re.search(r'<section id="costs">.*?(<svg.*?</svg>)', page, flags=re.S)
    assert svg is not None
    assert "&lt;b&gt;$x$&lt;/b&gt;" in svg.group(1)
    assert "<b>" not in svg.group(1)


def test_page_forbids_scripts_and_outside_resources(page: str) -> None:
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)
    assert "script-src" not in policy.group(1)


def test_page_loads_nothing_from_outside(page: str) -> None:
    lowered = page.lower()
    for pattern in (
        'src="http',
        "src='http",
        'href="http',
        "url(http",
        "@import",
        "<link",
        "<script",
    ):
        assert pattern not in lowered, pattern
    assert not re.search(r'href="(?!#)', page)  # only links within the page
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


# --- content ----------------------------------------------------------------------------------


def test_verdict_and_broken_budgets_come_first(page: str) -> None:
    order = [
        page.index(marker)
        for marker in ('class="verdict">FAIL', "<h2>Broken budgets", '<section id="benchmarks"')
    ]
    assert order == sorted(order)
    broken = page[order[1] : order[2]]
    assert "test_fraud_model[gbm]" in broken
    assert "over" in broken  # how far over the limit


def test_every_section_with_data_is_present(page: str) -> None:
    for section in (
        "summary",
        "benchmarks",
        "sweeps",
        "costs",
        "comparisons",
        "recommendations",
        "environment",
    ):
        assert f'<section id="{section}">' in page, section
    for heading in ("<h2>Regressions", "<h2>Errors", "<h2>Inconclusive"):
        assert heading in page
    assert "load average 3.9 on 4 cores" in page
    assert "has no method" in page
    assert "churn: max_depth 12 halves p95" in page
    assert "openblas" in page


def test_one_latency_figure_per_benchmark_and_one_per_sweep_and_cost(page: str) -> None:
    assert page.count("<svg ") == 4 + 1 + 2
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "figures must not share ids inside one page"


def test_sections_without_data_are_left_out() -> None:
    page = render_html(sample_report(extras=False))
    for section in ("sweeps", "costs", "comparisons", "recommendations"):
        assert f'<section id="{section}">' not in page
    assert "<h2>Regressions" not in page


def test_a_passing_run_has_no_failure_sections() -> None:
    report = sample_report(extras=False)
    report["results"] = [
        r for r in report["results"] if all(c["verdict"] == "pass" for c in r["checks"])
    ]
    report["errors"] = []
    report["summary"] = {**report["summary"], "verdict": "pass", "failed_checks": 0, "errors": 0}
    page = render_html(report)
    assert 'class="verdict">PASS' in page
    assert "<h2>Broken budgets" not in page and "<h2>Errors" not in page


def test_minimal_and_odd_records_render() -> None:
    """A record from an older or newer writer still renders: absent keys are left out."""
    page = render_html(
        {"results": [{"nodeid": "t::x", "latency_ms": {"p95": "fast"}, "checks": [{}]}]}
    )
    assert "t::x" in page
    weird = sample_report(extras=False)
    weird["costs"] = [
        {"tiers": [{"tier": "vm", "monthly_usd": None, "eligible": False, "reason": "too big"}]}
    ]
    weird["comparisons"] = [{"verdict": "regression", "ratio": None}]
    weird["sweeps"] = [{"curve": [], "best_batch_size": None}]
    weird["recommendations"] = [{"unexpected": 1}]
    page = render_html(weird)
    assert "cannot serve" in page and "too big" in page
    assert "none passed its latency limits" in page


def test_confidence_interval_without_an_upper_bound_is_open() -> None:
    assert report_html.interval([1.5, None]) == "[1.500, n/a]"
    assert report_html.interval([None, None]) == ""
    assert report_html.interval(None) == ""


def test_distance_reads_in_the_direction_that_breaks_the_limit() -> None:
    assert report_html.distance({"metric": "p95", "limit": 10, "value": 12.5}) == "+25% over"
    assert (
        report_html.distance({"metric": "throughput", "limit": 1000, "value": 800}) == "20% under"
    )
    assert report_html.distance({"metric": "p95", "limit": 10, "value": None}) == ""


def test_too_many_benchmarks_draws_failures_first_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_html, "MAX_LATENCY_FIGURES", 2)
    page = render_html(sample_report(extras=False))
    assert "Latency figures are drawn for 2 of 4 benchmarks" in page
    fraud = page.index('id="b0"')
    assert "<svg" in page[fraud : page.index('id="b1"')]  # failed: drawn
    assert "<svg" not in page[page.index('id="b1"') : page.index('id="b2"')]  # passed: left out


def test_many_calls_are_drawn_in_buckets() -> None:
    report = sample_report(extras=False)
    report["results"] = report["results"][:1]
    report["results"][0]["samples_ms"] = list(np.random.default_rng(0).lognormal(0, 0.3, 20_000))
    page = render_html(report)
    assert "20,000 in 150 buckets" in page


def test_missing_jinja2_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_jinja2(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("jinja2"):
            raise ImportError("No module named 'jinja2'")
        return real_import(name, *args, **kwargs)

    report_html._modules.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_jinja2)
    try:
        assert not report_html.html_available()
        with pytest.raises(HtmlUnavailable, match=r"pip install 'pytest-mlperf\[html\]'"):
            render_html(sample_report(extras=False))
    finally:
        monkeypatch.undo()
        report_html._modules.cache_clear()
    assert report_html.html_available()


def test_figures_need_no_plotting_library() -> None:
    """report.html comes with the plain install: its figures are SVG written directly."""
    import pytest_mlperf.report.plots as plots_module

    source = Path(plots_module.__file__).read_text(encoding="utf-8")
    assert "matplotlib" not in source and "import numpy" not in source


@pytest.mark.parametrize(
    "samples",
    [[], [5.0], [0.0, 0.0, 0.0], [0.01, 0.02, 900.0, 1000.0], [2.0] * 50],
    ids=["none", "one", "zeros", "wide", "constant"],
)
def test_latency_figure_survives_odd_samples(samples: list[float]) -> None:
    from pytest_mlperf.report import plots

    svg = plots.latency_svg(
        samples,
        p95=max(samples, default=None),
        p95_ci=(None, None),
        limits=[plots.LimitLine("p95", 3.0, "pass")],
    )
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "$" not in svg  # log axes get plain tick labels, never mathtext


def test_cost_details_and_sweep_figures_are_capped_and_it_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_html, "MAX_COST_DETAILS", 1)
    monkeypatch.setattr(report_html, "MAX_SWEEP_FIGURES", 0)
    page = render_html(sample_report())
    costs = page[page.index('<section id="costs">') : page.index('<section id="comparisons">')]
    assert costs.count("<svg ") == 1
    assert costs.count('<th class="num">provisioned</th>') == 1  # one tier table, not two
    assert (
        '<section id="sweeps">' in page
        and "Batch-size figures are drawn for the first 0 of 1" in page
    )
    assert "Every tier is shown for 1 of 2 benchmarks" in page


def test_identical_cost_assumptions_are_shown_once() -> None:
    report = sample_report()
    page = render_html(report)
    assert len(report["costs"]) == 2
    assert page.count("Assumptions and notes (the same for every benchmark)") == 1
    assert page.count("requests_per_month") == 1
    report["costs"][1] = {**report["costs"][1], "notes": ["another note"]}
    page = render_html(report)
    assert page.count("Assumptions and notes</summary>") == 2


def test_a_mean_without_enough_blocks_says_why_instead_of_a_number() -> None:
    report = sample_report(extras=False)
    result = measured("short", "KNeighborsClassifier", 1, 2.0, (), n=50)
    report["results"].append(entry("tests/test_models.py::test_short", result))
    assert result.ci["mean"] == (None, None)
    assert MEAN_CI_MISSING in html.unescape(render_html(report))


def test_an_open_interval_end_is_spelled_alike_in_every_report() -> None:
    report = sample_report(extras=False)
    result = measured("short", "KNeighborsClassifier", 1, 2.0, (), n=50)
    lo, hi = result.ci["p95"]
    assert lo is not None and hi is None  # 50 calls bound the p95 from below only
    report["results"].append(entry("tests/test_models.py::test_short", result))
    shown = f"[{fmt(lo)}, n/a]"
    assert shown in html.unescape(render_html(report))
    assert shown in render_markdown(report).replace("\\", "")
    assert any(shown in line for line in render_terminal(report))


def test_test_names_wrap_between_their_parts_never_inside_a_word() -> None:
    name = str(report_html.test_name("tests/test_models.py::test_fraud_model[gbm-batch_8]"))
    assert name == (
        '<code class="name">test_<wbr>fraud_<wbr>model</code> '
        '<code class="name param">[gbm-<wbr>batch_<wbr>8]</code>'
    )
    hostile = str(report_html.test_name(f"t.py::test_x[{HOSTILE}]"))
    assert "<script" not in hostile and "&lt;" in hostile
    assert re.search(r"code\.name \{ overflow-wrap: normal; \}", render_html(sample_report()))


def test_notes_about_what_was_drawn_are_not_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_html, "MAX_SWEEP_FIGURES", 0)
    page = render_html(sample_report())
    note = re.search(r'<(\w+) class="([^"]*)">Batch-size figures are drawn', page)
    assert note is not None and note.groups() == ("p", "note")


def many(report: dict[str, Any], n: int) -> dict[str, Any]:
    """The sample run's results and costs repeated to n benchmarks, each with its own id."""
    results, costs = [], []
    for i in range(n):
        source = report["results"][i % len(report["results"])]
        nodeid = f"tests/test_suite_{i // 100}.py::test_model[{i}]"
        results.append({**source, "nodeid": nodeid})
        cost = report["costs"][i % len(report["costs"])]
        costs.append({**cost, "nodeid": nodeid})
    return {**report, "results": results, "costs": costs}


def test_a_thousand_benchmarks_fit_in_five_mb_with_what_failed_first() -> None:
    report = many(sample_report(), 1000)
    page = render_html(report)
    assert len(page.encode("utf-8")) <= 5_000_000
    failing = {i for i, e in enumerate(report["results"]) if not all(
        c["verdict"] == "pass" for c in e["checks"])}  # fmt: skip
    folded = page.index("<summary>All 1000 benchmarks</summary>")
    order = [page.index(s) for s in ('class="verdict"', "<h2>Broken budgets", "<h2>Regressions")]
    assert order == sorted(order) and order[-1] < folded
    shown = page[page.index('<section id="benchmarks">') : folded]
    assert shown.count('<tr><td><a href="#b') == len(failing)  # the rest one click away
    details = re.findall(r'<details class="card bench [a-z]+" id="b(\d+)"( open)?>', page)
    assert len(details) == 1000
    assert {int(i) for i, is_open in details if is_open} == failing
    assert "<script" not in page  # the page's policy forbids them: folding is plain HTML


def test_sweep_legend_sits_above_the_plot_never_on_a_point() -> None:
    from pytest_mlperf.report import plots

    curve = [
        {"batch_size": b, "throughput_rps": 100.0 * b, "latency_p95": 1.0 + b, "verdict": v}
        for b, v in ((1, "pass"), (8, "pass"), (64, "fail"))
    ]
    svg = plots.sweep_svg(curve, 8)
    legend_bottom = max(float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)"', svg)[:4])
    points = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert len(points) == 2 * len(curve)
    assert min(points) > legend_bottom + 5
