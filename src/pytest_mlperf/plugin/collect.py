"""Collection: each test's markers validated once, their limits, budget and regression
tolerance kept on the item; a bad marker fails only its test, when it is set up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ..marks import (
    BUDGET_MARKER,
    MARKERS,
    REGRESSION_MARKER,
    Limit,
    MarkerError,
    parse_marker,
    parse_regression,
)
from . import keys, lazy

if TYPE_CHECKING:
    from ..cost.budget import TestBudget
    from .manager import Manager


def item_limits(item: pytest.Item) -> list[Limit]:
    """Every marker's limits; where a test, its class and its module limit the same metric,
    the closest marker wins (a test may relax or tighten its module's budget)."""
    chosen: dict[str, Limit] = {}
    for name in MARKERS:
        given: dict[tuple[int, str], float] = {}  # (node, metric): a limit set twice on one node
        for node, mark in item.iter_markers_with_node(name):  # closest first
            for limit in parse_marker(name, mark.args, mark.kwargs):
                earlier = given.setdefault((id(node), limit.metric), limit.value)
                if earlier != limit.value:
                    raise MarkerError(
                        f"two @pytest.mark.{name} markers on {node.name} set {limit.metric} "
                        f"({earlier:g} and {limit.value:g}): keep one"
                    )
                chosen.setdefault(limit.metric, limit)
    return list(chosen.values())


class MarkerCollector:
    """Reads the markers of collected tests into their stash, and fails a badly marked test."""

    def __init__(self, run: Manager) -> None:
        self.run = run

    def prepare(self, items: list[pytest.Item]) -> None:
        ours = {*MARKERS, BUDGET_MARKER, REGRESSION_MARKER}
        for item in items:
            if "model_bench" in getattr(item, "fixturenames", ()):
                self.run.watch_tests()
            if ours.isdisjoint(mark.name for mark in item.iter_markers()):
                continue  # the fast path for the many tests without our markers
            self.run.watch_tests()
            try:
                limits = item_limits(item)
                item.stash[keys.BUDGET] = self._item_budget(item)
                mark = item.get_closest_marker(REGRESSION_MARKER)
                if mark is not None:
                    item.stash[keys.REGRESSION_PCT] = parse_regression(mark.args, mark.kwargs)
            except MarkerError as exc:
                item.stash[keys.MARKER_ERROR] = f"invalid marker: {exc}"
                continue
            if limits:
                item.stash[keys.LIMITS] = limits

    def _item_budget(self, item: pytest.Item) -> TestBudget | None:
        """The closest budget marker, validated, with its assumption overrides applied."""
        mark = item.get_closest_marker(BUDGET_MARKER)
        if mark is None:
            return None  # priced with the run's configuration, if the test measures anything
        lazy.load("cost")
        from ..cost import CostConfigError
        from ..cost.budget import TestBudget, parse_budget

        where = "@pytest.mark.budget"
        if mark.args:
            raise MarkerError(f"{where} takes keyword arguments only, got {mark.args!r}")
        try:
            spec = parse_budget(mark.kwargs, where=where)
            return TestBudget(
                self.run.cost_config.with_overrides(spec.overrides, where=where), spec
            )
        except CostConfigError as exc:
            raise MarkerError(str(exc)) from None

    def check(self, item: pytest.Item) -> None:
        error = item.stash.get(keys.MARKER_ERROR, None)
        if error is not None:
            self.run.item_error(item, error)
            pytest.fail(f"pytest-mlperf: {item.nodeid}: {error}", pytrace=False)
