"""The background writer: log() appends to in-memory buffers, one thread writes them in batches.

log() takes no lock: it appends one (value, step, wall time) triple to its series with a single
array.extend call, which no other thread can interleave under the GIL, and the writer only removes
a prefix of whole triples it measured first. Memory stays bounded: a series buffer that reaches
MAX_BUFFERED points makes log() wait for the writer instead of growing, and a series written and
idle for a while leaves the writer's list, so 100,000 series touched once cost nothing later.
"""

from __future__ import annotations

import array
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ._types import HEARTBEAT_INTERVAL, Record, RecordBatch, ScalarBatch, promote_value_type
from .errors import RunHistoryError, StoreError, WriteErrors
from .store import Store

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.25  # seconds between background writes; with a write's own time, what a hard kill may lose
WAKE_AT = 65_536  # points buffered in one series that wake the writer early, so it writes while the loop runs
MAX_BUFFERED = 1_000_000  # points buffered in one series before log() waits
MAX_LAG = 0.25  # seconds since the writer last finished a round after which a series past WAKE_AT makes log() wait
EXACT_STEP = 2**53  # steps up to here travel in the float64 triple exactly; larger ones via a side table
IDLE_RETIRE = 3  # writes a series must stay empty before its buffer leaves the writer
_RETIRE_GRACE = 2.0  # seconds a retired buffer is still watched for a log() that raced its retirement
_MAX_BACKLOG = 4_000_000  # points drained but not yet written (store failing) before draining pauses
_RETRY_DELAY = (0.05, 5.0)  # seconds, first and longest back-off after a failed write
_promote_lock = threading.Lock()


