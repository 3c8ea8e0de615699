"""Moving records from pytest-xdist workers to the controller, and the serial-measurement lock.

Each worker sends everything it measured as one JSON string through xdist's `workeroutput`
when it finishes (execnet carries builtins only). It also appends each test's records to a
spool file in a folder the controller shares with it, so a worker that crashes loses only the
test it was running: the controller reads the spool of any worker that sent nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

SPOOL_KEY = "mlperf_spool"  # workerinput: the shared folder
PAYLOAD_KEY = "pytest_mlperf"  # workeroutput: the JSON string
LOCK_PATH = os.path.join(tempfile.gettempdir(), "pytest-mlperf-serial.lock")  # one per machine


@dataclass
class Records:
    """Everything the plugin collects from tests, as plain JSON-able lists."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: Records | dict[str, Any]) -> None:
        data = other.as_dict() if isinstance(other, Records) else other
        for f in fields(self):
            getattr(self, f.name).extend(data.get(f.name, []))

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def to_json(records: Records) -> str:
    """The records as JSON; a value JSON cannot hold becomes its text rather than an error
    that would lose every record of the worker."""
    return json.dumps(records.as_dict(), default=str)


def spool_path(folder: str, worker: str) -> str:
    return os.path.join(folder, f"{worker}.jsonl")


def append_spool(folder: str, worker: str, records: Records) -> None:
    """One JSON line per test, flushed at once: what a crash cannot take back."""
    with open(spool_path(folder, worker), "a", encoding="utf-8") as fh:
        fh.write(to_json(records) + "\n")
        fh.flush()


def read_spool(folder: str, worker: str) -> Records:
    """Every complete line a worker spooled; a line cut short by a crash is skipped."""
    records = Records()
    try:
        with open(spool_path(folder, worker), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return records
    for line in lines:
        try:
            records.extend(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@contextmanager
def serial_lock(path: str | None) -> Iterator[None]:
    """Hold the machine-wide measurement lock (an exclusive flock on `path`) while measuring:
    every pytest process and xdist worker on the machine takes the same lock.

    With no path (--mlperf-serial off) or without fcntl (Windows) the block runs at once.
    """
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # not on POSIX: measure without the lock
        yield
        return
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
