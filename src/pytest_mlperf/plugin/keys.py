"""What the plugin keeps on each test item between hooks."""

from __future__ import annotations

from typing import Any

import pytest

from ..bench import Sweep
from ..budget import TestBudget
from ..marks import Limit
from ..results import BenchmarkResult

LIMITS = pytest.StashKey[list[Limit]]()
MARKER_ERROR = pytest.StashKey[str]()
RESULTS = pytest.StashKey[list[BenchmarkResult]]()
SWEEPS = pytest.StashKey[list[Sweep]]()
BUDGET = pytest.StashKey[TestBudget]()
REGRESSION_PCT = pytest.StashKey[float]()
COMPARISONS = pytest.StashKey[list[dict[str, Any]]]()
RECOMMENDATIONS = pytest.StashKey[list[dict[str, Any]]]()
CALL_PASSED = pytest.StashKey[bool]()
