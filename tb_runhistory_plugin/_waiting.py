"""Run.wait_for_completion: poll the store until a run ends, optionally printing its progress."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ._types import RunInfo, Status
from .errors import InvalidArgumentError, RunFailedError, RunTimeoutError

if TYPE_CHECKING:
    from ._run import Run

POLL_START, POLL_MAX = 0.05, 2.0  # seconds between looks at the store: quick at first, then every 2 s


def wait_for_completion(run: Run, show_output: bool, wait_post_processing: bool, raise_on_error: bool, *, timeout: float | None) -> dict[str, Any]:
    """See Run.wait_for_completion."""
    for flag, value in (("show_output", show_output), ("wait_post_processing", wait_post_processing), ("raise_on_error", raise_on_error)):
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"wait_for_completion: {flag} must be True or False, got {value!r:.80}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0):
        raise InvalidArgumentError(f"wait_for_completion: timeout must be a number of seconds >= 0 or None, got {timeout!r:.80}")
    deadline = None if timeout is None else time.monotonic() + timeout
    delay, shown = POLL_START, None
    seen: dict[str, int] = {}
    while True:
        info = run.info()
        if show_output:
            shown, seen = _show_progress(run, info, shown, seen)
        if info.is_terminal:
            break
        if deadline is not None and time.monotonic() >= deadline:
            raise RunTimeoutError(f"run {run.id!r} ({run.display_name!r}) is still {info.status} after {timeout} s")
        time.sleep(delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic())))
        delay = min(delay * 2, POLL_MAX)
    if raise_on_error and info.status == Status.FAILED:
        raise RunFailedError(f"run {run.id!r} ({run.display_name!r}) failed: {info.error}" + (f" [{info.error_code}]" if info.error_code else ""))
    return run.get_details()


def _show_progress(run: Run, info: RunInfo, shown: str | None, seen: dict[str, int]) -> tuple[str, dict[str, int]]:
    """Print the status when it changed and each metric's newest value when it grew (wait_for_completion)."""
    if info.status != shown:
        print(f"{run.display_name} ({run.id}): {info.status}", flush=True)
    for metric in run._store.list_metrics(run.id):
        if metric.count != seen.get(metric.name):
            seen[metric.name] = metric.count
            value = f" = {metric.last_value:.6g}" if metric.last_value is not None else ""
            print(f"  {metric.name} [{metric.count} points, step {metric.last_step}]{value}", flush=True)
    if info.is_terminal and info.error:
        print(f"  error: {info.error}" + (f" [{info.error_code}]" if info.error_code else ""), flush=True)
    return str(info.status), seen
