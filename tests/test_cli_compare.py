"""`pytest-mlperf compare BASE.json NEW.json`: exit 1 on a regression, 0 otherwise, 2 on
unusable input with one clear line and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from test_ab_streams import Machine
from test_regression import entry, run

from pytest_mlperf.cli import main


def write(path: Any, report: dict[str, Any]) -> str:
    path.write_text(json.dumps(report))
    return str(path)


@pytest.fixture
def runs(tmp_path: Any) -> dict[str, str]:
    """Baseline, an unchanged run, a 50% slower run, and the slower run on another machine."""

    def report(seed: int, factor: float, fingerprint: str = "machine-a") -> dict[str, Any]:
        samples = Machine(seed, 1000).samples_ms(2.0, factor)
        return run(entry("tests/t.py::test_lr", samples), fingerprint=fingerprint)

    return {
        "base": write(tmp_path / "base.json", report(1, 1.0)),
        "same": write(tmp_path / "same.json", report(2, 1.0)),
        "slow": write(tmp_path / "slow.json", report(3, 1.5)),
        "elsewhere": write(tmp_path / "elsewhere.json", report(3, 1.5, "machine-b")),
    }


def test_unchanged_run_exits_0_with_a_table(runs: dict[str, str], capsys: Any) -> None:
    assert main(["compare", runs["base"], runs["same"]]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["test", "batch", "metric"]
    assert "test_lr (M)" in out and "compare PASS: 0 regression" in out


def test_regression_exits_1_and_says_why(runs: dict[str, str], capsys: Any) -> None:
    assert main(["compare", runs["base"], runs["slow"]]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "test_lr: regression: p95 +" in out
    assert "compare FAIL: 3 regression" in out


def test_a_larger_tolerance_lets_it_pass(runs: dict[str, str]) -> None:
    assert main(["compare", runs["base"], runs["slow"], "--max-pct", "80"]) == 0


def test_another_machine_only_warns_and_exits_0(runs: dict[str, str], capsys: Any) -> None:
    assert main(["compare", runs["base"], runs["elsewhere"]]) == 0
    out = capsys.readouterr().out
    assert "WARN" in out and "different machines" in out


def test_markdown_and_json_formats(runs: dict[str, str], capsys: Any) -> None:
    assert main(["compare", runs["base"], runs["slow"], "--format", "md"]) == 1
    markdown = capsys.readouterr().out
    assert markdown.startswith("| test | batch | metric |") and "|---|" in markdown
    assert main(["compare", runs["base"], runs["slow"], "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["verdict"] == "fail" and document["same_machine"] is True
    assert {c["metric"] for c in document["comparisons"]} == {"p50", "p95", "throughput", "memory"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        ("{truncated", "not valid JSON (truncated or corrupted?)"),
        ('{"benchmarks": [], "machine_info": {}}', "a pytest-benchmark file"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    runs: dict[str, str], tmp_path: Any, capsys: Any, content: str | None, message: str
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    assert main(["compare", runs["base"], str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pytest-mlperf compare: error: ") and str(bad) in err
    assert message in err and "Traceback" not in err


def test_bad_options_exit_2(runs: dict[str, str], capsys: Any) -> None:
    assert main(["compare", runs["base"], runs["same"], "--max-pct", "-1"]) == 2
    assert "max_pct must be a non-negative number" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["compare", runs["base"], runs["same"], "--max-pct", "lots"])
    assert info.value.code == 2


def test_console_script_gives_one_line_and_no_traceback(
    runs: dict[str, str], tmp_path: Any
) -> None:
    cli = [sys.executable, "-c", "import sys; from pytest_mlperf.cli import main; sys.exit(main())"]
    bad = subprocess.run(
        [*cli, "compare", runs["base"], str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1
