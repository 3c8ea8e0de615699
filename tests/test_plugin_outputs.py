"""JUnit properties, verbose progress and the advisor, through real pytest runs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import xmlschema

if TYPE_CHECKING:
    from conftest import Suite

SWEEP = """
@pytest.mark.latency(p95_ms=GENEROUS)
@pytest.mark.budget(max_monthly_usd=1e6)
def test_sweep(model_bench):
    model_bench.sweep(lr, X, batch_sizes=(1, 8), samples=50)
"""


XUNIT2_SCHEMA = Path(__file__).parent / "data" / "junit-xunit2.xsd"


def test_junit_xml_carries_the_key_figures_where_the_family_allows(suite: Suite) -> None:
    suite.write(SWEEP)
    suite.run("--junitxml=junit.xml", "-o", "junit_family=xunit1").assert_outcomes(passed=1)
    case = ET.parse(suite.path / "junit.xml").find(".//testcase[@name='test_sweep']")
    assert case is not None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    for batch in (1, 8):
        tag = f"mlperf[LogisticRegression,batch={batch}]"
        assert float(props[f"{tag}.p95_ms"]) > 0
        assert float(props[f"{tag}.throughput_rps"]) > 0
        assert props[f"{tag}.check.p95"] == "pass"
        assert props[f"{tag}.check.monthly_cost"] == "pass"
        assert float(props[f"{tag}.monthly_usd"]) >= 0


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_default_xunit2_xml_is_valid_and_says_once_why_figures_are_left_out(
    suite: Suite, workers: list[str]
) -> None:
    """pytest's default junit_family is xunit2, whose schema has no testcase properties."""
    suite.write(SWEEP, SWEEP.replace("test_sweep", "test_sweep_again"))
    result = suite.run("--junitxml=junit.xml", *workers)
    result.assert_outcomes(passed=2)
    xmlschema.XMLSchema(XUNIT2_SCHEMA).validate(suite.path / "junit.xml")
    assert not list(ET.parse(suite.path / "junit.xml").iter("property"))
    said = result.stdout.str().count("no per-test JUnit properties written")
    assert said == 1
    assert "junit_family 'xunit2'" in result.stdout.str()


def test_progress_only_in_verbose_runs(suite: Suite) -> None:
    suite.write(SWEEP)
    quiet = suite.run()
    assert "mlperf: test_user_suite.py" not in quiet.stdout.str()
    verbose = suite.run("-v")
    verbose.stdout.fnmatch_lines(
        [
            "*mlperf: test_user_suite.py::test_sweep: batch 1: p95 * ms, * rows/s",
            "*mlperf: test_user_suite.py::test_sweep: sweep: best batch *",
        ]
    )


def test_advise_in_a_test_and_for_marked_tests(suite: Suite) -> None:
    suite.write(
        """
        def test_advise(model_bench):
            advice = model_bench.advise(tree, X, y, techniques=["batching"], side_by_side=False)
            assert advice.recommendations

        @pytest.mark.latency(p95_ms=GENEROUS)
        def test_marked(model_bench):
            model_bench(tree, X, samples=50)
        """
    )
    result = suite.run("--mlperf-advise", "--mlperf-report=out")
    result.assert_outcomes(passed=2)
    found = {r["nodeid"].split("::")[1] for r in suite.report()["recommendations"]}
    assert found == {"test_advise", "test_marked"}


def test_load_warning() -> None:
    from pytest_mlperf.plugin.output import load_warning

    assert load_warning({"load_average": [1.5, 1, 1], "cpu_count": 2}) == []
    (note,) = load_warning({"load_average": [5.25, 1, 1], "cpu_count": 2})
    assert note.startswith("load average 5.25 on 2 cores")
    assert load_warning({"load_average": None, "cpu_count": 2}) == []


def test_no_html_option_skips_the_page(suite: Suite) -> None:
    suite.write("def test_lr(model_bench):\n    model_bench(lr, X, samples=20)\n")
    suite.run("--mlperf-report=out", "--mlperf-no-html").assert_outcomes(passed=1)
    assert sorted(p.name for p in (suite.path / "out").iterdir()) == ["report.json", "report.md"]
    suite.run("--mlperf-report=out2").assert_outcomes(passed=1)
    assert (suite.path / "out2" / "report.html").is_file()


def test_model_bench_requested_at_run_time_is_still_judged(suite: Suite) -> None:
    suite.write(
        """
        def test_plain():
            assert True

        def test_dynamic(request):
            request.getfixturevalue("model_bench")(noop, X, samples=20)
        """
    )
    suite.run("--mlperf-report=out").assert_outcomes(passed=2)
    (entry,) = suite.report()["results"]
    assert entry["nodeid"] == "test_user_suite.py::test_dynamic"
    assert entry["outcome"] == "passed"