class SeriesBuffer:
    """Points of one scalar series waiting to be written; appended to by log().

    One float64 array of (value, step, wall time) triples: `add(triple)` is one C call, so
    concurrent threads never mis-pair a value with another call's step or time. Steps beyond
    2**53 are stored as a negative key into `big` (exact int). `cls` is the Python type that takes
    the fast path in log(). `owner` is the Run's name -> buffer dict, so a retired buffer leaves it.
    """

    __slots__ = ("run_id", "name", "description", "value_type", "cls", "data", "add", "big", "owner", "idle", "woke", "writer", "retired_at", "__weakref__")

    def __init__(self, run_id: str, name: str, description: str, owner: dict[str, SeriesBuffer] | None = None) -> None:
        self.run_id = run_id
        self.name = name
        self.description = description
        self.value_type: str | None = None  # set by the first value
        self.cls: type | None = None
        self.data = array.array("d")
        self.add: Callable[[Iterable[float]], None] = self.data.extend
        self.big: dict[int, int] = {}
        self.owner = owner
        self.idle = 0  # writes in a row that found this buffer empty
        self.woke = False  # the writer was woken for this buffer's current backlog
        self.writer: BackgroundWriter | None = None
        self.retired_at = 0.0  # monotonic time it left the writer's list

    def __len__(self) -> int:
        """Complete points buffered."""
        return len(self.data) // 3

    def promote(self, value: Any) -> None:
        """Widen the series type for a value of another Python type (bool < int < float)."""
        kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float"
        with _promote_lock:  # two threads promoting at once must not lose the wider type
            self.value_type = promote_value_type(self.value_type, kind)
            self.cls = {"bool": bool, "int": int, "float": float}[self.value_type]

    def code_step(self, step: int) -> int:
        """The step as it travels in the triple: itself, or a key into `big` when a float64 cannot hold it."""
        if step <= EXACT_STEP:
            return step
        key = next(_big_keys)  # atomic under the GIL
        self.big[key] = step
        return -2 - key

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Remove the buffered whole triples; (steps, wall times, values), or None when empty."""
        data = self.data
        n = len(data)
        n -= n % 3
        if not n:
            return None
        block = data[:n]
        del data[:n]
        triples = np.frombuffer(block, dtype=np.float64).reshape(-1, 3)
        steps = triples[:, 1].astype(np.int64)
        coded = steps < -1
        if coded.any():
            steps[coded] = [self.big.pop(-2 - int(key)) for key in steps[coded]]
        return steps, np.ascontiguousarray(triples[:, 2]), np.ascontiguousarray(triples[:, 0])

    def reopen(self, triple: Iterable[float]) -> None:
        """log() reached a retired buffer: register it with the writer again, then append."""
        self.add = self.data.extend
        writer = self.writer
        if writer is not None:
            writer.readmit(self)
        self.add(triple)


_big_keys = itertools.count()


class BackgroundWriter:
    """Writes buffered points of every run of one store, from one daemon thread."""

    def __init__(self, store: Store, *, interval: float = FLUSH_INTERVAL) -> None:
        self.store = store
        self.interval = interval
        self._series: list[SeriesBuffer] = []
        self._retiring: list[SeriesBuffer] = []
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
        self.written_at = time.monotonic()  # when the writer last finished a round: bounds what a hard kill loses

    # -- producer side (caller threads) -----------------------------------
    def series(self, run_id: str, name: str, description: str, owner: dict[str, SeriesBuffer] | None = None) -> SeriesBuffer:
        """A new buffer for one series, registered with this writer (and put in `owner` under its name)."""
        buf = SeriesBuffer(run_id, name, description, owner)
        buf.writer = self
        with self._cond:
            self._series.append(buf)
            if owner is not None:
                buf = owner.setdefault(name, buf)  # another thread may have made it first
        self._ensure_thread()
        return buf

    def readmit(self, buf: SeriesBuffer) -> None:
        """Take back a retired buffer that log() wrote into again."""
        with self._cond:
            if buf not in self._series:
                buf.idle = 0
                self._series.append(buf)
            if buf.owner is not None:
                buf.owner.setdefault(buf.name, buf)
        self._ensure_thread()

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

    def lagging(self) -> bool:
        """The writer has not finished a round for MAX_LAG seconds (the store is slower than log())."""
        return time.monotonic() - self.written_at > MAX_LAG

    def wait_for_room(self, buf: SeriesBuffer) -> None:
        """Block a producer until the writer drained its full buffer, or caught up (back-pressure)."""
        while len(buf.data) >= 3 * (MAX_BUFFERED // 2) or (len(buf.data) >= 3 * WAKE_AT and self.lagging()):
            self._ensure_thread()
            with self._cond:
                self._requested += 1
                self._cond.notify_all()
                self._cond.wait(timeout=0.1)

    def flush(self, run_id: str | Sequence[str] | None = None, *, timeout: float | None = None) -> None:
        """Wait until everything buffered before this call is in the store.

        Raises:
            StoreError: the store kept failing past `timeout` (the points stay buffered).
            RunHistoryError: the store rejected points of `run_id` (one id or several; any run when None).
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

    def flush_runs(self, run_ids: Sequence[str]) -> None:
        """Write what was buffered before this call, then raise what the store refused for these runs."""
        self.flush(list(run_ids))

    def raise_errors(self, run_id: str | Sequence[str] | None = None) -> None:
        """Raise what the store refused for points of a run (or of any run): the error itself, or WriteErrors for several."""
        with self._cond:
            if run_id is None:
                keys: Sequence[str] = list(self._errors)
            else:
                keys = [run_id] if isinstance(run_id, str) else list(run_id)
            errors = [exc for key in keys for exc in self._errors.pop(key, ())]
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise WriteErrors(errors)

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
        # The child keeps logging through the Runs and buffers it inherited: each buffer drops the
        # points of the parent (the parent writes those) and is re-registered by its next log(),
        # which also starts this process's writer thread, outside the fork hooks.
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.RLock())
        for buf in [*self._series, *self._retiring]:
            del buf.data[:]
            buf.big.clear()
            buf.add = buf.reopen
        self._series, self._retiring = [], []
        self._records = []
        self._unwritten_scalars, self._unwritten_records = [], []
        self._live, self._errors = {}, {}
        self.backlog = 0
        self._requested = self._done = 0
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
                self.written_at = time.monotonic()
                self._done = max(self._done, target)
                self._cond.notify_all()
                if stopping and self._done >= self._requested:
                    return

    def _drain(self) -> None:
        if self.backlog > _MAX_BACKLOG:
            return
        self._drain_retiring()
        idle: list[SeriesBuffer] = []
        for buf in list(self._series):
            taken = buf.take()
            if taken is None:
                buf.idle += 1
                if buf.idle >= IDLE_RETIRE and not buf.big:
                    idle.append(buf)
                continue
            buf.idle = 0
            buf.woke = False
            self._queue_scalars(buf, taken)
        if idle:
            self._retire(idle)
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

    def _queue_scalars(self, buf: SeriesBuffer, taken: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        steps, walls, values = taken
        self._unwritten_scalars.append(ScalarBatch(buf.run_id, buf.name, steps, walls, values, buf.value_type or "float", buf.description))
        self.backlog += len(steps)

    def _retire(self, idle: list[SeriesBuffer]) -> None:
        # Off the writer's list and the Run's dict; log() on a stale reference goes through reopen().
        # A log() call that read `buf.add` just before the swap is caught by the drains of
        # _retiring during the next _RETIRE_GRACE seconds.
        gone = set(map(id, idle))
        with self._cond:
            for buf in idle:
                buf.add = buf.reopen
                buf.retired_at = time.monotonic()
                if buf.owner is not None and buf.owner.get(buf.name) is buf:
                    del buf.owner[buf.name]
            # One pass, not list.remove() per buffer: retiring 100,000 series would be quadratic, under the lock.
            self._series = [buf for buf in self._series if id(buf) not in gone]
            self._retiring += idle

    def _drain_retiring(self) -> None:
        with self._cond:
            retiring, self._retiring = self._retiring, []
        for buf in retiring:
            taken = buf.take()
            if taken is not None:
                self._queue_scalars(buf, taken)
            if buf.add != buf.reopen:  # reopened meanwhile: it is back in _series
                continue
            if taken is not None or buf.big or time.monotonic() - buf.retired_at < _RETIRE_GRACE:
                with self._cond:
                    self._retiring.append(buf)  # written into late: watch it one more round

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
        # Each batch leaves its list once written or refused; a StoreError keeps the rest for the retry.
        for batches in (scalars, records):
            while batches:
                batch = batches[0]
                try:
                    if isinstance(batch, ScalarBatch):
                        self.store.write_metrics([batch], [])
                    else:
                        self.store.write_metrics([], [batch])
                except StoreError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    self._refused(batch, exc)
                del batches[0]

    def _refused(self, batch: ScalarBatch | RecordBatch, exc: Exception) -> None:
        count = len(batch.steps) if isinstance(batch, ScalarBatch) else len(batch.records)
        where = f"{count} points of metric {batch.name!r} of run {batch.run_id}"
        kind = type(exc) if isinstance(exc, RunHistoryError) else RunHistoryError
        error = kind(f"the store refused {where}: {exc if isinstance(exc, RunHistoryError) else f'{type(exc).__name__}: {exc}'}")
        log.error("run history: %s", error)
        with self._cond:
            self._errors.setdefault(batch.run_id, []).append(error)

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


_writers: weakref.WeakKeyDictionary[Store, BackgroundWriter] = weakref.WeakKeyDictionary()
# Reentrant: the SIGTERM handler lists the writers, and it may interrupt this very thread while it holds the lock.
_writers_lock = threading.RLock()


def writer_for(store: Store) -> BackgroundWriter:
    """The one writer of a store in this process; the store's flush_pending() then waits for it."""
    with _writers_lock:
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = BackgroundWriter(store)
            store.register_pending(weakref.WeakMethod(writer.flush_runs))
        return writer


def _after_fork_in_child() -> None:
    # Runs in the child only, while it has a single thread: locks held by the parent's threads are replaced.
    global _writers_lock
    _writers_lock = threading.RLock()
    for writer in list(_writers.values()):
        writer._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def all_writers() -> list[BackgroundWriter]:
    """Every writer of this process (for exit and signal handling)."""
    with _writers_lock:
        return list(_writers.values())
