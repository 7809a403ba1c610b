"""A fast, TensorFlow-free writer (and checking reader) for TensorBoard event files.

An event file is a TFRecord stream: each record is
``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``, little
endian, and each ``data`` is a serialized ``Event`` proto. Scalars, the bulk of any export, are
encoded by hand with numpy, many points per call; everything else goes through TensorBoard's own
protos, which is plenty fast for the few images, histograms and texts a run has.

Scalars are written as ``simple_value`` (a float32), with the scalars plugin's metadata on each
tag's first point, as ``tf.compat.v1.summary.scalar``, torch and tensorboardX write them. It is
the one encoding every reader takes as a scalar: tbparse and the legacy ``EventAccumulator`` list
only ``simple_value`` under scalars (a tensor lands under ``tensors``), and both of TensorBoard's
loaders migrate it to a rank-0 float32 tensor (checked against tensorboard 2.21.0 /
tensorboard-data-server 0.7.2: ``/data/plugin/scalars/scalars`` serves it with either loader).
float32 is also the widest scalar the default Rust data server reads: a series of rank-0
``DT_DOUBLE`` tensors is dropped whole there (its tag is not even listed), so float64 cannot go
into the event file in a form TensorBoard shows. Each float64 is rounded to the nearest float32,
as ``scalar_pb`` does: magnitudes past float32's range become +/-inf, ones below its subnormals
become +/-0; NaN and +/-inf survive. The exporter keeps the exact float64 values in its sidecar,
which our importer reads instead. Wall times (a ``double`` in ``Event``) and int64 steps are exact.

Not done here: no queue or background thread (callers batch instead), no TensorFlow, no
``SessionLog`` events, and no check that a tag's steps only go forward. That is the exporter's
contract: when a tag's step goes back, the Rust data server drops the points it had at that step
and later (0..9 then 5..7 serves 0..4 and the new 5..7) while the Python loader keeps both.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import socket
import struct
import time
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np
import numpy.typing as npt
from tensorboard.compat.proto import (
    event_pb2,
    summary_pb2,
)
from tensorboard.plugins.histogram import metadata as histogram_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import summary_v2 as text_summary
from tensorboard.util import tensor_util

from .._histograms import Histogram
from ..errors import InvalidArgumentError, NotFoundError, StoreError
from . import _histo
from ._tfrecord import (
    _FOOTER_BYTES,
    _HEADER_BYTES,
    EventFileCorruptError,
    EventFileTruncatedError,
    _byte_tables,
    _crc32c,
    _frame,
    _mask_array,
    _masked_crc,
    iter_records,
)

__all__ = [
    "EventFileCorruptError",
    "EventFileTruncatedError",
    "EventFileWriter",
    "iter_records",
]

PathLike = str | os.PathLike[str]

_FILE_VERSION = "brain.Event:2"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_POINTS_PER_BATCH = 1 << 18  # scalars encoded at once: caps temporaries near 40 MB, as fast as more
_MAX_RUNS = 64  # runs of equal step-varint size written as separate blocks before scattering instead


# --- hand-encoded protobuf pieces ----------------------------------------------------------------


def _varint(n: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int."""
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint_sizes(u: np.ndarray) -> np.ndarray:
    """Bytes each uint64 takes as a varint (1 to 10; negative int64 steps take 10)."""
    sizes = np.ones(u.shape, dtype=np.int64)
    for j in range(1, 10):
        sizes += u >= np.uint64(1 << (7 * j))
    return sizes


def _varint_bytes(u: np.ndarray, size: int) -> np.ndarray:
    """The (n, size) varint bytes of uint64s that all take ``size`` bytes."""
    shifts = np.arange(size, dtype=np.uint64) * np.uint64(7)
    out = ((u[:, None] >> shifts) & np.uint64(0x7F)).astype(np.uint8)
    out[:, :-1] |= 0x80
    return out


