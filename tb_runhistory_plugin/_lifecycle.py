"""Process exit and SIGTERM: flush every writer and end the runs still open, so nothing is lost."""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util as _mp_util
import os
import signal
import sys
import threading
import traceback as _traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ._writer import all_writers

log = logging.getLogger(__name__)

EXIT_FLUSH_TIMEOUT = 120.0  # seconds to keep trying to write buffered points at exit

_lock = threading.RLock()
_open_runs: dict[str, Any] = {}  # run id -> Run, strong refs: an unreferenced open run must still be ended
_attached_runs: dict[str, Any] = {}  # runs another process owns (Run.get_context): failed here only by an uncaught exception
_installed = False
_uncaught: str | None = None
_previous_excepthook: Callable[..., Any] | None = None
_terminating = False


def _forget_parent_runs() -> None:
    # A forked child must not end (or flush) the runs of its parent when it exits.
    _open_runs.clear()
    _attached_runs.clear()


os.register_at_fork(after_in_child=_forget_parent_runs)


class _ForkHook:
    """A weak-referenceable anchor for multiprocessing's after-fork registry."""


_fork_hook = _ForkHook()


def _in_multiprocessing_child(_: object) -> None:
    # A multiprocessing child ends with os._exit, so atexit never runs there; its exit function
    # runs these finalizers instead. Registered here because the child clears the parent's ones.
    _mp_util.Finalize(None, _at_exit, exitpriority=100)


_mp_util.register_after_fork(_fork_hook, _in_multiprocessing_child)


def register(run: Any) -> None:
    """Remember an open run, installing the exit and signal handlers on first use."""
    with _lock:
        _open_runs[run.id] = run
        _install()


def _install() -> None:
    global _installed
    if not _installed:
        _installed = True
        atexit.register(_at_exit)
        _install_excepthook()
        _install_sigterm()


def unregister(run_id: str) -> None:
    """Forget a run that ended."""
    with _lock:
        _open_runs.pop(run_id, None)
        _attached_runs.pop(run_id, None)


def attach(run: Any) -> None:
    """Remember a run that the process which started this one will end: flushed at exit, failed only by an uncaught exception."""
    with _lock:
        _attached_runs[run.id] = run
        _install()


def _install_excepthook() -> None:
    global _previous_excepthook
    _previous_excepthook = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        global _uncaught
        _uncaught = "".join(_traceback.format_exception(exc_type, exc, tb))
        assert _previous_excepthook is not None
        _previous_excepthook(exc_type, exc, tb)

    sys.excepthook = hook


def _install_sigterm() -> None:
    # Only where nobody else handles SIGTERM, and only from the main thread (Python's rule).
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        pass


def _on_sigterm(signum: int, frame: Any) -> None:
    global _terminating
    if _terminating:
        return
    _terminating = True
    _finish_all("Canceled", "terminated by SIGTERM")
    # Die the way SIGTERM would have killed us, so the parent sees the real cause.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _at_exit() -> None:
    global _terminating
    if _terminating:
        return
    # A SIGTERM from here on (a pool terminating its workers) must not start a second, nested finish that
    # waits on what this one holds: this one writes everything and the process is ending anyway.
    _terminating = True
    if _uncaught is not None:
        last = _uncaught.strip().splitlines()[-1]
        status = "Canceled" if last.startswith("KeyboardInterrupt") else "Failed"
        _finish_all(status, last, _uncaught)
    else:
        _finish_all("Completed", None)


def _finish_all(status: str, error: str | None, traceback: str | None = None) -> None:
    """Flush every writer, then end the runs still open, children before parents."""
    for writer in all_writers():
        try:
            writer.flush(timeout=EXIT_FLUSH_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - say loudly what could not be written, then go on
            print(f"run history: could not write every buffered point to {writer.store.uri}: {exc}", file=sys.stderr)
    with _lock:
        runs = list(_open_runs.values())
        if status == "Failed":  # the starting tool sees only an exit code; the traceback is known here
            runs += [run for run in _attached_runs.values() if run.id not in _open_runs]
    # Deeper runs first, so a parent never ends before its children.
    for run in sorted(runs, key=lambda r: -r._depth):
        try:
            run._end(status, error=error, traceback=traceback, flush=False)
        except Exception as exc:  # noqa: BLE001
            print(f"run history: could not end run {run.id}: {exc}", file=sys.stderr)
