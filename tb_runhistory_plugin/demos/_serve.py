"""Serve a started-on-demand TensorBoard until Ctrl-C or SIGTERM, then stop it cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import webbrowser
from types import FrameType
from typing import Self, TextIO

from .._launcher import Tensorboard, plugin_installed

_WAKE = 0.5  # seconds between checks of the stop flag (signal handlers run in between)


class StopSignals:
    """While active, SIGINT and SIGTERM set a flag instead of killing; a second signal raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._event = threading.Event()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():  # Python's rule for signal handlers
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt  # asked twice: stop waiting for anything
        self.received = signum
        self._event.set()

    def wait(self) -> int:
        """Block until a signal arrives; returns its number."""
        while not self._event.wait(_WAKE):
            pass
        assert self.received is not None
        return self.received


def _browser_available() -> bool:
    # Without a display, Python's webbrowser falls back to text browsers that would take over the terminal.
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def serve(tensorboard: Tensorboard, *, open_browser: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Start `tensorboard`, print its URL alone on one line of `out`, serve until SIGINT/SIGTERM, stop; returns 0.

    Raises:
        RunHistoryError: TensorBoard did not start (a busy port: ConflictError); nothing is left running.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    with StopSignals() as signals:
        try:
            url = tensorboard.start()
            if signals.received is None:
                print(url, file=out, flush=True)
                tab = f"{url}#{_tab()}" if _tab() else url
                print(f"TensorBoard is serving {tensorboard.local_root} at {tab}; press Ctrl-C to stop.", file=err, flush=True)
                if open_browser and _browser_available():
                    with contextlib.suppress(Exception):
                        webbrowser.open(tab)
                signals.wait()
            print("stopping TensorBoard ...", file=err, flush=True)
        finally:
            tensorboard.stop()
    return 0


def _tab() -> str | None:
    """The Run History tab's name in TensorBoard URLs, when its plugin is installed."""
    if not plugin_installed():
        return None
    from ..plugin.metadata import PLUGIN_NAME

    return PLUGIN_NAME
