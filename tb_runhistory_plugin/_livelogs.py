"""Following a run's own event-file folder (``start_logging(logs_dir=...)``) as it grows.

Training code that writes TensorBoard files itself (torch, keras, tensorboardX) keeps writing into
its folder; ``mirror_logs`` copies whatever is new since the last call into a sink, file by file,
so it can be called every few seconds (the launcher does) and costs nothing when nothing changed.

No state is kept: a destination file that is a prefix of its source gets the missing bytes
appended; one that is longer than its source, or whose first bytes differ, was rewritten at the
source and is copied again from the start. Event files are append-only, so in practice only new
bytes move, and TensorBoard, which reads the copies, sees them grow exactly like the originals (a
partially copied last record is simply completed by the next call, as with a live writer).
Symbolic links are not followed; unreadable files are skipped and counted.

One folder, several runs: while a run of an experiment is Running (heartbeat fresh) and follows a
folder, another run of that experiment may not follow it, nor a folder inside or around it
(``check_folder_free`` raises a ConflictError naming it: two live writers in one folder cannot be
told apart). Re-running a
script with the same ``./logs`` after the previous run ended is fine, and the runs are separated
by time: ``share_of`` gives each follower the files last written from its start until the next
follower's start (the first follower also gets older files), so every run mirrors only its own.

The seam: a ``LogSink`` receives the bytes. ``LocalDirSink`` writes a directory (the exporter and
the launcher mirror into ``<run dir>/logs``). A remote store would plug in a sink that uploads the
appended ranges as run files; the store protocol has no append call yet, so that sink is not here.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import TYPE_CHECKING, Protocol

from ._filter import RunFilter
from ._types import Status
from .errors import ConflictError

if TYPE_CHECKING:
    from ._types import RunInfo
    from .store import Store

_CHUNK = 8 << 20  # bytes copied per read
_HEAD = 64  # bytes compared to detect a rewritten source file


class LogSink(Protocol):
    """Where mirrored files go; paths are '/'-separated and relative to the followed folder."""

    def size(self, relpath: str) -> int | None:
        """Bytes already held for this file, or None when it has none."""

    def head(self, relpath: str, n: int) -> bytes:
        """The first ``n`` bytes held for this file."""

    def write(self, relpath: str, offset: int, data: bytes) -> None:
        """Store ``data`` at ``offset``; offset 0 starts the file afresh (dropping what was held)."""


class LocalDirSink:
    """A sink that is a local directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)

    def _path(self, relpath: str) -> str:
        return os.path.join(self.root, *relpath.split("/"))

    def size(self, relpath: str) -> int | None:
        """Bytes of the copy, or None."""
        try:
            return os.path.getsize(self._path(relpath))
        except OSError:
            return None

    def head(self, relpath: str, n: int) -> bytes:
        """The copy's first bytes."""
        with open(self._path(relpath), "rb") as handle:
            return handle.read(n)

    def write(self, relpath: str, offset: int, data: bytes) -> None:
        """Write into the copy (creating folders as needed)."""
        path = self._path(relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if offset == 0 else "r+b") as handle:
            handle.seek(offset)
            handle.write(data)
            handle.truncate()


@dataclasses.dataclass(frozen=True)
class MirrorResult:
    """What one mirror_logs call did."""

    files: int = 0  # files that received bytes
    bytes: int = 0
    restarted: int = 0  # files copied again from the start (rewritten at the source)
    unreadable: int = 0


def _read_range(path: str, start: int, stop: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(stop - start)


def _overlap(a: str | None, b: str) -> bool:
    """Whether two folders (however spelled) are the same or one holds the other: a follower mirrors everything below it."""
    if a is None:
        return False
    a, b = os.path.realpath(a), os.path.realpath(b)
    return os.path.commonpath([a, b]) in (a, b)


def followers(store: Store, experiment_id: str, folder: str) -> list[RunInfo]:
    """The runs of an experiment that follow ``folder``, a folder inside it or one around it, by start time."""
    found = [info for info in store.list_runs(experiment_id) if _overlap(info.logs_dir, folder)]
    return sorted(found, key=lambda info: (info.start_time, info.id))


def check_folder_free(store: Store, experiment_id: str, folder: str, run_id: str | None) -> None:
    """Refuse a folder that another Running run of the experiment follows (see the module docstring).

    Raises:
        ConflictError: naming that run.
    """
    for info in store.list_runs(experiment_id, RunFilter(statuses=(Status.RUNNING,))):
        if info.id != run_id and _overlap(info.logs_dir, folder):
            raise ConflictError(
                f"logs folder {folder!r} overlaps {info.logs_dir!r}, followed by run {info.display_name!r} ({info.id}), which is "
                "still Running: two live runs writing one folder cannot be told apart; give this run a folder of its own "
                "(neither inside nor around that one) or end that run first"
            )


def share_of(store: Store, info: RunInfo) -> tuple[float, float]:
    """The [since, until) window of file modification times that are this run's own (see the module docstring)."""
    if not info.logs_dir:
        return -math.inf, math.inf
    starts = [other.start_time for other in followers(store, info.experiment_id, info.logs_dir)]
    later = [start for start in starts if start > info.start_time]
    earlier = [start for start in starts if start < info.start_time]
    return (info.start_time if earlier else -math.inf), (min(later) if later else math.inf)


def mirror_logs(source: str | os.PathLike[str], sink: LogSink, *, since: float = -math.inf, until: float = math.inf) -> MirrorResult:
    """Copy what is new in every regular file below ``source`` into ``sink``.

    Only files last modified in [since, until) are followed (the share of one run in a folder that
    several runs used one after the other). A missing source folder is not an error (the training
    code may not have created it yet).
    """
    root = os.fspath(source)
    files = copied = restarted = unreadable = 0
    if not os.path.isdir(root):
        return MirrorResult()
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            try:
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                stat = os.stat(path)
                if not since <= stat.st_mtime < until:
                    continue
                size = stat.st_size
                held = sink.size(rel)
                start = 0 if held is None else held
                if held:
                    n = min(held, _HEAD, size)
                    if held > size or sink.head(rel, n) != _read_range(path, 0, n):
                        start = 0
                        restarted += 1
                if held is not None and start == size and not (start == 0 and held):
                    continue  # nothing new
                if size == 0:
                    sink.write(rel, 0, b"")
                position = start
                while position < size:
                    data = _read_range(path, position, min(size, position + _CHUNK))
                    if not data:
                        break  # the file shrank while being read: the next call restarts it
                    sink.write(rel, position, data)
                    position += len(data)
                files += 1
                copied += position - start
            except OSError:
                unreadable += 1
    return MirrorResult(files=files, bytes=copied, restarted=restarted, unreadable=unreadable)
