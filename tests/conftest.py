"""Shared helpers for the plugin tests: real scikit-learn models and real pytest runs.

Every plugin test writes ordinary test files into a `pytester` folder and runs pytest on them
the way a user would. Limits in those files are either wildly generous (`GENEROUS`, thousands
of times what the models need) or impossible (`IMPOSSIBLE`, faster than any call can be), or
the model's latency is engineered (`slow` busy-waits), so no verdict depends on the machine.
The files are named `user_*` so that they never share a module name with a test of this folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import textwrap
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import joblib  # noqa: F401
import pytest
import sklearn.datasets
import sklearn.linear_model
import sklearn.tree  # noqa: F401
from hypothesis import settings

# `make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs the hostile-input strategies far longer
settings.register_profile("fuzz", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Imported once here (above, too): pytester forgets the modules each run imported, and
# importing these again in every run would cost more than the measurements themselves. The
# HTML renderer's figures too.
with contextlib.suppress(ImportError):
    import memray  # noqa: F401
with contextlib.suppress(ImportError):
    import pytest_mlperf.report.plots  # noqa: F401

MODELS = """
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

X, y = make_classification(n_samples=300, n_features=10, random_state=0)
lr = LogisticRegression(max_iter=200).fit(X, y)
tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)

GENEROUS = 1000  # ms, MB: far beyond what these models need on any machine
IMPOSSIBLE = 1e-6  # ms: one nanosecond, faster than any call
MANY_RPS = 1e12  # rows per second no model reaches


def noop(batch):
    return None


def allocate(batch):
    # about 1.6 MB of NumPy memory on every call
    return np.ones(200_000)


def slow(batch):
    # at least 2 ms per call, never faster: a busy wait, not a sleep
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass


def boom(batch):
    raise RuntimeError("model exploded")


class Counter:
    # a callable model that counts its calls
    def __init__(self):
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
"""

HEADER = "import pytest\nfrom user_models import *  # noqa: F403\n\n"

# Keeps every measurement short even when a verdict is slow to come (an ini value, so the
# command line can still override it).
DEFAULT_INI = {"max_time": 2}


class Suite:
    """A pytester folder with `user_models.py`, plus the steps every plugin test repeats."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path: Path = pytester.path
        self.ini()

    def write(self, *sources: str, name: str = "test_user_suite") -> Path:
        """A test file: `import pytest`, everything from user_models.py, then each of `sources`."""
        body = "\n\n".join(textwrap.dedent(source) for source in sources)
        path: Path = self.pytester.makepyfile(**{name: HEADER + body})
        return path

    def ini(self, **values: Any) -> None:
        """The ini file (tox.ini) with these `mlperf_*` settings added to `DEFAULT_INI`."""
        settings = {**DEFAULT_INI, **values}
        lines = "".join(f"mlperf_{key} = {value}\n" for key, value in settings.items())
        self.pytester.makeini("[pytest]\n" + lines)

    def run(self, *args: str) -> pytest.RunResult:
        # Hypothesis' plugin imports all of hypothesis at the end of every session: a second
        # per run here, as pytester forgets imported modules. Nothing here uses it.
        return self.pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)

    def report(self, folder: str = "out") -> dict[str, Any]:
        """The run's report.json, parsed strictly (NaN or Infinity would be invalid JSON)."""
        text = (self.path / folder / "report.json").read_text(encoding="utf-8")
        data: dict[str, Any] = json.loads(text, parse_constant=_reject)
        return data

    @staticmethod
    def verdicts(report: dict[str, Any]) -> dict[str, list[tuple[int, str, str]]]:
        """{test name: [(batch_size, metric, verdict), ...]} over every result of the report."""
        out: dict[str, list[tuple[int, str, str]]] = {}
        for entry in report["results"]:
            name = entry["nodeid"].split("::", 1)[1]
            rows = [(entry["batch_size"], c["metric"], c["verdict"]) for c in entry["checks"]]
            out.setdefault(name, []).extend(rows)
        return out

    @staticmethod
    def assert_clean_error(result: pytest.RunResult, *patterns: str) -> None:
        """No INTERNALERROR anywhere, and each fnmatch pattern in stdout or stderr."""
        assert result.ret != pytest.ExitCode.INTERNAL_ERROR
        text = result.stdout.str() + "\n" + result.stderr.str()
        assert "INTERNALERROR" not in text
        lines = text.splitlines()
        missing = [p for p in patterns if not any(fnmatch(line, p) for line in lines)]
        assert not missing, f"not in the output: {missing}\n{text}"


def _reject(token: str) -> None:
    raise ValueError(f"report.json holds {token}, which is not JSON")


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Suite:
    """A `Suite`: pytester with `user_models.py` (fitted LogisticRegression `lr`, tree, data X)."""
    # a CI runner's own step summary must not receive the reports of these inner runs
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makepyfile(user_models=MODELS)
    pytester.syspathinsert()
    return Suite(pytester)
