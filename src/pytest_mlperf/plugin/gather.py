"""The run's records: kept test by test, and on the controller gathered from every xdist worker.

A worker spools each test's records to a folder it shares with the controller and sends them
all as one JSON string when it finishes (transport.py); the controller takes the string, or
the spool of a worker that crashed or never said goodbye, so a crash loses only the test that
was running.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from typing import Any

import pytest

from .transport import PAYLOAD_KEY, SPOOL_KEY, Records, append_spool, read_spool, to_json


class Gatherer:
    """Keeps every test's records, on a worker or a single process, and gathers the workers'."""

    def __init__(self, config: pytest.Config) -> None:
        self.records = Records()
        self.workers = 0
        self.crashed: list[str] = []
        self.lost: list[str] = []
        self.started_workers: set[str] = set()
        self.finished_workers: set[str] = set()
        workerinput = getattr(config, "workerinput", None)
        self.worker: str | None = workerinput.get("workerid") if workerinput else None
        self.spool: str | None = workerinput.get(SPOOL_KEY) if workerinput else None

    @property
    def is_worker(self) -> bool:
        return self.worker is not None

    def keep(self, records: Records) -> None:
        """Keep a test's records; a worker also spools them against a crash."""
        self.records.extend(records)
        if self.spool and self.worker and records:
            append_spool(self.spool, self.worker, records)

    def item_error(self, item: pytest.Item, message: str) -> None:
        self.keep(Records(errors=[{"nodeid": item.nodeid, "message": message}]))

    def warnings(self, *, serial: bool) -> list[str]:
        """What xdist did to the run: contended latency, crashed workers and lost tests."""
        out = []
        if self.workers > 1 and serial:
            out.append(
                f"measured under pytest-xdist with {self.workers} workers, one benchmark at a "
                "time (--mlperf-serial): other workers' ordinary tests still ran meanwhile"
            )
        elif self.workers > 1:
            out.append(
                f"measured under pytest-xdist with {self.workers} workers: "
                "latency was contended by the other workers' tests"
            )
        if self.crashed:
            lost = ", ".join(sorted(set(self.lost))) or "unknown"
            workers = ", ".join(sorted(set(self.crashed)))
            out.append(
                f"worker(s) {workers} crashed: their results up to the crash are included; "
                f"lost: {lost}"
            )
        return out

    # -- on a worker: everything back to the controller at the end --------------------------

    def send(self, config: pytest.Config) -> None:
        if hasattr(config, "workeroutput"):
            config.workeroutput[PAYLOAD_KEY] = to_json(self.records)

    # -- on the controller: a shared spool folder out, one JSON string (or the spool) back ---

    def configure_node(self, node: Any) -> None:
        if self.spool is None:
            self.spool = tempfile.mkdtemp(prefix="pytest-mlperf-")
        node.workerinput[SPOOL_KEY] = self.spool
        self.started_workers.add(node.workerinput.get("workerid", "?"))

    def node_down(self, node: Any) -> None:
        worker = getattr(node, "workerinput", {}).get("workerid", "?")
        if worker in self.finished_workers:
            return  # xdist calls this twice for an interrupted worker: take its records once
        self.finished_workers.add(worker)
        count = getattr(node, "workerinput", {}).get("workercount")
        self.workers = max(self.workers, count) if isinstance(count, int) else self.workers + 1
        payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
        if payload:
            self.records.extend(json.loads(payload))
            return
        self.crashed.append(worker)
        if self.spool:
            self.records.extend(read_spool(self.spool, worker))

    def gather_unfinished_workers(self) -> None:
        """Records of workers that never said goodbye (a Ctrl-C stops the controller before
        they do): what they spooled, test by test, is all there is; then the spool goes."""
        if self.spool is None:
            return
        for worker in sorted(self.started_workers - self.finished_workers):
            self.finished_workers.add(worker)
            self.records.extend(read_spool(self.spool, worker))
        self.remove_spool()

    def remove_spool(self) -> None:
        if self.spool is not None and not self.is_worker:
            shutil.rmtree(self.spool, ignore_errors=True)
            self.spool = None
