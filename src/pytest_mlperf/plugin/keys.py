"""What the plugin keeps on each test item between hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ..marks import Limit

if TYPE_CHECKING:  # the measuring core is imported only when a test measures something
    from ..bench import Sweep  # noqa: F401 (named in the keys' types below)
    from ..cost.budget import TestBudget  # noqa: F401
    from ..regression.comparison import Comparison  # noqa: F401
    from ..results import BenchmarkResult  # noqa: F401

LIMITS = pytest.StashKey[list[Limit]]()
MARKER_ERROR = pytest.StashKey[str]()
RESULTS = pytest.StashKey["list[BenchmarkResult]"]()
SWEEPS = pytest.StashKey["list[Sweep]"]()
BUDGET = pytest.StashKey["TestBudget | None"]()
REGRESSION_PCT = pytest.StashKey[float]()
COMPARISONS = pytest.StashKey["list[Comparison]"]()
RECOMMENDATIONS = pytest.StashKey[list[dict[str, Any]]]()
CALL_PASSED = pytest.StashKey[bool]()
