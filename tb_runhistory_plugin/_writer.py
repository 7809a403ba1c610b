"""The background writer: log() appends to in-memory buffers, one thread writes them in batches.

Producers only append to lists and the writer only removes a prefix it measured first, each a
single atomic list operation under the GIL, so log() takes no lock. Memory stays bounded: a
series buffer that reaches _MAX_BUFFERED makes log() wait for the writer instead of growing.
"""

from __future__ import annotations

import array
import logging
import os
import threading
import time
import weakref
from typing import Any

import numpy as np

from ._types import HEARTBEAT_INTERVAL, Record, RecordBatch, ScalarBatch, promote_value_type
from .errors import RunHistoryError, StoreError
from .store import Store

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0  # seconds between background writes; what a hard kill may lose
WAKE_AT = 65_536  # points buffered in one series that wake the writer early, so it writes while the loop runs
MAX_BUFFERED = 1_000_000  # points buffered in one series before log() waits
_MAX_BACKLOG = 4_000_000  # points drained but not yet written (store failing) before draining pauses
_RETRY_DELAY = (0.05, 5.0)  # seconds, first and longest back-off after a failed write


class SeriesBuffer:
    """Points of one scalar series waiting to be written; appended to by log().

    Typed arrays rather than lists: appends unbox once, and the writer turns a drained prefix
    into numpy arrays with one copy. `cls` is the Python type that takes the fast path in log().
    """

    __slots__ = ("run_id", "name", "description", "value_type", "cls", "values", "steps", "times", "add_value", "add_step", "add_time")

    def __init__(self, run_id: str, name: str, description: str) -> None:
        self.run_id = run_id
        self.name = name
        self.description = description
        self.value_type: str | None = None  # set by the first value
        self.cls: type | None = None
        self.values = array.array("d")
        self.steps = array.array("q")
        self.times = array.array("d")  # appended last, so its length counts complete points
        self.add_value = self.values.append
        self.add_step = self.steps.append
        self.add_time = self.times.append

    def promote(self, value: Any) -> None:
        """Widen the series type for a value of another Python type (bool < int < float)."""
        kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float"
        self.value_type = promote_value_type(self.value_type, kind)
        self.cls = {"bool": bool, "int": int, "float": float}[self.value_type]


