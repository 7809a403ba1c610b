"""The exact copy of a run's history kept beside its event files, for a bit-exact import.

TensorBoard's default (Rust) data server only reads float32 scalars: a series of DT_DOUBLE
tensors is dropped whole, so the event files hold each value rounded to float32. Beside them, in
``<run dir>/.runhistory/`` (a folder TensorBoard never reads: it holds no ``tfevents`` file), the
exporter keeps every point exactly as stored, in logging order, including the points kept out of
the event files because their step went back:

- ``scalars/<n>.f64``: packed little-endian records ``int64 step | float64 wall time | float64
  value`` (24 bytes per point);
- ``records/<n>.jsonl``: one JSON object per table, histogram or image point: ``{"step",
  "wall_time", "meta"}`` (JSON floats round-trip exactly); an image also says whether its bytes
  are in the event file (``"ev": true``, taken from there in order on import) or carries them as
  base64 (``"data"``) when its step went back and it was not written there;
- ``run.json``: the manifest (run facts, per-series counts and committed file sizes).

Files are only ever appended; the manifest, written last through a rename, is the commit point.
Bytes past a committed size (an export that died half-way) are cut off before the next append
and ignored on import.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError

SCALAR_DTYPE = np.dtype([("step", "<i8"), ("wall", "<f8"), ("value", "<f8")])
MANIFEST = "run.json"
MANIFEST_FORMAT = 1


class AppendFile:
    """An append-only file, cut back to its committed size when opened."""

    def __init__(self, path: str, committed: int) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        try:
            self._file = open(path, "r+b")  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            self._file = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._file.truncate(committed)
        self._file.seek(committed)
        self.size = committed

    def write(self, data: bytes | memoryview) -> None:
        """Append bytes."""
        self._file.write(data)
        self.size += len(data)

    def close(self) -> None:
        """Flush and close."""
        self._file.close()


def scalar_bytes(steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> bytes:
    """The sidecar encoding of aligned points."""
    packed = np.empty(len(steps), dtype=SCALAR_DTYPE)
    packed["step"], packed["wall"], packed["value"] = steps, walls, values
    return packed.tobytes()


def read_scalars(path: str, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``count`` points of a scalar sidecar (steps, wall times, values).

    Raises:
        InvalidArgumentError: the file is missing or holds fewer points than the manifest says.
    """
    try:
        packed = np.fromfile(path, dtype=SCALAR_DTYPE, count=count)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read exact values {path!r}: {exc.strerror or exc}") from None
    if len(packed) < count:
        raise InvalidArgumentError(f"exact values {path!r} hold {len(packed)} points, the manifest says {count}")
    return packed["step"].copy(), packed["wall"].copy(), packed["value"].copy()


def record_line(step: int, wall_time: float, meta: Any, *, in_events: bool | None = None, data: bytes | None = None) -> bytes:
    """One JSONL line of the records sidecar."""
    item: dict[str, Any] = {"step": int(step), "wall_time": float(wall_time), "meta": meta}
    if in_events is not None:
        item["ev"] = in_events
    if data is not None:
        item["data"] = base64.b64encode(data).decode("ascii")
    return json.dumps(item, separators=(",", ":")).encode("utf-8") + b"\n"


def read_records(path: str, size: int) -> Iterator[dict[str, Any]]:
    """The committed lines of a records sidecar, parsed; ``data`` decoded to bytes.

    Raises:
        InvalidArgumentError: the file is missing, shorter than committed, or a line is not JSON.
    """
    try:
        with open(path, "rb") as handle:
            blob = handle.read(size)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read exact records {path!r}: {exc.strerror or exc}") from None
    if len(blob) < size:
        raise InvalidArgumentError(f"exact records {path!r} hold {len(blob)} bytes, the manifest says {size}")
    offset = 0
    for line in blob.splitlines(keepends=True):
        try:
            item = json.loads(line)
        except ValueError:
            raise InvalidArgumentError(f"exact records {path!r}: line at byte offset {offset} is not JSON") from None
        if "data" in item:
            item["data"] = base64.b64decode(item["data"])
        offset += len(line)
        yield item