def _scalar_suffix(tag: bytes) -> bytes:
    """Event field 5 (summary) for one metadata-free ``simple_value`` scalar, minus its 4 value bytes."""
    # Summary.Value: tag=1 (bytes), simple_value=2 (fixed32 float, key 0x15) last, so its 4 bytes end the record.
    value = b"\x0a" + _varint(len(tag)) + tag + b"\x15"
    summary = b"\x0a" + _varint(len(value) + 4) + value
    return b"\x2a" + _varint(len(summary) + 4) + summary


def _scalar_block(suffix: bytes, steps_u: np.ndarray, wall_u8: np.ndarray, value_u8: np.ndarray) -> np.ndarray:
    """Framed records, one row each, for points whose steps share one varint size."""
    n = len(steps_u)
    size = int(_varint_sizes(steps_u[:1])[0])
    length = 1 + 8 + 1 + size + len(suffix) + 4  # wall_time tag+double, step tag+varint, summary
    head = struct.pack("<Q", length)
    head += struct.pack("<I", _masked_crc(head))
    data = b"\x09" + bytes(8) + b"\x10" + bytes(size) + suffix + bytes(4)
    width = _HEADER_BYTES + length + _FOOTER_BYTES
    block = np.empty((n, width), dtype=np.uint8)
    block[:] = np.frombuffer(head + data + bytes(4), dtype=np.uint8)
    step_u8 = _varint_bytes(steps_u, size)
    block[:, 13:21] = wall_u8
    block[:, 22 : 22 + size] = step_u8
    block[:, width - 8 : width - 4] = value_u8
    # The template's variable bytes are zero, so its CRC is the affine constant.
    positions = tuple(range(1, 9)) + tuple(range(10, 10 + size)) + tuple(range(length - 4, length))
    tables = _byte_tables(length, positions)
    variable = np.ascontiguousarray(np.concatenate([wall_u8, step_u8, value_u8], axis=1).T)
    crc = np.full(n, _crc32c(data), dtype=np.uint32)
    for table, column in zip(tables, variable):
        crc ^= table[column]
    block[:, width - 4 :] = _mask_array(crc).astype("<u4").view(np.uint8).reshape(n, 4)
    return block