class BackgroundWriter:
    """Writes buffered points of every run of one store, from one daemon thread."""

    def __init__(self, store: Store, *, interval: float = FLUSH_INTERVAL) -> None:
        self.store = store
        self.interval = interval
        self._series: list[SeriesBuffer] = []
        self._records: list[tuple[str, str, str, str, Record]] = []
        self._unwritten_scalars: list[ScalarBatch] = []
        self._unwritten_records: list[RecordBatch] = []
        self._cond = threading.Condition(threading.RLock())
        self._requested = 0
        self._done = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._errors: dict[str, list[RunHistoryError]] = {}
        self._last_error: BaseException | None = None
        self._live: dict[str, float] = {}  # run id -> time of its last heartbeat
        self.backlog = 0

    # -- producer side (caller threads) -----------------------------------
    def series(self, run_id: str, name: str, description: str) -> SeriesBuffer:
        """A new buffer for one series, registered with this writer."""
        buf = SeriesBuffer(run_id, name, description)
        with self._cond:
            self._series.append(buf)
        self._ensure_thread()
        return buf

    def add_record(self, run_id: str, name: str, kind: str, description: str, record: Record) -> None:
        """Queue one table, image or histogram point."""
        self._records.append((run_id, name, kind, description, record))
        if len(self._records) >= 1024:
            self.wake()
        self._ensure_thread()

    def wake(self) -> None:
        """Ask the writer to write now rather than at the next interval."""
        with self._cond:
            self._requested += 1
            self._cond.notify_all()

    def wait_for_room(self, buf: SeriesBuffer) -> None:
        """Block a producer until the writer drained its full buffer (back-pressure)."""
        while len(buf.times) >= MAX_BUFFERED // 2:
            self._ensure_thread()
            with self._cond:
                self._requested += 1
                self._cond.notify_all()
                self._cond.wait(timeout=0.1)

    def flush(self, run_id: str | None = None, *, timeout: float | None = None) -> None:
        """Wait until everything buffered before this call is in the store.

        Raises:
            StoreError: the store kept failing past `timeout` (the points stay buffered).
            RunHistoryError: the store rejected points of `run_id` (or of any run when None).
        """
        self._ensure_thread()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._requested += 1
            target = self._requested
            self._cond.notify_all()
            while self._done < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise StoreError(f"points not yet written to {self.store.uri} after {timeout:.0f} s: {self._last_error}")
                if self._thread is None or not self._thread.is_alive():
                    self._ensure_thread()
                self._cond.wait(timeout=0.5 if remaining is None else min(0.5, remaining))
        self.raise_errors(run_id)

    def raise_errors(self, run_id: str | None = None) -> None:
        """Raise the first error the store gave for points of a run (or of any run)."""
        with self._cond:
            keys = list(self._errors) if run_id is None else [run_id]
            for key in keys:
                errors = self._errors.pop(key, None)
                if errors:
                    raise errors[0]

    # -- liveness ----------------------------------------------------------
    def track(self, run_id: str) -> None:
        """Send heartbeats for a live run."""
        with self._cond:
            self._live[run_id] = time.time()
        self._ensure_thread()

    def untrack(self, run_id: str) -> None:
        """Stop heartbeats for a run that ended."""
        with self._cond:
            self._live.pop(run_id, None)

    def stop(self, *, timeout: float | None = None) -> None:
        """Flush and end the thread."""
        try:
            self.flush(timeout=timeout)
        finally:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            if self._thread is not None:
                self._thread.join(timeout=5)

    # -- writer thread -----------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():
            self._after_fork()
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._cond:
                if self._thread is None or not self._thread.is_alive():
                    self._stopping = False
                    self._thread = threading.Thread(target=self._loop, name="runhistory-writer", daemon=True)
                    self._thread.start()

    def _after_fork(self) -> None:
        # A forked child inherits the parent's buffers; those points are the parent's to write.
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.RLock())
        self._series, self._records = [], []
        self._unwritten_scalars, self._unwritten_records = [], []
        self._live, self._errors = {}, {}
        self._thread = None

    def _loop(self) -> None:
        delay = _RETRY_DELAY[0]
        while True:
            with self._cond:
                if self._done >= self._requested and not self._stopping:
                    self._cond.wait(timeout=self.interval)
                target = self._requested
                stopping = self._stopping
            try:
                self._drain()
                self._write()
                self._heartbeat()
            except StoreError as exc:
                # Keep the points and try again: the store may come back (a server restart, a disk freed).
                self._last_error = exc
                log.warning("run history: writing to %s failed, retrying in %.1f s: %s", self.store.uri, delay, exc)
                time.sleep(delay)
                delay = min(delay * 2, _RETRY_DELAY[1])
                continue
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything to keep data
                self._last_error = exc
                log.exception("run history writer: unexpected error; retrying")
                time.sleep(delay)
                delay = min(delay * 2, _RETRY_DELAY[1])
                continue
            delay = _RETRY_DELAY[0]
            with self._cond:
                self._done = max(self._done, target)
                self._cond.notify_all()
                if stopping and self._done >= self._requested:
                    return

    def _drain(self) -> None:
        if self.backlog > _MAX_BACKLOG:
            return
        for buf in list(self._series):
            times = buf.times
            n = len(times)
            if not n:
                continue
            values = buf.values[:n]
            del buf.values[:n]
            steps = buf.steps[:n]
            del buf.steps[:n]
            walls = times[:n]
            del times[:n]
            self._unwritten_scalars.append(
                ScalarBatch(
                    buf.run_id,
                    buf.name,
                    np.frombuffer(steps, dtype=np.int64),
                    np.frombuffer(walls, dtype=np.float64),
                    np.frombuffer(values, dtype=np.float64),
                    buf.value_type or "float",
                    buf.description,
                )
            )
            self.backlog += n
        n = len(self._records)
        if n:
            items = self._records[:n]
            del self._records[:n]
            grouped: dict[tuple[str, str, str], list[tuple[str, Record]]] = {}
            for run_id, name, kind, description, record in items:
                grouped.setdefault((run_id, name, kind), []).append((description, record))
            for (run_id, name, kind), entries in grouped.items():
                self._unwritten_records.append(RecordBatch(run_id, name, kind, tuple(r for _, r in entries), entries[0][0]))
                self.backlog += len(entries)

    def _write(self) -> None:
        scalars, records = self._unwritten_scalars, self._unwritten_records
        if not scalars and not records:
            return
        try:
            self.store.write_metrics(scalars, records)
        except StoreError:
            raise
        except Exception:  # noqa: BLE001
            # Some batch is invalid for the store (a run that ended elsewhere, a kind clash, text
            # the database refuses): write the others one by one so one bad series costs no other data.
            self._write_one_by_one(scalars, records)
        self._unwritten_scalars, self._unwritten_records = [], []
        self.backlog = 0

    def _write_one_by_one(self, scalars: list[ScalarBatch], records: list[RecordBatch]) -> None:
        for batch in [*scalars, *records]:
            try:
                if isinstance(batch, ScalarBatch):
                    self.store.write_metrics([batch], [])
                else:
                    self.store.write_metrics([], [batch])
            except StoreError:
                raise
            except Exception as exc:  # noqa: BLE001
                if not isinstance(exc, RunHistoryError):
                    exc = RunHistoryError(f"the store refused points of {batch.name!r}: {type(exc).__name__}: {exc}")
                count = len(batch.steps) if isinstance(batch, ScalarBatch) else len(batch.records)
                log.error("run history: the store refused %d points of %r in run %s: %s", count, batch.name, batch.run_id, exc)
                with self._cond:
                    self._errors.setdefault(batch.run_id, []).append(exc)
            if isinstance(batch, ScalarBatch):
                scalars.remove(batch)
            else:
                records.remove(batch)

    def _heartbeat(self) -> None:
        now = time.time()
        with self._cond:
            due = [run_id for run_id, last in self._live.items() if now - last >= HEARTBEAT_INTERVAL]
        if due:
            self.store.heartbeat(due, now)
            with self._cond:
                for run_id in due:
                    if run_id in self._live:
                        self._live[run_id] = now


_writers: "weakref.WeakKeyDictionary[Store, BackgroundWriter]" = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(store: Store) -> BackgroundWriter:
    """The one writer of a store in this process."""
    with _writers_lock:
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = BackgroundWriter(store)
        return writer


def all_writers() -> list[BackgroundWriter]:
    """Every writer of this process (for exit and signal handling)."""
    with _writers_lock:
        return list(_writers.values())
