"""A deadline on a whole measurement, so that a model call that never returns cannot hang a run.

The timed loop cannot look at a clock while the model holds the thread, so the deadline is an
interval timer: when it fires, SIGALRM raises `MeasurementTimeout` in the main thread, inside
the model's call (Python code and sleeps are interrupted; a C call that never gives the
interpreter back is not). It is armed only where that is safe: on POSIX, in the main thread,
and when no other interval timer runs (pytest-timeout's signal method keeps its own).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

DEADLINE_FLOOR_S = 300.0  # never less: a slow model is not a hung one
DEADLINE_FACTOR = 10.0  # x (max_time + warmup_time) of the measurement


class MeasurementTimeout(Exception):
    """The measurement ran past its deadline: a model call did not return."""


def deadline_for(max_time: float, warmup_time: float) -> float:
    """Seconds a whole measurement may take: 10x its time budget, at least 5 minutes."""
    return max(DEADLINE_FLOOR_S, DEADLINE_FACTOR * (max_time + warmup_time))


def _usable() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    )


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise `MeasurementTimeout` if the block is still running after `seconds`."""
    if not _usable():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise MeasurementTimeout(
            f"no answer within {seconds:g} s, the measurement's deadline (10x --mlperf-max-time "
            "and warm-up, at least 300 s): a call that never returns"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
