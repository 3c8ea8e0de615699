"""The reference page documents every option, ini setting, marker and command there is."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mlperf.marks import BUDGET_MARKER, MARKERS, REGRESSION_MARKER
from pytest_mlperf.settings import OPTIONS, Option

REFERENCE = (Path(__file__).parent.parent / "docs" / "reference.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_every_option_and_its_ini_twin_is_documented(option: Option) -> None:
    assert f"`{option.cli}" in REFERENCE
    assert f"`{option.ini}" in REFERENCE


@pytest.mark.parametrize("marker", [*MARKERS, BUDGET_MARKER, REGRESSION_MARKER])
def test_every_marker_is_documented(marker: str) -> None:
    assert f"@pytest.mark.{marker}(" in REFERENCE


@pytest.mark.parametrize("command", ["cost", "compare", "report", "merge"])
def test_every_command_is_documented(command: str) -> None:
    assert f"pytest-mlperf {command}" in REFERENCE
