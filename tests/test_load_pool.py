"""The pools under interruption: Ctrl-C during a load run stops every worker thread and
process, and leaves none behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_mlperf.load import LoadError, load
from pytest_mlperf.load.pool import MAX_BACKLOG

X = np.zeros((8, 2))

main_thread_only = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="Python delivers signals to the main thread only",
)


class CtrlC:
    """On call number `at`, the first caller to create `flag` sends SIGINT to this process,
    or with `parent` to the process that started it (a worker process's parent)."""

    def __init__(self, at: int, flag: str, parent: bool = False) -> None:
        self.at, self.flag, self.parent, self.calls = at, flag, parent, 0

    def predict(self, batch: Any) -> None:
        self.calls += 1
        if self.calls != self.at:
            return
        try:
            os.close(os.open(self.flag, os.O_CREAT | os.O_EXCL))
        except FileExistsError:  # once only, as a user presses Ctrl-C once
            return
        os.kill(os.getppid() if self.parent else os.getpid(), signal.SIGINT)


def _load_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("mlperf-load")]


@main_thread_only
def test_ctrl_c_stops_the_thread_pool(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        load(CtrlC(20, str(tmp_path / "once")), X, rps=200, workers=2, duration_s=5)
    for _ in range(50):  # the workers finish the calls they are in, then stop
        if not _load_threads():
            break
        threading.Event().wait(0.05)
    assert _load_threads() == []


@main_thread_only
def test_ctrl_c_stops_the_worker_processes(tmp_path: Path) -> None:
    model = CtrlC(10, str(tmp_path / "once"), parent=True)
    with pytest.raises(KeyboardInterrupt):
        load(model, X, rps=200, workers=2, duration_s=5, pool="processes")
    assert multiprocessing.active_children() == []
    assert _load_threads() == []


def _die(batch: Any) -> None:
    os._exit(3)


def test_a_dying_worker_process_is_named_and_leaves_no_orphans() -> None:
    with pytest.raises(LoadError, match=r"worker process \d \(pid \d+\) died with exit code 3"):
        load(_die, X, rps=100, workers=2, duration_s=2, pool="processes")
    assert multiprocessing.active_children() == []
    assert _load_threads() == []


def _one_ms(batch: Any) -> None:
    time.sleep(0.001)


def test_backlog_of_worker_processes_is_capped() -> None:
    # 1 ms calls offered 3,000 requests/s: the queue to the one worker grows by about 2,000
    # a second until MAX_BACKLOG requests wait; the rest are turned away at once (the pipe to
    # the workers never fills), and the run is saturated
    result = load(_one_ms, X, rps=3000, duration_s=1, pool="processes", arrival="constant")
    assert result.saturated and "dropped" in result.saturation_reason
    assert result.dropped > 0 and result.n_samples >= MAX_BACKLOG
