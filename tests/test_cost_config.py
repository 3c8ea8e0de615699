"""The price table and the cost configuration: provenance, overrides, and bad input."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pytest_mlperf.cost import (
    ASSUMPTION_KEYS,
    Assumptions,
    CostConfigError,
    bundled_prices,
    config_from_mapping,
    load_cost_config,
    load_prices,
    validate_overrides,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cost-model.md"


def bundled_raw() -> dict[str, Any]:
    text = resources.files("pytest_mlperf").joinpath("pricing/default.toml").read_text("utf-8")
    return tomllib.loads(text)


# --- the bundled table ------------------------------------------------------------------------


def test_every_bundled_number_has_a_source() -> None:
    raw = bundled_raw()
    for section, table in raw.items():
        if not isinstance(table, dict) or section == "sources":
            continue
        for key, value in table.items():
            if key == "sources":
                continue
            if isinstance(value, dict):  # an instance type
                assert value.get("source"), f"{section}.{key} has no source"
            else:
                assert table.get("sources", {}).get(key), f"{section}.{key} has no source"
    prices = bundled_prices()
    assert prices.sources["aws_lambda.gb_s_x86"].startswith("cloudchipr")
    assert "infracost" in prices.sources["hours_per_month"]
    assert set(prices.aws_ec2) >= {"c7g.large", "c6i.large", "m6i.large", "g5.xlarge"}


def test_bundled_table_has_the_research_prices() -> None:
    p = bundled_prices()
    assert p.as_of.isoformat() == "2026-11-26" and p.currency == "USD"
    assert p.aws_lambda.request_per_million == 0.20
    assert p.aws_lambda.gb_s("arm64").first_price == 0.0000133334
    assert p.cloud_run.req_vcpu_s == 0.000024 and p.cloud_run.inst_vcpu_s == 0.000018
    assert p.aws_fargate.rates("arm64") == (0.03238, 0.00356)
    assert p.clusters.eks_h == 0.10 and p.clusters.gke_free_credit == 74.40
    assert p.aws_ec2["g5.xlarge"].gpu_memory_gb == 24
    assert p.hours_per_month == 730


# --- overrides --------------------------------------------------------------------------------


def test_price_overrides_replace_numbers_and_record_their_origin() -> None:
    p = load_prices(
        {
            "as_of": "2027-01-01",
            "aws_lambda": {"request_per_million": 0.25, "gb_s_x86": 0.00002},
            "aws_ec2": {
                "c6i.large": 0.09,
                "c7i.large": {"hourly": 0.089, "vcpu": 2, "memory_gb": 4, "arch": "x86_64"},
            },
        },
        where="my.toml: [pricing]",
    )
    assert p.aws_lambda.request_per_million == 0.25
    assert p.aws_lambda.gb_s("x86_64").steps == ((float("inf"), 0.00002),)
    assert p.aws_ec2["c6i.large"].hourly == 0.09
    assert p.aws_ec2["c6i.large"].vcpu == 2  # kept from the bundled table
    assert p.aws_ec2["c7i.large"].hourly == 0.089
    assert p.sources["aws_lambda.request_per_million"] == "override in my.toml: [pricing]"
    assert p.as_of.isoformat() == "2027-01-01"
    assert "overridden by my.toml" in p.origin
    assert bundled_prices().aws_lambda.request_per_million == 0.20  # the bundle is untouched


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"aws_lambda": {"request_per_millon": 1}}, r"unknown key 'aws_lambda.request_per_millon'"),
        ({"aws_lambda": {"request_per_million": "cheap"}}, r"aws_lambda.request_per_million"),
        ({"aws_lambda": {"request_per_million": -1}}, r"zero or more"),
        ({"aws_lambda": {"request_per_million": True}}, r"expected a number"),
        ({"aws_lambda": {"gb_s_x86": [[1, 2]]}}, r"unbounded"),
        ({"aws_lambda": 3}, r"aws_lambda: expected a table"),
        ({"azure": {}}, r"unknown key 'azure'"),
        ({"as_of": "yesterday"}, r"as_of: expected a date"),
        ({"aws_ec2": {"x9.huge": 1.0}}, r"aws_ec2.x9.huge: unknown instance type"),
        ({"aws_ec2": {"x9.huge": {"hourly": 1.0}}}, r"aws_ec2.x9.huge.vcpu: missing"),
        ({"aws_ec2": {"c6i.large": {"arch": "sparc"}}}, r"arch: expected one of"),
    ],
)
def test_bad_price_overrides_name_the_key(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(CostConfigError, match=match) as info:
        load_prices(overrides, where="costs.toml: [pricing]")
    assert str(info.value).startswith("costs.toml: [pricing]")


def test_assumption_overrides_are_validated_and_normalised() -> None:
    out = validate_overrides(
        {
            "monthly_requests": 5_000_000,
            "tiers": ["cloud_run", "aws_lambda"],
            "arch": "ARM64",
            "latency_slo_ms": 200,
            "min_replicas": 2,
        }
    )
    assert out == {
        "requests_per_month": 5_000_000.0,
        "tiers": ("cloud_run_request", "cloud_run_instance", "aws_lambda"),
        "arch": "arm64",
        "latency_limit_ms": 200.0,
        "min_replicas": 2,
    }


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            {"requests_per_month": 0},
            r"requests_per_month: expected a number above 0 and at most 1e\+15, got 0",
        ),
        ({"requests_per_month": -5}, r"requests_per_month"),
        ({"requests_per_month": "5M"}, r"requests_per_month"),
        ({"requests_per_month": float("nan")}, r"requests_per_month"),
        ({"peak_to_average": 0.5}, r"peak_to_average: expected a number of at least 1"),
        ({"peak_hours": 25}, r"peak_hours"),
        ({"target_utilization": 1.5}, r"target_utilization"),
        ({"min_replicas": 1.5}, r"min_replicas: expected a whole number"),
        ({"apply_free_tier": "yes"}, r"apply_free_tier: expected true or false"),
        ({"arch": "sparc"}, r"arch: expected one of x86_64, arm64, any"),
        ({"strategy": "cheapest"}, r"strategy: expected one of cost, speed, balanced"),
        ({"tiers": ["aws_lamda"]}, r"unknown tier 'aws_lamda' \(did you mean 'aws_lambda'\?\)"),
        ({"tiers": []}, r"tiers: expected a non-empty list"),
        ({"peak_to_averag": 2}, r"unknown key 'peak_to_averag' \(did you mean 'peak_to_average'"),
        ({"monthly_requests": 1, "requests_per_month": 2}, r"given twice"),
        ({"lambda_memory_mb": 64}, r"lambda_memory_mb"),
    ],
)
def test_bad_assumptions_name_the_key(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(CostConfigError, match=match) as info:
        validate_overrides(overrides, where="pyproject.toml: [tool.pytest-mlperf.cost]")
    assert str(info.value).startswith("pyproject.toml: [tool.pytest-mlperf.cost]")


def test_every_assumption_is_a_validated_key_and_documented() -> None:
    fields = {f.name for f in dataclasses.fields(Assumptions)}
    assert set(ASSUMPTION_KEYS) == fields
    docs = DOCS.read_text(encoding="utf-8")
    for key in ASSUMPTION_KEYS:
        assert f"| `{key}` |" in docs, f"{key} is not in the docs' table of assumptions"


def test_unknown_region_is_an_error_not_a_silent_us_east_1() -> None:
    with pytest.raises(CostConfigError, match="region: no prices for 'eu-west-1'"):
        config_from_mapping({"region": "eu-west-1"}, None)
    config = config_from_mapping(
        {"region": "eu-west-1"}, {"aws_region": "eu-west-1", "aws_fargate": {"vcpu_h_x86": 0.0445}}
    )
    assert config.assumptions.region == "eu-west-1"
    assert config.prices.aws_fargate.vcpu_h_x86 == 0.0445


def test_unknown_instance_type_in_assumptions() -> None:
    with pytest.raises(CostConfigError, match="eks_node_type: no price for instance type"):
        config_from_mapping({"eks_node_type": "z1.tiny"}, None)


# --- files ------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_pyproject_sections_are_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pyproject.toml",
        """
