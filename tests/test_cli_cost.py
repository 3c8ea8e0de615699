"""`pytest-mlperf cost`: the same table without a test run; exit 0 ok, 1 budget broken, 2 bad
input (one line on stderr, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_mlperf.cli import build_parser, main

BASE = [
    "cost",
    "--p95-ms", "80",
    "--mean-ms", "60",
    "--memory-mb", "300",
    "--throughput-rps", "15",
    "--requests-per-month", "5000000",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no pyproject.toml is found, unless a test writes one."""
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*BASE, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_output_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert "pytest-mlperf cost estimates" in out
    assert "5,000,000 requests/month" in out
    for tier in ("aws_lambda", "cloud_run_request", "aws_fargate", "aws_eks", "aws_ec2"):
        assert tier in out
    assert "recommended:" in out and "sensitivity:" in out


def test_json_output_parses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["recommended"] in {t["tier"] for t in data["tiers"]}
    assert data["inputs"]["p95_ms"] == 80 and data["inputs"]["mean_ms"] == 60
    assert data["assumptions"]["requests_per_month"] == 5e6
    assert data["config"] is None


def test_markdown_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "markdown")
    assert code == 0 and out.startswith("### Monthly cost estimates")


def test_broken_budget_exits_1_with_both_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--max-monthly-usd", "1")
    assert code == 1
    assert "budget FAIL: monthly cost $" in out and "> budget $1.00" in out
    code, out, _ = run(capsys, "--max-monthly-usd", "1", "--format", "json")
    assert code == 1 and json.loads(out)["budget"]["verdict"] == "fail"


def test_budget_kept_or_only_warned_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--max-monthly-usd", "10000")
    assert code == 0 and "budget PASS" in out
    code, out, _ = run(capsys, "--max-monthly-usd", "10000", "--warn-monthly-usd", "1")
    assert code == 0 and "budget WARN" in out


def test_budget_on_a_named_tier(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--max-monthly-usd", "100", "--tier", "aws_eks")
    assert code == 1 and "on aws_eks" in out


def test_assumption_flags_reach_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "--format", "json",
        "--tiers", "aws_lambda,kubernetes",
        "--arch", "arm64",
        "--free-tier",
        "--peak-to-average", "2",
        "--strategy", "speed",
        "--latency-limit-ms", "500",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert [t["tier"] for t in data["tiers"]] == ["aws_lambda", "aws_eks", "gke"]
    a = data["assumptions"]
    assert (a["arch"], a["apply_free_tier"], a["peak_to_average"], a["strategy"]) == (
        "arm64",
        True,
        2.0,
        "speed",
    )
    assert data["latency_limit_ms"] == 500


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--requests-per-month", "0"], "requests_per_month: expected a number above 0"),
        (["--requests-per-month", "-5"], "requests_per_month"),
        (["--tiers", "heroku"], "unknown tier 'heroku'"),
        (["--arch", "sparc"], "arch: expected one of x86_64, arm64, any"),
        (["--region", "eu-west-1"], "region: no prices for 'eu-west-1'"),
        (["--strategy", "cheapest"], "strategy"),
        (["--max-monthly-usd", "-1"], "--max-monthly-usd: expected a number above 0"),
        (["--tier", "aws_eks"], "--tier needs --max-monthly-usd"),
        (["--max-monthly-usd", "5", "--tier", "heroku"], "unknown tier 'heroku'"),
        (["--config", "missing.toml"], "missing.toml: cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("pytest-mlperf cost: error: ")
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_unparsable_numbers_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["cost", "--p95-ms", "fast"])
    assert info.value.code == 2
    assert "--p95-ms: expected a number, got 'fast'" in capsys.readouterr().err
    code = main(["cost", "--p95-ms", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "--p95-ms: expected a number above 0 and at most 1e+09, got 0" in err
    code = main(["cost", "--p95-ms", "5", "--memory-mb", "nan"])
    assert code == 2 and "--memory-mb: expected 0 or more" in capsys.readouterr().err


def test_config_file_and_flags_override_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "costs.toml").write_text(
        "[cost]\npeak_to_average = 5\nrequests_per_month = 1e6\n[pricing.clusters]\neks_h = 0.5\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "--config", "costs.toml", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["config"] == "costs.toml"
    assert data["assumptions"]["peak_to_average"] == 5  # from the file
    assert data["assumptions"]["requests_per_month"] == 5e6  # the flag wins
    eks = next(t for t in data["tiers"] if t["tier"] == "aws_eks")
    assert any(i["price"] == 0.5 for i in eks["line_items"])


def test_reads_pyproject_in_the_current_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest-mlperf.cost]\nstrategy = 'speed'\n", encoding="utf-8"
    )
    code, out, _ = run(capsys, "--format", "json")
    assert code == 0 and json.loads(out)["strategy"] == "speed"
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest-mlperf.cost]\nstrategy = 7\n", encoding="utf-8"
    )
    code, _, err = run(capsys)
    assert code == 2 and "pyproject.toml: [tool.pytest-mlperf.cost]: strategy" in err


def test_parser_leaves_room_for_other_commands() -> None:
    parser = build_parser()
    args = parser.parse_args(["cost", "--p95-ms", "1"])
    assert args.command == "cost" and callable(args.handler)
    with pytest.raises(SystemExit):
        parser.parse_args([])


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("pytest-mlperf")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pytest_mlperf.cli"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [*command, *BASE, "--max-monthly-usd", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "budget FAIL" in done.stdout
    bad = subprocess.run(
        [*command, "cost", "--p95-ms", "80", "--requests-per-month", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
