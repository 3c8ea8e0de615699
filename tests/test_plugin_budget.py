"""Cost budgets through real pytest runs: the budget marker, the session budget, configuration.

Budgets are either generous ($1,000,000 a month) or impossible (a millionth of a dollar: the
request fee alone of a million requests is $0.20), so no verdict depends on the machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

MONEY = r"\$[\d,]+\.\d\d"

BUDGETS = """
@pytest.mark.budget(max_monthly_usd=1e6)
def test_cheap(model_bench):
    model_bench(lr, X)

@pytest.mark.budget(max_monthly_usd=1e-6, requests_per_month=2_000_000)
def test_expensive(model_bench):
    model_bench(lr, X)

@pytest.mark.budget(max_monthly_usd=1e-6, tier="aws_fargate")
def test_on_fargate(model_bench):
    model_bench(lr, X)

def test_unbudgeted(model_bench):
    model_bench(lr, X)
"""


def test_budget_marker_fails_only_its_test_with_one_line(suite: Suite) -> None:
    suite.write(BUDGETS)
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.re_match_lines(
        [
            rf"monthly cost {MONEY} on \w+ > budget \$0\.00 "
            r"\(LogisticRegression, 2,000,000 requests/month\)$",
            rf"monthly cost {MONEY} on aws_fargate > budget \$0\.00 \(LogisticRegression, ",
        ]
    )
    report = suite.report()
    assert suite.verdicts(report) == {
        "test_cheap": [(1, "monthly_cost", "pass")],
        "test_expensive": [(1, "monthly_cost", "fail")],
        "test_on_fargate": [(1, "monthly_cost", "fail")],
        "test_unbudgeted": [],
    }
    costs = {c["nodeid"].split("::")[1]: c for c in report["costs"]}
    assert set(costs) == {"test_cheap", "test_expensive", "test_on_fargate", "test_unbudgeted"}
    assert costs["test_expensive"]["assumptions"]["requests_per_month"] == 2_000_000
    for entry in costs.values():
        assert entry["recommended"] in {row["tier"] for row in entry["tiers"] if row["eligible"]}
    assert "Monthly cost estimates" in (suite.path / "out" / "report.md").read_text()
    result.stdout.fnmatch_lines(["*cost estimates (USD/month*", "*recommended*monthly*"])


@pytest.mark.parametrize("how", ["option", "ini"])
def test_session_budget_fails_the_run_after_the_report(suite: Suite, how: str) -> None:
    suite.write("def test_lr(model_bench):\n    model_bench(lr, X)\n")
    args = ["--mlperf-report=out"]
    if how == "option":
        args.append("--mlperf-budget-usd=0.000001")
    else:
        suite.ini(budget_usd="0.000001")
    result = suite.run(*args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "SESSION BUDGET FAIL: total monthly cost $* over 1 benchmark(s) > session budget $0.00",
            "*wrote out/report.json",
            "*= 1 passed in *",  # pytest's own summary line is still printed
        ]
    )
    report = suite.report()
    assert report["budget"]["verdict"] == "fail"
    assert report["summary"]["verdict"] == "fail"


def test_session_warning_level_does_not_fail(suite: Suite) -> None:
    suite.write("def test_lr(model_bench):\n    model_bench(lr, X)\n")
    result = suite.run("--mlperf-report=out", "--mlperf-budget-warn-usd=0.000001")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["SESSION BUDGET WARN: *session warning level $0.00*"])
    assert suite.report()["summary"]["verdict"] == "pass"


def test_cost_assumptions_from_pyproject_and_marker_overrides(suite: Suite) -> None:
    suite.pytester.makefile(
        ".toml",
        pyproject="[tool.pytest-mlperf.cost]\nrequests_per_month = 123456\npeak_to_average = 2.0\n",
    )
    suite.write(
        """
        def test_default(model_bench):
            model_bench(lr, X)

        @pytest.mark.budget(max_monthly_usd=1e6, requests_per_month=777)
        def test_override(model_bench):
            model_bench(lr, X)
        """
    )
    suite.run("--mlperf-report=out").assert_outcomes(passed=2)
    assumptions = {c["nodeid"].split("::")[1]: c["assumptions"] for c in suite.report()["costs"]}
    assert assumptions["test_default"]["requests_per_month"] == 123456
    assert assumptions["test_override"]["requests_per_month"] == 777
    assert assumptions["test_override"]["peak_to_average"] == 2.0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pyproject", "[tool.pytest-mlperf.cost]\nrequests_per_mnth = 5\n", "*requests_per_mnth*"),
        (
            "pyproject",
            "[tool.pytest-mlperf.cost]\nrequests_per_month = -5\n",
            "*requests_per_month*",
        ),
        ("costs", "[cost\nrequests_per_month = 5\n", "*costs.toml*"),
    ],
)
def test_bad_cost_configuration_is_a_usage_error(
    suite: Suite, name: str, content: str, message: str
) -> None:
    suite.pytester.makefile(".toml", **{name: content})
    suite.write("def test_lr(model_bench):\n    model_bench(lr, X)\n")
    result = suite.run(*(["--mlperf-cost-config=costs.toml"] if name == "costs" else []))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, "*pytest-mlperf: " + message)


def test_missing_cost_config_file_is_named(suite: Suite) -> None:
    suite.write("def test_lr(model_bench):\n    model_bench(lr, X)\n")
    result = suite.run("--mlperf-cost-config=nowhere.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, "*nowhere.toml*")


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("budget(100)", "*keyword arguments only*"),
        ("budget(tier='aws_lambda')", "*max_monthly_usd*"),
        ("budget(max_monthly_usd=10, tier='heroku')", "*unknown tier 'heroku'*"),
        ("budget(max_monthly_usd=10, requests_per_mnth=5)", "*requests_per_mnth*"),
        ("budget(max_monthly_usd=-1)", "*max_monthly_usd*"),
    ],
)
def test_bad_budget_markers_error_their_test_only(suite: Suite, marker: str, message: str) -> None:
    suite.write(
        f"""
        @pytest.mark.{marker}
        def test_bad(model_bench):
            model_bench(lr, X)

        def test_good(model_bench):
            model_bench(lr, X)
        """
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1, errors=1)
    suite.assert_clean_error(result, "*test_bad*invalid marker: @pytest.mark.budget*" + message)
    assert [e["nodeid"] for e in suite.report()["results"]] == ["test_user_suite.py::test_good"]


def test_budget_marker_is_listed(suite: Suite) -> None:
    result = suite.run("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.budget(max_monthly_usd=..., warn_monthly_usd=..., tier=..., **assumptions)*"]
    )
