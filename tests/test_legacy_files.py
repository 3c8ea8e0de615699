"""Files written by pytest-mlperf 0.1.0 keep working: its report.json renders, merges and keeps
its comparisons' shape, and a run it stored with `--mlperf-save` is still compared with
`--mlperf-compare` and `pytest-mlperf compare` (users' baselines survive an upgrade).

Both files under tests/data/legacy were written by 0.1.0 itself: a run saved with
`--mlperf-save=main`, then a run compared with it that also made two `model_bench.ab` calls,
one without the regression marker (recorded then as `regression` with `gating: false`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_mlperf.cli import main
from pytest_mlperf.regression.comparison import Comparison, ComparisonVerdict, comparisons_of
from pytest_mlperf.report.html import render_html
from pytest_mlperf.report.markdown import render_markdown

if TYPE_CHECKING:
    from conftest import Suite

LEGACY = Path(__file__).parent / "data" / "legacy"
REPORT = LEGACY / "report-0.1.0.json"
STORED = LEGACY / "stored-run-0.1.0.json"


def legacy_report() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REPORT.read_text(encoding="utf-8"))
    return data


def test_the_comparisons_keep_their_json_shape() -> None:
    """Reading an entry and writing it again gives the same entry, key for key: the schema did
    not change. The one exception is the migration of a non-gating regression to `warn`."""
    entries = legacy_report()["comparisons"]
    assert {e["kind"] for e in entries} == {"stored", "ab"}
    for entry in entries:
        again = Comparison.from_dict(entry).to_dict()
        assert list(again) == list(entry)
        if entry["verdict"] == "regression" and not entry["gating"]:
            assert again == {**entry, "verdict": "warn"}
        else:
            assert again == entry


def test_a_regression_that_did_not_gate_reads_as_a_warning_everywhere() -> None:
    report = legacy_report()
    old = [c for c in report["comparisons"] if c["verdict"] == "regression" and not c["gating"]]
    assert old, "the fixture holds an A/B regression without the regression marker"
    typed = comparisons_of(report)
    failing = [c for c in typed if c.fails_run]
    assert len(failing) == report["summary"]["regressions"]  # the exit status 0.1.0 gave
    assert all(c.verdict is ComparisonVerdict.REGRESSION and c.gating for c in failing)
    page = render_html(report)
    start = page.index("<h2>Regressions")
    listed = page[start : page.index("</table>", start)]
    assert "test_ab_unmarked" not in listed and "test_lr" in listed
    rows = [line for line in render_markdown(report).splitlines() if "ab\\_unmarked" in line]
    assert len(rows) == 3 and all(row.endswith("| WARN |") for row in rows)


def test_report_and_merge_read_the_old_report(tmp_path: Path, capsys: Any) -> None:
    assert main(["report", str(REPORT), "--md", str(tmp_path / "r.md")]) == 1  # it failed then
    assert "test\\_lr" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert main(["merge", str(REPORT), "-o", str(tmp_path / "merged")]) == 1
    merged = json.loads((tmp_path / "merged" / "report.json").read_text(encoding="utf-8"))
    assert len(merged["comparisons"]) == len(legacy_report()["comparisons"])
    assert merged["summary"]["regressions"] == legacy_report()["summary"]["regressions"]
    # merged entries are written in today's form: a regression that does not gate is a warning
    assert not [
        c for c in merged["comparisons"] if c["verdict"] == "regression" and not c["gating"]
    ]
    assert [c["verdict"] for c in merged["comparisons"]].count("warn") > 0
    capsys.readouterr()


def test_the_stored_run_is_compared_by_the_compare_command(capsys: Any) -> None:
    assert main(["compare", str(STORED), str(STORED), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["same_machine"] is True and document["summary"]["verdict"] == "pass"
    assert {c["metric"] for c in document["comparisons"]} == {
        "p50",
        "p95",
        "throughput",
        "memory",
    }


def test_the_stored_run_is_compared_by_mlperf_compare(suite: Suite) -> None:
    storage = suite.path / "store"
    shutil.copytree(STORED.parent, storage / "legacy", ignore=lambda *_: ["report-0.1.0.json"])
    suite.write(
        "def test_lr(model_bench):\n    model_bench(lr, X, samples=80)\n", name="test_legacy"
    )
    run_file = storage / "legacy" / STORED.name
    # a wide tolerance: on the machine that wrote the file the comparison would gate
    wide = "--mlperf-regression-pct=100000"
    result = suite.run(f"--mlperf-compare={run_file}", "--mlperf-report=out", wide)
    result.assert_outcomes(passed=1)
    comparisons = suite.report()["comparisons"]
    assert {c["metric"] for c in comparisons} == {"p50", "p95", "throughput", "memory"}
    assert all(c["nodeid"] == "test_legacy.py::test_lr" for c in comparisons)
    assert all(c["baseline_path"] == str(run_file) for c in comparisons)
    assert suite.report()["baseline"]["path"] == str(run_file)
