"""Each test's report, reviewed after it ran: its results priced, compared with the stored run,
and kept; a broken limit, budget or regression flips a passing test to failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ..marks import MARKERS
from ..neutral import neutral
from . import keys, lazy
from .transport import Records

if TYPE_CHECKING:
    from ..regression.comparison import Comparison
    from ..results import BenchmarkResult
    from .manager import Manager


JUNIT_FAMILIES = ("xunit1", "legacy")  # the junit_family values with per-test properties


class Reviewer:
    """Turns a test's measurements into records and its broken checks into a failed report."""

    def __init__(self, run: Manager) -> None:
        self.run = run
        self.settings = run.settings
        self.baseline = run.baseline

    def review(self, item: pytest.Item, report: pytest.TestReport) -> None:
        used = keys.RESULTS in item.stash  # model_bench was requested (the fast path: not)
        if report.when == "call":
            item.stash[keys.CALL_PASSED] = report.passed
            if used:
                self._record_call(item, report)
            return
        if report.when == "teardown" and used:  # advice given after the test (--mlperf-advise)
            self.run.gather.keep(Records(recommendations=self._take_recommendations(item)))
        if report.when == "teardown" and report.passed and self._never_measured(item):
            marks = ", ".join(sorted({m.name for m in item.iter_markers() if m.name in MARKERS}))
            message = (
                f"{item.nodeid} is marked with {marks} "
                "but never called the model_bench fixture, so nothing was checked"
            )
            if item.stash.get(keys.COMPARISONS, []):
                message = (
                    f"{item.nodeid} is marked with {marks}, but model_bench.ab does not check "
                    "such limits: call model_bench(model, X) to check them, or drop the marker"
                )
            self.run.item_error(item, message)
            report.outcome = "failed"
            report.longrepr = f"pytest-mlperf: {message}"

    def _record_call(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """Price the call's results and add the stored run's checks to them, fail the test on
        a broken check, and keep its records (with JUnit properties where the XML allows)."""
        results = item.stash.get(keys.RESULTS, [])
        sweeps = item.stash.get(keys.SWEEPS, [])
        comparisons = item.stash.get(keys.COMPARISONS, [])
        records = Records(
            sweeps=[{"nodeid": item.nodeid, **sweep.to_dict()} for sweep in sweeps],
            comparisons=[c.to_dict() for c in comparisons],
            recommendations=self._take_recommendations(item),
        )
        records.costs = self._price(item, results)
        self._compare_with_baseline(item, results)
        problems = self._problems(results) + self._ab_problems(comparisons)
        if report.passed and problems:
            report.outcome = "failed"
            report.longrepr = "\n".join(neutral(problem) for problem in problems)
        tolerance = item.stash.get(keys.REGRESSION_PCT, None)
        for result in results:
            entry = result.to_record(item.nodeid, report.outcome)
            if tolerance is not None:
                entry["regression_max_pct"] = tolerance
            records.entries.append(entry)
        properties = junit_properties(records)
        if properties and junit_test_properties(self.run.config):
            item.user_properties.extend(properties)  # JUnit reads the teardown report
        self.run.gather.keep(records)

    @staticmethod
    def _take_recommendations(item: pytest.Item) -> list[dict[str, Any]]:
        taken = item.stash.get(keys.RECOMMENDATIONS, [])
        item.stash[keys.RECOMMENDATIONS] = []
        return taken

    def _price(self, item: pytest.Item, results: list[BenchmarkResult]) -> list[dict[str, Any]]:
        """Cost estimates for every result; a budget marker adds its check to each."""
        lazy.load("cost")
        from ..cost.budget import TestBudget, price_result

        if not results:
            return []
        budget = item.stash.get(keys.BUDGET, None) or TestBudget(self.run.cost_config)
        p95 = [lim.value for lim in item.stash.get(keys.LIMITS, []) if lim.metric == "p95"]
        costs = []
        for result in results:
            try:
                entry, check, warning = price_result(
                    result.to_record(item.nodeid), budget, p95[0] if p95 else None
                )
            except (ValueError, ArithmeticError) as exc:  # a zero latency from a frozen clock
                result.warnings.append(f"no cost estimate: {exc}")
                continue
            costs.append(entry)
            if check is not None:
                result.checks.append(check)
            if warning is not None:
                result.warnings.append(warning)
        return costs

    def _compare_with_baseline(self, item: pytest.Item, results: list[BenchmarkResult]) -> None:
        if self.baseline is None:
            return
        tolerance = item.stash.get(keys.REGRESSION_PCT, self.settings.regression_pct)
        for result in results:
            result.checks += self.baseline.judge(result.to_record(item.nodeid), tolerance)

    @staticmethod
    def _ab_problems(comparisons: list[Comparison]) -> list[str]:
        """A side-by-side comparison that fails the run (regression marker) fails the test."""
        return [c.message for c in comparisons if c.fails_run]

    @staticmethod
    def _never_measured(item: pytest.Item) -> bool:
        called = item.stash.get(keys.RESULTS, [])
        passed = item.stash.get(keys.CALL_PASSED, False)
        return passed and keys.LIMITS in item.stash and not called

    def _problems(self, results: list[BenchmarkResult]) -> list[str]:
        bad = {"fail"} | ({"inconclusive"} if self.settings.inconclusive == "fail" else set())
        return [c.message for r in results for c in r.checks if c.verdict in bad]


def junit_test_properties(config: pytest.Config) -> bool:
    """pytest's rule for `record_property`: xunit2 (the default junit_family) has no
    `<properties>` in a `<testcase>`, so with it the XML would fail its schema."""
    family = config.getini("junit_family")
    return not getattr(config.option, "xmlpath", None) or family in JUNIT_FAMILIES


def junit_properties(records: Records) -> list[tuple[str, object]]:
    """Key figures of a test's results as JUnit XML properties (shown by CI test viewers);
    names are neutralised, so the XML stays well-formed whatever they hold."""
    props: list[tuple[str, object]] = []
    costs = {(c["name"], c["batch_size"]): c for c in records.costs}
    for entry in records.entries:
        tag = neutral(f"mlperf[{entry['name']},batch={entry['batch_size']}]")
        lat = entry["latency_ms"]
        props += [(f"{tag}.{k}_ms", round(lat[k], 6)) for k in ("p50", "p95", "p99")]
        props.append((f"{tag}.throughput_rps", round(entry["throughput_rps"], 3)))
        if entry.get("memory_mb") is not None:
            props.append((f"{tag}.memory_mb", round(entry["memory_mb"], 4)))
        props += [(f"{tag}.check.{c['metric']}", neutral(c["verdict"])) for c in entry["checks"]]
        cost = costs.get((entry["name"], entry["batch_size"]))
        if cost and cost.get("recommended_monthly_usd") is not None:
            props.append((f"{tag}.monthly_usd", round(cost["recommended_monthly_usd"], 2)))
            props.append((f"{tag}.recommended_tier", neutral(cost["recommended"])))
    return props
