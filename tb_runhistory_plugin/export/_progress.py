"""A one-line progress bar on a terminal; silent when the stream is not a TTY."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_MIN_TOTAL = 200_000  # points; smaller jobs finish before a bar would help
_REDRAW_EVERY = 0.1  # seconds
_WIDTH = 30  # characters of bar


class Progress:
    """Counts work done against a known total and draws a bar on ``stream`` when it is a TTY.

    ``enabled=None`` means: draw only if the stream is a terminal and the job is big.
    """

    def __init__(self, total: int, *, label: str, enabled: bool | None = None, stream: TextIO | None = None, unit: str = "points") -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty()) and total >= _MIN_TOTAL
        self.enabled = enabled
        self.total = max(0, int(total))
        self.done = 0
        self.label = label
        self.unit = unit
        self._start = time.monotonic()
        self._drawn = 0.0

    def update(self, n: int) -> None:
        """Add ``n`` units of finished work."""
        self.done += n
        if self.enabled and time.monotonic() - self._drawn >= _REDRAW_EVERY:
            self._draw()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(frac * _WIDTH)
        rate = self.done / max(1e-9, self._drawn - self._start)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac:6.1%} {self.done:,}/{self.total:,} {self.unit} ({rate:,.0f}/s)")
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False