[project]
name = "x"

[tool.pytest-mlperf.cost]
requests_per_month = 5_000_000
peak_to_average = 2.0
tiers = ["aws_lambda", "kubernetes"]

[tool.pytest-mlperf.pricing.aws_fargate]
vcpu_h_x86 = 0.05
""",
    )
    config = load_cost_config(path)
    assert config.assumptions.requests_per_month == 5e6
    assert config.assumptions.peak_to_average == 2.0
    assert config.assumptions.tiers == ("aws_lambda", "aws_eks", "gke")
    assert config.prices.aws_fargate.vcpu_h_x86 == 0.05
    assert config.source == str(path)


def test_a_pyproject_without_cost_sections_gives_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    config = load_cost_config(path)
    assert config.assumptions == Assumptions()
    assert config.prices == bundled_prices()
    assert load_cost_config(None).assumptions == Assumptions()


def test_a_standalone_file_uses_cost_and_pricing_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "costs.toml",
        "[cost]\nrequests_per_month = 1e7\n\n[pricing.clusters]\neks_h = 0.6\n",
    )
    config = load_cost_config(path)
    assert config.assumptions.requests_per_month == 1e7
    assert config.prices.clusters.eks_h == 0.6


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("pyproject.toml", "[tool.pytest-mlperf.cost\n", r"not valid TOML"),
        (
            "pyproject.toml",
            "[tool.pytest-mlperf.cost]\nrequests_per_month = 0\n",
            r"pyproject.toml: \[tool.pytest-mlperf.cost\]: requests_per_month",
        ),
        (
            "pyproject.toml",
            "[tool.pytest-mlperf.cost]\npeak = 2\n",
            r"\[tool.pytest-mlperf.cost\]: unknown key 'peak'",
        ),
        (
            "pyproject.toml",
            "[tool.pytest-mlperf.pricing.aws_lambda]\ngb_s_x86 = 'x'\n",
            r"\[tool.pytest-mlperf.pricing\]: aws_lambda.gb_s_x86",
        ),
        (
            "pyproject.toml",
            "[tool.pytest-mlperf]\ncost = 3\n",
            r"\[tool.pytest-mlperf.cost\]: expected a table",
        ),
        ("costs.toml", "requests_per_month = 5\n", r"unknown top-level key 'requests_per_month'"),
        ("costs.toml", "[cost]\ntiers = ['azure']\n", r"costs.toml: \[cost\]: tiers: unknown tier"),
        ("costs.toml", "[cost]\narch = 'sparc'\n", r"costs.toml: \[cost\]: arch"),
    ],
)
def test_bad_files_name_the_file_and_key(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(CostConfigError, match=match) as info:
        load_cost_config(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CostConfigError, match="cannot read"):
        load_cost_config(tmp_path / "nope.toml")


def test_the_docs_pyproject_example_loads(tmp_path: Path) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", docs, flags=re.S)
    example = next(b for b in blocks if "[tool.pytest-mlperf.cost]" in b)
    config = load_cost_config(write(tmp_path, "pyproject.toml", example))
    assert config.assumptions.requests_per_month == 5e6
    assert config.assumptions.arch == "any"
    assert config.assumptions.latency_limit_ms == 200
    assert "cloud_run_instance" in config.assumptions.tiers
    assert config.prices.aws_ec2["c7i.large"].hourly == 0.08925
    assert config.prices.sources["aws_ec2.c7i.large"] == "AWS Price List API, 2026-11-26"


def test_overrides_on_a_loaded_config_keep_its_prices(tmp_path: Path) -> None:
    path = write(tmp_path, "costs.toml", "[pricing.clusters]\neks_h = 0.6\n")
    config = load_cost_config(path).with_overrides(
        {"requests_per_month": 42}, where="test_x: budget marker"
    )
    assert config.assumptions.requests_per_month == 42
    assert config.prices.clusters.eks_h == 0.6
    with pytest.raises(CostConfigError, match=r"^test_x: budget marker: region"):
        config.with_overrides({"region": "mars-1"}, where="test_x: budget marker")
