"""Peak extra memory of one call, measured apart from timing.

memray intercepts the allocator itself, so NumPy buffers, BLAS workspaces and C++ runtimes
count, not only Python objects. Where memray is missing or already tracking (pytest-memray),
tracemalloc is the fallback: it sees Python objects and NumPy arrays, not BLAS internals.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

MB = 1024 * 1024


def peak_call_memory_mb(call: Callable[[], Any]) -> tuple[float, str]:
    """Run `call` once; return (peak extra MB allocated during it, backend name)."""
    try:
        import memray
    except ImportError:
        return _with_tracemalloc(call), "tracemalloc"
    if sys.getprofile() is not None or threading.getprofile() is not None:
        # memray hands profile hooks back through threading.setprofile when it stops, which
        # rejects cProfile's profiler object: under a profiler, use tracemalloc
        return _with_tracemalloc(call), "tracemalloc"
    with tempfile.TemporaryDirectory(prefix="mlperf-mem-") as tmp:
        path = os.path.join(tmp, "call.bin")
        try:
            # the aggregated format keeps only the totals we read: half the cost of a capture
            aggregated = memray.FileFormat.AGGREGATED_ALLOCATIONS
            tracker = memray.Tracker(path, follow_fork=False, file_format=aggregated)
            tracker.__enter__()
        except RuntimeError:  # another memray tracker is active in this process
            return _with_tracemalloc(call), "tracemalloc"
        try:
            call()
        finally:
            tracker.__exit__(None, None, None)
        peak = memray.FileReader(path).metadata.peak_memory
    return peak / MB, "memray"


def resident_mb() -> float | None:
    """The process's resident memory now (MB): what a server running this model would hold.

    From /proc on Linux, else the peak from getrusage (macOS); None where neither exists.
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak) / (MB if sys.platform == "darwin" else 1024)


def _with_tracemalloc(call: Callable[[], Any]) -> float:
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0.0, (peak - base) / MB)
