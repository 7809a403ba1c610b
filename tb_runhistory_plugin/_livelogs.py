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

The seam: a ``LogSink`` receives the bytes. ``LocalDirSink`` writes a directory (the exporter and
the launcher mirror into ``<run dir>/logs``). A remote store would plug in a sink that uploads the
appended ranges as run files; the store protocol has no append call yet, so that sink is not here.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Protocol

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


def mirror_logs(source: str | os.PathLike[str], sink: LogSink) -> MirrorResult:
    """Copy what is new in every regular file below ``source`` into ``sink``.

    A missing source folder is not an error (the training code may not have created it yet).
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
                size = os.path.getsize(path)
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
