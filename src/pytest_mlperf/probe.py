"""Clock readings between windows of timed calls, and the machine-speed probe.

A stored baseline comes from another process, often another hour. On a shared machine a whole
process can run twice as fast or as slow as the last one, for reasons that have nothing to do
with the model: other processes take the CPU (contention), or share its caches and memory
bandwidth (a slower CPU second). Two readings taken between windows, never inside the timed
region, let a comparison tell those apart from a slower model (docs/regressions.md):

- **CPU time per call**: the process's CPU time over a window divided by the window's calls.
  Waiting for the CPU does not count, so contention drops out.
- **the probe**: a fixed reference kernel timed in CPU time after each window, on its second
  run (timed on its first, right after the model's calls, it measured the cache state the
  model left and varied 4x more between processes). Its time moves with the machine's speed
  and not with the model, so the ratio of two runs' probes is the ratio of their machines.
  The kernel is the kind of work a library's ``predict`` does around its arithmetic: small
  NumPy arrays checked, reshaped, multiplied and reduced, about 0.05 ms. A slow spell of a
  shared host (another tenant on the same core) slowed a linear model's CPU time 1.4-2.2x and
  a tight dictionary-and-matmul kernel (version 2) only 1.0-1.6x. Each window's CPU time per
  call is divided by the probe run right after it, so a spell that comes and goes between
  windows cancels window by window. On a noisy hour this brought the spread of a linear
  model's CPU time over the probe between unchanged runs from 0.116 to 0.074 (log-sd;
  docs/performance.md, section 5, "Probe version 3").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from .results import Stability

resource: ModuleType | None
try:  # POSIX only: counts the times the scheduler took the CPU away (contention)
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

CONTENTION_FREE = 0.95  # a CPU share at or above this is an uncontended run
# bumped whenever the kernel or how it is timed changes: probes of two versions never compare.
# 2: the kernel runs once untimed before the timed run (version 1 timed its first run)
# 3: a library-style kernel (version 2: dictionary building and matrix products), and CPU time
#    per call divided window by window
PROBE_VERSION = 3
_ROW = [float(i % 7) / 7.0 for i in range(20)]
_COEF = np.random.default_rng(0).random((3, 20))
_BIAS = np.zeros(3)


def probe_kernel() -> int:
    """The fixed reference work: twelve rounds of what a linear model's ``predict`` does with
    one row (array conversion, shape and finiteness checks, a small product, an argmax)."""
    total = 0
    for _ in range(12):
        row = np.asarray(_ROW, dtype=np.float64)
        if row.ndim == 1:
            row = row.reshape(1, -1)
        if not np.isfinite(row).all():
            raise ValueError("the probe's row is not finite")
        scores = row @ _COEF.T + _BIAS
        total += int(scores.argmax(axis=1)[0])
    return total


def timed_probe_ns() -> int:
    """CPU nanoseconds of one run of the probe, after an untimed run: the model's calls left
    the caches cold, and a first run would time them rather than the machine."""
    probe_kernel()
    cpu = time.process_time_ns()
    probe_kernel()
    return time.process_time_ns() - cpu


Stamp = tuple[int, int, int]  # (process CPU ns, wall ns, involuntary context switches)


def _stamp() -> Stamp:
    switches = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw if resource else 0
    return (time.process_time_ns(), time.perf_counter_ns(), switches)


@dataclass
class WindowClock:
    """Readings at the start and end of every window of timed calls, and a probe in between.

    Off when a test supplies its own clock: CPU time means nothing against a fake one.
    """

    enabled: bool
    windows: list[tuple[Stamp, Stamp, int]] = field(default_factory=list)
    probe_ns: list[int] = field(default_factory=list)
    _start: Stamp | None = None
    _calls: int = 0

    def start(self, calls: int) -> None:
        """A window starts after ``calls`` timed calls."""
        if self.enabled:
            self._start, self._calls = _stamp(), calls

    def end(self, calls: int) -> None:
        """The window ends after ``calls`` timed calls, and the probe runs; the caller starts
        the next window (after a call that warms the caches again: bench.py)."""
        if not self.enabled or self._start is None:
            return
        stamp = _stamp()
        if calls > self._calls:
            self.windows.append((self._start, stamp, calls - self._calls))
            self.probe_ns.append(timed_probe_ns())  # one per window: they pair up
        self._start = None

    def cpu_ms_per_call(self) -> list[float]:
        """Each window's process CPU time divided by its calls, in ms."""
        return [(end[0] - begin[0]) / calls / 1e6 for begin, end, calls in self.windows]

    def probe_ms(self) -> float | None:
        """The median CPU time of the probe, in ms; None without a window."""
        return float(np.median(self.probe_ns)) / 1e6 if self.probe_ns else None

    def probe_windows_ms(self) -> list[float]:
        """The probe's CPU time after each window, in ms (one per window)."""
        return [ns / 1e6 for ns in self.probe_ns]


def _probed(figures: Stability | None) -> float | None:
    if figures is None or figures.probe_ms is None or figures.probe_ms <= 0:
        return None
    return figures.probe_ms


def machine_ratio(baseline: Stability | None, current: Stability | None) -> float | None:
    """How much slower the current run's machine was than the baseline's: the ratio of their
    probes (above 1: slower). None unless both ran the same version of the probe."""
    base, cur = _probed(baseline), _probed(current)
    if base is None or cur is None or baseline is None or current is None:
        return None
    if baseline.probe_version != current.probe_version:
        return None
    return cur / base


def cpu_per_call(figures: Stability | None, in_probe_units: bool) -> np.ndarray | None:
    """Each window's CPU time per call, in units of the run's probe or in ms. None without
    the readings."""
    if in_probe_units:
        return cpu_in_probe_units(figures)
    if figures is None or not figures.cpu_windows_ms:
        return None
    return np.maximum(np.asarray(figures.cpu_windows_ms, dtype=np.float64), 1e-9)


def cpu_in_probe_units(figures: Stability | None) -> np.ndarray | None:
    """Each window's CPU time per call divided by the probe run right after it (by the run's
    median probe when the run kept no probe per window, before version 3): what the model
    costs in units of this machine's speed at the time, comparable across runs. None without
    both."""
    probe = _probed(figures)
    if figures is None or probe is None or not figures.cpu_windows_ms:
        return None
    cpu = np.asarray(figures.cpu_windows_ms, dtype=np.float64)
    paired = np.asarray(figures.probe_windows_ms, dtype=np.float64)
    divisor = paired if paired.shape == cpu.shape and np.all(paired > 0) else probe
    floored: np.ndarray = np.maximum(cpu / divisor, 1e-9)
    return floored


def contended(figures: Stability | None) -> bool:
    """Whether other processes took the CPU from this run: its wall-clock times then include
    waiting, which says nothing about the model."""
    share = None if figures is None else figures.cpu_share
    return share is not None and share < CONTENTION_FREE
