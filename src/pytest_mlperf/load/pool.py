"""Serving scheduled requests with a pool of threads or worker processes, timing each one.

The generator (the calling thread) sends request i at its scheduled time and never waits for
an answer; workers take requests first come, first served. Every time is a
`time.perf_counter_ns` reading (CLOCK_MONOTONIC, the same clock in every process), so the
scheduled, sent, start and end times of one request can be subtracted across processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..bench import BenchmarkError

OK, DROPPED, ERROR, LOST = 0, 1, 2, 3  # a request's status
SPIN_NS = 200_000  # sleep until this close to a send time, then yield in a loop
MAX_BACKLOG = 1000  # requests waiting at once for worker processes (keeps the pipe from filling)
READY_TIMEOUT_S = 120.0
POLL_S = 0.1
WARMUP_CALLS = 5

IntArray = npt.NDArray[np.int64]


class LoadError(BenchmarkError):
    """The load run could not be completed as asked (a dead worker, an unpicklable model)."""


@dataclass
class Timings:
    """Per-request times in ns (perf_counter) and statuses of one run."""

    scheduled: IntArray
    sent: IntArray
    start: IntArray
    end: IntArray
    status: npt.NDArray[np.int8]
    blas_threads: int | None = None
    blas_libraries: list[dict[str, Any]] = field(default_factory=list)
    first_error: str | None = None
    error: BaseException | None = None
    queued: int = 0  # handed to the workers
    answered: int = 0  # of those, answered (or dropped by a worker)

    @classmethod
    def empty(cls, scheduled: IntArray) -> Timings:
        n = scheduled.size
        return cls(
            scheduled=scheduled,
            sent=np.full(n, -1, dtype=np.int64),
            start=np.full(n, -1, dtype=np.int64),
            end=np.full(n, -1, dtype=np.int64),
            status=np.full(n, LOST, dtype=np.int8),
        )


def default_blas_threads(workers: int) -> int:
    """BLAS/OpenMP threads per worker so that all workers together fill the cores, no more."""
    return max(1, (os.cpu_count() or 1) // workers)


@contextlib.contextmanager
def pinned_blas(threads: int | None) -> Iterator[list[dict[str, Any]]]:
    """Limit BLAS/OpenMP pools to `threads` (threadpoolctl); yields what each library uses."""
    from threadpoolctl import threadpool_info, threadpool_limits

    if threads is None:
        yield _libraries(threadpool_info())
        return
    with threadpool_limits(limits=threads):
        yield _libraries(threadpool_info())


def _libraries(info: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"api": str(lib.get("internal_api", "")), "threads": int(lib.get("num_threads", 0))}
        for lib in info
    ]


def _send_all(
    scheduled: IntArray,
    sent: IntArray,
    send: Callable[[int], None],
    stop: threading.Event,
    progress: Callable[[int], None] | None,
) -> None:
    """Send request i at scheduled[i]: sleep until shortly before, then yield until then."""
    clock, sleep = time.perf_counter_ns, time.sleep
    next_report = clock() + 2_000_000_000
    for i in range(scheduled.size):
        target = int(scheduled[i])
        wait = target - clock()
        if wait > SPIN_NS:
            sleep((wait - SPIN_NS) / 1e9)
        while clock() < target:
            sleep(0)  # releases the GIL while waiting out the last fraction of a millisecond
        sent[i] = clock()
        send(i)
        if stop.is_set():
            return
        if progress is not None and sent[i] > next_report:
            progress(i + 1)
            next_report = sent[i] + 2_000_000_000


def run_threads(
    fn: Callable[[Any], Any],
    batches: list[Any],
    offsets: IntArray,
    *,
    workers: int,
    timeout_ns: int,
    blas_threads: int | None,
    progress: Callable[[int], None] | None = None,
    start_delay_ns: int = 10_000_000,
) -> Timings:
    """Serve the schedule (`offsets`: ns from the start, fixed after the warm-up) with
    `workers` threads of this process sharing one model."""
    t = Timings.empty(np.asarray(offsets, dtype=np.int64).copy())
    requests: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    stop = threading.Event()
    lock = threading.Lock()
    count = len(batches)

    def serve() -> None:
        clock = time.perf_counter_ns
        while True:
            i = requests.get()
            if i is None:
                return
            s = clock()
            if stop.is_set() or s - t.scheduled[i] > timeout_ns:
                t.start[i], t.status[i] = s, DROPPED
                continue
            try:
                fn(batches[i % count])
            except Exception as exc:
                t.start[i], t.end[i], t.status[i] = s, clock(), ERROR
                with lock:
                    if t.error is None:
                        t.error = exc
                        t.first_error = "".join(traceback.format_exception(exc))
                stop.set()
                continue
            t.start[i], t.end[i], t.status[i] = s, clock(), OK

    def send(i: int) -> None:
        requests.put(i)

    with pinned_blas(blas_threads) as libraries:
        t.blas_threads, t.blas_libraries = blas_threads, libraries
        try:
            for _ in range(WARMUP_CALLS):
                fn(batches[0])
        except Exception as exc:  # reported like an error under load, with its traceback
            t.error, t.first_error = exc, "".join(traceback.format_exception(exc))
            return t
        threads = [
            threading.Thread(target=serve, name=f"mlperf-load-{k}", daemon=True)
            for k in range(workers)
        ]
        for thread in threads:
            thread.start()
        t.scheduled = t.scheduled + (time.perf_counter_ns() + start_delay_ns)
        try:
            _send_all(t.scheduled, t.sent, send, stop, progress)
        finally:
            stop_after = time.perf_counter_ns() + timeout_ns * 2
            if stop.is_set() or not _all_sent(t):
                stop.set()
            for _ in threads:
                requests.put(None)
            for thread in threads:
                thread.join(max(0.0, (stop_after - time.perf_counter_ns()) / 1e9))
            if any(thread.is_alive() for thread in threads):
                stop.set()  # a call that never returns: its request stays LOST
    return t


def _all_sent(t: Timings) -> bool:
    return bool(t.sent[-1] >= 0) if t.sent.size else True


# -- worker processes --------------------------------------------------------------------


def _process_main(
    index: int,
    payload: bytes,
    scheduled: IntArray,
    timeout_ns: int,
    blas_threads: int | None,
    requests: Any,
    results: Any,
) -> None:
    """One worker process: its own copy of the model, pinned BLAS, FCFS from the shared queue."""
    clock = time.perf_counter_ns
    try:
        fn, batches = pickle.loads(payload)
        count = len(batches)
        with pinned_blas(blas_threads) as libraries:
            for _ in range(WARMUP_CALLS):
                fn(batches[0])
            results.put(("ready", index, os.getpid(), libraries))
            while True:
                i = requests.get()
                if i is None:
                    break
                s = clock()
                if s - scheduled[i] > timeout_ns:
                    results.put((i, DROPPED, s, s, None))
                    continue
                try:
                    fn(batches[i % count])
                except Exception:
                    results.put((i, ERROR, s, clock(), traceback.format_exc()))
                    continue
                results.put((i, OK, s, clock(), None))
    except Exception:
        results.put(("failed", index, os.getpid(), traceback.format_exc()))
    results.put(("done", index, os.getpid(), None))


def picklable_payload(fn: Callable[[Any], Any], batches: list[Any], label: str) -> bytes:
    """The model and its batches as one pickle, sent once to every worker process."""
    try:
        return pickle.dumps((fn, batches), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # PicklingError, AttributeError, TypeError: all mean the same
        raise LoadError(
            f"{label} cannot be pickled for pool='processes' ({type(exc).__name__}: {exc}); "
            "use pool='threads', or define the model at module level so it can be pickled"
        ) from None


def _context() -> Any:
    """fork on Linux (fast, and the test module's classes need not be importable again);
    spawn elsewhere, where fork is unsafe (macOS) or missing (Windows)."""
    linux = sys.platform.startswith("linux")
    return multiprocessing.get_context("fork" if linux else "spawn")


def run_processes(
    payload: bytes,
    scheduled_offsets: IntArray,
    *,
    workers: int,
    timeout_ns: int,
    blas_threads: int | None,
    progress: Callable[[int], None] | None = None,
    start_delay_ns: int = 50_000_000,
) -> Timings:
    """Serve the schedule with `workers` processes, each holding its own copy of the model.

    `scheduled_offsets` are ns from the start of the run; the start is fixed once every worker
    has warmed up. A worker that dies stops the run with an error naming it; every worker is
    terminated on the way out (an error, Ctrl-C), so none is left behind.
    """
    ctx = _context()
    requests, results = ctx.SimpleQueue(), ctx.Queue()
    start_at = ctx.Value("q", 0)  # the run's t0, set once everyone is ready
    offsets = np.asarray(scheduled_offsets, dtype=np.int64)
    shared = ctx.Array("q", offsets.size, lock=False)
    procs = [
        ctx.Process(
            target=_process_entry,
            args=(k, payload, shared, start_at, timeout_ns, blas_threads, requests, results),
            name=f"mlperf-load-worker-{k}",
            daemon=True,
        )
        for k in range(workers)
    ]
    t = Timings.empty(offsets.copy())
    stop = threading.Event()
    try:
        with warnings.catch_warnings():  # fork in a process with threads: warned about on 3.12+
            warnings.simplefilter("ignore", DeprecationWarning)
            for proc in procs:
                proc.start()
        libraries, failure = _await_ready(procs, results)
        if failure is not None:  # the model raised while warming up (or did not unpickle)
            t.first_error = failure
            return t
        t0 = time.perf_counter_ns() + start_delay_ns
        t.scheduled = offsets + t0
        np.frombuffer(shared, dtype=np.int64)[:] = t.scheduled
        start_at.value = t0
        t.blas_threads, t.blas_libraries = blas_threads, libraries
        collector = threading.Thread(
            target=_collect, args=(t, procs, results, stop), name="mlperf-load-collect", daemon=True
        )
        collector.start()

        def send(i: int) -> None:
            if t.queued - t.answered >= MAX_BACKLOG:
                t.start[i], t.status[i] = t.sent[i], DROPPED  # the backlog is full: turned away
                return
            requests.put(i)
            t.queued += 1

        try:
            _send_all(t.scheduled, t.sent, send, stop, progress)
        finally:
            for _ in procs:
                requests.put(None)
            collector.join(timeout_ns * 2 / 1e9 + 5.0)
            stop.set()
    finally:
        _shut_down(procs)
    return t


def _process_entry(
    index: int,
    payload: bytes,
    shared: Any,
    start_at: Any,
    timeout_ns: int,
    blas_threads: int | None,
    requests: Any,
    results: Any,
) -> None:
    scheduled = np.frombuffer(shared, dtype=np.int64)
    _process_main(index, payload, scheduled, timeout_ns, blas_threads, requests, results)


def _await_ready(procs: list[Any], results: Any) -> tuple[list[dict[str, Any]], str | None]:
    ready: set[int] = set()
    libraries: list[dict[str, Any]] = []
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(ready) < len(procs):
        try:
            message = results.get(timeout=POLL_S)
        except queue.Empty:
            _check_alive(procs, ready=set())
            if time.monotonic() > deadline:
                raise LoadError(
                    f"worker processes not ready after {READY_TIMEOUT_S:g} s "
                    f"({len(ready)} of {len(procs)})"
                ) from None
            continue
        kind, index, _pid, extra = message
        if kind == "failed":
            return libraries, str(extra)
        if kind == "ready":
            ready.add(index)
            libraries = extra
    return libraries, None


def _check_alive(procs: list[Any], ready: set[int]) -> None:
    for k, proc in enumerate(procs):
        if k not in ready and proc.exitcode is not None:
            raise LoadError(
                f"worker process {k} (pid {proc.pid}) died with exit code {proc.exitcode}"
            )


def _collect(t: Timings, procs: list[Any], results: Any, stop: threading.Event) -> None:
    """Record every answer; stop the run on the first model error or a dead worker."""
    done: set[int] = set()
    while len(done) < len(procs):
        try:
            message = results.get(timeout=POLL_S)
        except queue.Empty:
            for k, proc in enumerate(procs):
                if k not in done and proc.exitcode is not None:
                    t.first_error = t.first_error or (
                        f"worker process {k} (pid {proc.pid}) died with exit code "
                        f"{proc.exitcode} during the run"
                    )
                    t.error = LoadError(t.first_error)
                    stop.set()
                    return
            continue
        first = message[0]
        if isinstance(first, str):
            if first in ("done", "failed"):
                done.add(message[1])
            continue
        i, status, s, e, tb = message
        t.start[i], t.end[i], t.status[i] = s, e, status
        t.answered += 1
        if status == ERROR and t.first_error is None:
            t.first_error = tb
            stop.set()


def _shut_down(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.join(timeout=0.5)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=2.0)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=1.0)
