"""Stored baselines inside a test run: load once, judge each result, compare the whole run.

A result's test fails at once when, on the same machine, it regressed significantly and by
more than its tolerance (Bonferroni over the baseline's size, so never stricter than the
end-of-run Holm comparison). The whole run is compared again at the end for the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..regression.compare import compare_entry, compare_runs
from ..regression.comparison import Comparison
from ..regression.store import BaselineError, load_history, load_run, save_run
from ..results import Check, Verdict

METRICS_PER_RESULT = 4  # p50, p95, throughput and CPU time are tested; memory is a threshold


@dataclass
class Baseline:
    """The stored run a session compares with, and this machine's earlier runs."""

    report: dict[str, Any]
    path: str
    same_machine: bool
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, storage: str, name: str | None, fingerprint: str) -> Baseline:
        report, path, same = load_run(storage, name, fingerprint=fingerprint)
        history = load_history(storage, fingerprint=fingerprint, exclude=[path]) if same else []
        return cls(report, path, same, history)

    def _matching(self, entry: Mapping[str, Any]) -> dict[str, Any] | None:
        key = (entry["nodeid"], entry["name"], entry["batch_size"])
        for base in self.report["results"]:
            if (base["nodeid"], base["name"], base["batch_size"]) == key:
                return dict(base)
        return None

    def judge(self, entry: dict[str, Any], max_pct: float) -> list[Check]:
        """Failing checks for the regressions of one result (only on the same machine)."""
        base = self._matching(entry)
        if base is None or not self.same_machine:
            return []
        key = (entry["nodeid"], entry["name"], entry["batch_size"])
        earlier = [
            e
            for run in self.history
            for e in run["results"]
            if (e["nodeid"], e["name"], e["batch_size"]) == key
        ]
        family = max(1, METRICS_PER_RESULT * len(self.report["results"]))
        records = compare_entry(entry, base, max_pct=max_pct, family_size=family, history=earlier)
        return [
            Check(
                metric=f"regression:{r.metric}",
                limit=max_pct,
                value=r.ratio,
                verdict=Verdict.FAIL,
                message=f"{r.message} (baseline {self.path})",
                ci=r.ci,
            )
            for r in records
            if r.fails_run
        ]

    def compare(
        self, report: dict[str, Any], max_pct: float, per_test: dict[str, float]
    ) -> list[Comparison]:
        comparisons = compare_runs(
            report,
            self.report,
            max_pct=max_pct,
            per_test_pct=per_test,
            same_machine=self.same_machine,
            history=self.history,
        )
        return [replace(c, baseline_path=self.path) for c in comparisons]


__all__ = ["Baseline", "BaselineError", "save_run"]
