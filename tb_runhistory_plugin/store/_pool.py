"""Connections shared by the threads of one process, so their number stays bounded.

Servers (the REST server, TensorBoard) answer each request on a new thread; a connection per
thread, kept for the life of the store, would leak file descriptors and memory on every request.
A pool hands each call a connection for its duration and keeps at most `idle` of them open
between calls (last used first, so one thread keeps reusing its warm connection). It never
blocks: a burst of more concurrent callers opens extra connections, closed when given back.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from ..errors import StoreError

_C = TypeVar("_C")


class Pool(Generic[_C]):
    """Reusable connections: take() one, give() it back (or give(conn, broken=True) to close it)."""

    def __init__(self, connect: Callable[[], _C], close: Callable[[_C], None], *, idle: int, name: str) -> None:
        self._connect = connect
        self._close = close
        self._max_idle = idle
        self._name = name
        self._idle: list[_C] = []
        self._lock = threading.Lock()
        self._closed = False
        self.opened = 0  # connections open now (checked out or idle), for tests and diagnostics
        # Connections must not cross fork(): a forked child forgets the parent's and opens its own.
        ref = weakref.ref(self)

        def forget_in_child() -> None:
            pool = ref()
            if pool is not None:
                pool._forget()

        os.register_at_fork(after_in_child=forget_in_child)

    def take(self) -> _C:
        """An idle connection, or a new one."""
        with self._lock:
            if self._closed:
                raise StoreError(f"store {self._name} is closed")
            if self._idle:
                return self._idle.pop()
            self.opened += 1
        try:
            return self._connect()
        except BaseException:
            with self._lock:
                self.opened -= 1
            raise

    def give(self, conn: _C, *, broken: bool = False) -> None:
        """Return a connection taken from this pool; it is closed when broken, the pool full or closed."""
        with self._lock:
            if not broken and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
            self.opened -= 1
        self._quietly_close(conn)

    def discard_idle(self) -> None:
        """Close the idle connections (after one of them turned out dead, its siblings likely are too)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self.opened -= len(idle)
        for conn in idle:
            self._quietly_close(conn)

    def close(self) -> None:
        """Close idle connections now and checked-out ones when they are given back; take() fails afterwards."""
        with self._lock:
            self._closed = True
        self.discard_idle()

    def _quietly_close(self, conn: _C) -> None:
        try:
            self._close(conn)
        except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is gone either way
            pass

    def _forget(self) -> None:
        self._idle = []
        self._lock = threading.Lock()
        self.opened = 0