def _scalar_records(tag: bytes, steps: np.ndarray, wall_times: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
    """Framed metadata-free scalar Event records for all points, in order, as uint8 chunks."""
    n = len(steps)
    suffix = _scalar_suffix(tag)
    steps_u = steps.view(np.uint64)  # two's complement: negative steps become 10-byte varints
    wall_u8 = wall_times.astype("<f8").view(np.uint8).reshape(n, 8)
    value_u8 = values.astype("<f4").view(np.uint8).reshape(n, 4)
    sizes = _varint_sizes(steps_u)
    cuts = np.flatnonzero(np.diff(sizes)) + 1
    if len(cuts) <= _MAX_RUNS:  # steps that go up change varint size a few times at most
        bounds = [0, *cuts.tolist(), n]
        return [_scalar_block(suffix, steps_u[a:b], wall_u8[a:b], value_u8[a:b]).reshape(-1) for a, b in zip(bounds[:-1], bounds[1:])]
    # Sizes alternate often (e.g. negative and positive steps): one block per size, scattered.
    widths = _HEADER_BYTES + 10 + sizes + len(suffix) + 4 + _FOOTER_BYTES
    starts = np.cumsum(widths) - widths
    out = np.empty(int(widths.sum()), dtype=np.uint8)
    for size in np.unique(sizes):
        idx = np.flatnonzero(sizes == size)
        block = _scalar_block(suffix, steps_u[idx], wall_u8[idx], value_u8[idx])
        out[starts[idx][:, None] + np.arange(block.shape[1])] = block
    return [out]


# --- argument checks -----------------------------------------------------------------------------


def _check_tag(tag: object) -> bytes:
    """The UTF-8 bytes of a non-empty str tag."""
    if not isinstance(tag, str) or not tag:
        raise InvalidArgumentError(f"tag must be a non-empty str, got {tag!r}")
    try:
        return tag.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(f"tag {tag!r} is not encodable as UTF-8: {e}") from None


def _check_step(step: object) -> int:
    """An int64 step."""
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidArgumentError(f"step must be an int, got {step!r}")
    if not _INT64_MIN <= int(step) <= _INT64_MAX:
        raise InvalidArgumentError(f"step {step!r} is outside int64")
    return int(step)


def _check_wall_time(wall_time: object) -> float:
    """A finite wall time in seconds."""
    if isinstance(wall_time, bool) or not isinstance(wall_time, numbers.Real) or not math.isfinite(wall_time):
        raise InvalidArgumentError(f"wall_time must be a finite number of seconds, got {wall_time!r}")
    return float(wall_time)


def _check_array(name: str, array: npt.ArrayLike, kinds: str) -> np.ndarray:
    """A 1-D array whose dtype kind is one of ``kinds``."""
    out = np.asarray(array)
    if out.ndim != 1:
        raise InvalidArgumentError(f"{name} must be 1-D, got shape {out.shape}")
    if out.size and out.dtype.kind not in kinds:
        raise InvalidArgumentError(f"{name} must have a dtype of kind {kinds!r}, got {out.dtype}")
    return out


def _positive_int(name: str, value: object) -> int:
    """A positive int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise InvalidArgumentError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None for other formats."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- the writer ----------------------------------------------------------------------------------

_file_numbers = itertools.count()  # the <n> of file names, unique within this process


class EventFileWriter:
    """Writes one new ``events.out.tfevents.*`` file in a run directory; not thread-safe.

    Every tag's summary metadata goes on its first value in this file only, as TensorBoard's
    writers do. Each writer starts a fresh file: TensorBoard reads all files of a run directory,
    in name order, so a later session simply adds a later file.
    """

    _file: BinaryIO  # written ("xb") by __init__, or read and cut ("r+b") by reopen

    def __init__(self, logdir: PathLike, *, wall_time: float | None = None) -> None:
        """Create ``logdir`` if needed and open a new event file in it.

        Args:
            logdir: The run directory.
            wall_time: Time of the file_version record and of the file name; defaults to now.

        Raises:
            InvalidArgumentError: ``logdir`` (or a parent) is a file, or ``wall_time`` is bad.
            StoreError: The directory or file cannot be created or written.
        """
        wall = time.time() if wall_time is None else _check_wall_time(wall_time)
        directory = Path(logdir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidArgumentError(f"event file directory {os.fspath(logdir)!r} is not a directory") from None
        except OSError as e:
            raise StoreError(f"cannot create event file directory {os.fspath(logdir)!r}: {e}") from None
        if not directory.is_dir():
            raise InvalidArgumentError(f"event file directory {os.fspath(logdir)!r} is not a directory")
        prefix = f"events.out.tfevents.{int(wall)}.{socket.gethostname()}.{os.getpid()}"
        while True:
            path = directory / f"{prefix}.{next(_file_numbers)}"
            try:
                self._file = open(path, "xb")  # never append to or clobber another writer's file
                break
            except FileExistsError:
                continue
            except OSError as e:
                raise StoreError(f"cannot create event file {os.fspath(path)!r}: {e}") from None
        self.path = path
        self._tags_seen: set[str] = set()
        self._opened()
        self._write(_frame(event_pb2.Event(wall_time=wall, file_version=_FILE_VERSION).SerializeToString()))

    @classmethod
    def reopen(cls, path: PathLike, *, size: int | None = None) -> Self:
        """Continue an event file written earlier (by this class), after its first ``size`` bytes.

        ``size`` is the file's last known good end (what was flushed when the earlier writer
        committed its work); anything past it (a half-written record) is cut off first. Without
        it the writer appends after everything. Each tag's metadata goes on its first value again.

        Raises:
            NotFoundError: No file at ``path``.
            InvalidArgumentError: ``path`` is not a file, or ``size`` is not an int in 0..file size.
            StoreError: The file cannot be opened or cut.
        """
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0):
            raise InvalidArgumentError(f"size must be a non-negative int, got {size!r}")
        try:
            handle = open(path, "r+b")  # noqa: SIM115 - the writer owns and closes it
        except FileNotFoundError:
            raise NotFoundError(f"no event file {os.fspath(path)!r}") from None
        except IsADirectoryError:
            raise InvalidArgumentError(f"event file {os.fspath(path)!r} is not a file") from None
        except OSError as e:
            raise StoreError(f"cannot open event file {os.fspath(path)!r}: {e}") from None
        try:
            held = os.fstat(handle.fileno()).st_size
            if size is not None and size > held:
                raise InvalidArgumentError(f"cannot continue event file {os.fspath(path)!r} at byte {size}: it holds only {held} bytes")
            handle.truncate(held if size is None else int(size))
            handle.seek(0, os.SEEK_END)
        except OSError as e:
            handle.close()
            raise StoreError(f"cannot cut event file {os.fspath(path)!r}: {e}") from None
        except BaseException:
            handle.close()
            raise
        self = cls.__new__(cls)
        self._file = handle
        self.path = Path(path)
        self._tags_seen = set()
        self._opened()
        return self

    def _opened(self) -> None:
        """Called once the file is open, by __init__ and reopen: subclasses set up their own state here."""

    def __enter__(self) -> EventFileWriter:
        """Return self; the file is closed on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the file."""
        self.close()

    @property
    def closed(self) -> bool:
        """Whether close() has been called."""
        return self._file.closed

    def write_scalars(self, tag: str, steps: npt.ArrayLike, wall_times: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Append one scalar Event per point (float32 ``simple_value``: see the module docstring).

        Args:
            tag: Series name; ``/`` groups in TensorBoard, any Unicode is fine.
            steps: 1-D integers within int64.
            wall_times: 1-D finite seconds since the epoch, float64.
            values: 1-D real numbers, NaN and +/-inf allowed.

        Raises:
            InvalidArgumentError: Bad tag, shapes, dtypes, out-of-range steps or non-finite wall times.
            StoreError: The file cannot be written.
        """
        tag_bytes = _check_tag(tag)
        steps_a = _check_array("steps", steps, "iu")
        walls_a = _check_array("wall_times", wall_times, "iuf")
        values_a = _check_array("values", values, "biuf")
        if not len(steps_a) == len(walls_a) == len(values_a):
            raise InvalidArgumentError(f"steps, wall_times and values of tag {tag!r} differ in length: {len(steps_a)}, {len(walls_a)}, {len(values_a)}")
        if not len(steps_a):
            return
        if steps_a.dtype.kind == "u" and steps_a.max() > _INT64_MAX:
            raise InvalidArgumentError(f"step {int(steps_a.max())} of tag {tag!r} is outside int64")
        steps_a = steps_a.astype(np.int64)
        walls_a = walls_a.astype(np.float64)
        if not np.isfinite(walls_a).all():
            bad = float(walls_a[~np.isfinite(walls_a)][0])
            raise InvalidArgumentError(f"wall_times of tag {tag!r} must be finite, got {bad!r}")
        with np.errstate(over="ignore"):  # out-of-range values become +/-inf, like scalar_pb
            values_a = values_a.astype(np.float32)
        self._check_open()
        if tag not in self._tags_seen:
            self._tags_seen.add(tag)
            self._write(_frame(self._first_scalar_event(tag, steps_a[0], walls_a[0], values_a[0])))
            steps_a, walls_a, values_a = steps_a[1:], walls_a[1:], values_a[1:]
        for a in range(0, len(steps_a), _POINTS_PER_BATCH):
            b = a + _POINTS_PER_BATCH
            for chunk in _scalar_records(tag_bytes, steps_a[a:b], walls_a[a:b], values_a[a:b]):
                self._write(chunk.data)

    def write_histogram(
        self,
        tag: str,
        step: int,
        wall_time: float,
        *,
        buckets: npt.ArrayLike | None = None,
        edges: npt.ArrayLike | None = None,
        counts: npt.ArrayLike | None = None,
    ) -> None:
        """Append a histogram given as ``buckets`` rows (left, right, count) or as ``edges`` + ``counts``.

        Raises:
            InvalidArgumentError: Neither or both forms given, bad shapes, non-finite numbers or
                negative counts. Edge order is not checked: converted TF 1.x histograms can have
                outer buckets whose left edge exceeds the right, and TensorBoard shows them.
            StoreError: The file cannot be written.
        """
        if (buckets is None) == (edges is None and counts is None):
            raise InvalidArgumentError(f"histogram {tag!r} needs either buckets or edges and counts")
        if buckets is not None:
            rows = np.asarray(buckets, dtype=np.float64)
            if rows.ndim != 2 or rows.shape[1] != 3:
                raise InvalidArgumentError(f"buckets of histogram {tag!r} must have shape (k, 3), got {rows.shape}")
        else:
            edges_a = np.asarray(edges, dtype=np.float64)
            counts_a = np.asarray(counts, dtype=np.float64)
            if edges_a.ndim != 1 or counts_a.ndim != 1 or len(edges_a) != len(counts_a) + 1:
                raise InvalidArgumentError(f"histogram {tag!r} needs k+1 edges for k counts, got shapes {edges_a.shape} and {counts_a.shape}")
            rows = np.stack([edges_a[:-1], edges_a[1:], counts_a], axis=1)
        if not np.isfinite(rows).all():
            raise InvalidArgumentError(f"histogram {tag!r} has non-finite edges or counts")
        if (rows[:, 2] < 0).any():
            raise InvalidArgumentError(f"histogram {tag!r} has a negative count: {float(rows[rows[:, 2] < 0, 2][0])!r}")
        value = summary_pb2.Summary.Value(
            tag=tag,
            metadata=histogram_metadata.create_summary_metadata(display_name=None, description=None),
            tensor=tensor_util.make_tensor_proto(rows, dtype=np.float64),
        )
        self.write_summary_pb(summary_pb2.Summary(value=[value]), step, wall_time)

    def write_histogram_proto(self, tag: str, step: int, wall_time: float, histogram: Histogram) -> None:
        """Append a histogram as a ``HistogramProto`` with its min, max, num, sum and sum of squares (see ``_histo``).

        Raises:
            InvalidArgumentError: Not a Histogram, or a bad tag, step or wall time.
            StoreError: The file cannot be written.
        """
        if not isinstance(histogram, Histogram):
            raise InvalidArgumentError(f"histogram {tag!r} must be a Histogram, got {type(histogram).__name__}")
        value = summary_pb2.Summary.Value(
            tag=tag,
            metadata=histogram_metadata.create_summary_metadata(display_name=None, description=None),
            histo=_histo.to_proto(histogram),
        )
        self.write_summary_pb(summary_pb2.Summary(value=[value]), step, wall_time)

    def write_image(
        self,
        tag: str,
        step: int,
        wall_time: float,
        png_bytes: bytes,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        """Append an encoded image (PNG, or JPEG/GIF with width and height given) for the Images tab.

        Both loaders turn a ``Summary.Image`` into the images plugin's blob sequence, so it is
        written in that classic form. A PNG's size is read from its header when not given.

        Raises:
            InvalidArgumentError: Empty bytes, missing or non-positive size, or a size that
                contradicts the PNG header.
            StoreError: The file cannot be written.
        """
        if not isinstance(png_bytes, (bytes, bytearray, memoryview)) or not len(png_bytes):
            raise InvalidArgumentError(f"image {tag!r} needs non-empty encoded bytes")
        png_bytes = bytes(png_bytes)
        header = _png_size(png_bytes)
        if header is not None:
            if (width, height) not in ((None, None), header):
                raise InvalidArgumentError(f"image {tag!r} is a {header[0]}x{header[1]} PNG, not {width}x{height}")
            width, height = header
        image = summary_pb2.Summary.Image(
            width=_positive_int(f"width of image {tag!r}", width),
            height=_positive_int(f"height of image {tag!r}", height),
            encoded_image_string=png_bytes,
        )
        value = summary_pb2.Summary.Value(tag=tag, image=image)
        self.write_summary_pb(summary_pb2.Summary(value=[value]), step, wall_time)

    def write_text(self, tag: str, step: int, wall_time: float, text: str) -> None:
        """Append a Markdown text summary (TensorBoard's ``text_pb``).

        Raises:
            InvalidArgumentError: ``text`` is not a str.
            StoreError: The file cannot be written.
        """
        if not isinstance(text, str):
            raise InvalidArgumentError(f"text of {tag!r} must be a str, got {type(text).__name__}")
        _check_tag(tag)  # text_pb raises a bare TypeError or ValueError otherwise
        self.write_summary_pb(text_summary.text_pb(tag, text), step, wall_time)

    def write_summary_pb(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        """Append one Event holding ``summary`` (e.g. from ``hparams_pb``); the caller's proto is not changed.

        Raises:
            InvalidArgumentError: Not a Summary, a bad tag, step or wall time.
            StoreError: The file cannot be written.
        """
        if not isinstance(summary, summary_pb2.Summary):
            raise InvalidArgumentError(f"expected a Summary proto, got {type(summary).__name__}")
        event = event_pb2.Event(wall_time=_check_wall_time(wall_time), step=_check_step(step), summary=summary)
        for value in event.summary.value:
            _check_tag(value.tag)
            if value.tag in self._tags_seen:
                value.ClearField("metadata")
        self._check_open()
        self._tags_seen.update(value.tag for value in event.summary.value)
        self._write(_frame(event.SerializeToString()))

    def flush(self) -> None:
        """Push buffered records to the OS so that TensorBoard sees them."""
        if not self._file.closed:
            try:
                self._file.flush()
            except OSError as e:
                raise StoreError(f"cannot write event file {os.fspath(self.path)!r}: {e}") from None

    def size(self) -> int:
        """Bytes in the file so far, flushing first (what ``reopen(path, size=...)`` continues after)."""
        self._check_open()
        self.flush()
        return self._file.tell()

    def close(self) -> None:
        """Flush and close; closing twice is harmless."""
        if not self._file.closed:
            try:
                self._file.close()
            except OSError as e:
                raise StoreError(f"cannot write event file {os.fspath(self.path)!r}: {e}") from None

    def _first_scalar_event(self, tag: str, step: np.int64, wall_time: np.float64, value: np.float32) -> bytes:
        """The serialized Event of a tag's first point in this file, metadata included."""
        metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)
        metadata.data_class = summary_pb2.DATA_CLASS_SCALAR  # what both loaders would infer anyway
        event = event_pb2.Event(wall_time=float(wall_time), step=int(step))
        event.summary.value.add(tag=tag, metadata=metadata, simple_value=float(value))
        return event.SerializeToString()

    def _check_open(self) -> None:
        """Refuse writes after close()."""
        if self._file.closed:
            raise InvalidArgumentError(f"event file {os.fspath(self.path)!r} is already closed")

    def _write(self, data: bytes | memoryview) -> None:
        """Append bytes to the file, as a StoreError on failure."""
        try:
            self._file.write(data)
        except OSError as e:
            raise StoreError(f"cannot write event file {os.fspath(self.path)!r}: {e}") from None
