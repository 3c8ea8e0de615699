"""Shared set-up for the example suite.

One BLAS/OpenMP thread per test process: on a shared CI runner, extra threads compete with the
other jobs (and with the other pytest-xdist worker) for the same cores, and latency tails get
long and erratic. Serving processes are usually pinned the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def one_thread_per_process() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield
