"""A run that keeps training after the demo's URL is printed, so the tab's live updates can be watched.

The curve is synthetic (a decaying loss with noise and a rising accuracy, logged twice a second);
it runs in a daemon thread for `seconds`, then completes. ``stop()`` ends it early (Completed too:
the demo ended normally).
"""

from __future__ import annotations

import math
import os
import random
import threading

from .._experiment import Experiment
from .._run import Run
from ..errors import InvalidArgumentError
from ..store import Store

EXPERIMENT = "digits-mlp"
DEFAULT_SECONDS = 120.0
_INTERVAL = 0.5  # seconds between logged points
_STEPS_PER_POINT = 10


class LiveTraining:
    """A run logging in a background thread; `stop()` ends it and waits for the thread."""

    def __init__(self, run: Run, thread: threading.Thread, stop_event: threading.Event) -> None:
        self.run = run
        self._thread = thread
        self._stop = stop_event

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for the run to end by itself; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """End the run now (Completed) and wait for its thread."""
        self._stop.set()
        self._thread.join()


def _loss(step: int, rng: random.Random) -> float:
    return 0.08 + 2.2 * math.exp(-step / 900) + rng.gauss(0, 0.02)


def start_live_training(store: str | os.PathLike[str] | Store | None = None, *, seconds: float = DEFAULT_SECONDS, experiment: str = EXPERIMENT) -> LiveTraining:
    """Start a run that logs train/loss and val/accuracy every half second for `seconds`.

    Raises:
        InvalidArgumentError: `seconds` is not a positive finite number.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidArgumentError(f"seconds must be a positive number, got {seconds!r}")
    exp = Experiment(experiment, store=store)
    run = exp.start_logging(
        "long-training",
        tags={"demo": "live"},
        description=f"Keeps logging for {seconds:g} s after the demo starts (a synthetic curve), so the charts update live.",
    )
    rng = random.Random(0)
    run.log_list("train/loss", [_loss(s * _STEPS_PER_POINT, rng) for s in range(20)])
    run.flush()
    stop_event = threading.Event()

    def keep_logging() -> None:
        point = 20
        deadline = seconds / _INTERVAL
        try:
            while point - 20 < deadline and not stop_event.wait(_INTERVAL):
                step = point * _STEPS_PER_POINT
                run.log("train/loss", _loss(step, rng), step=step)
                if point % 10 == 0:
                    run.log("val/accuracy", 0.98 - 0.6 * math.exp(-step / 700), step=step)
                run.flush()
                point += 1
        finally:
            run.complete()

    thread = threading.Thread(target=keep_logging, name="runhistory-demo-live", daemon=True)
    thread.start()
    return LiveTraining(run, thread, stop_event)
