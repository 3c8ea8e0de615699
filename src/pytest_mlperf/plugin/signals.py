"""SIGTERM as a Ctrl-C: a CI runner cancelling a job sends SIGTERM, and the run should end the
way an interrupted run does (a partial report marked interrupted, never saved as a baseline,
pytest's interrupted exit status) instead of vanishing without a report."""

from __future__ import annotations

import signal
import threading
from typing import Any


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def catch_sigterm() -> Any:
    """Turn SIGTERM into KeyboardInterrupt; return the handler to put back (None: untouched).

    Only the default handler is replaced: a handler someone else installed is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGTERM, _interrupt)
    return signal.SIG_DFL


def restore_sigterm(previous: Any) -> None:
    """Put back what `catch_sigterm` replaced, if anything and if it is still ours."""
    if previous is not None and signal.getsignal(signal.SIGTERM) is _interrupt:
        signal.signal(signal.SIGTERM, previous)
