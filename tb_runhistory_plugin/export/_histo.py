"""Our histograms as TensorBoard's two histogram encodings, and back.

TensorBoard knows a histogram as a ``HistogramProto`` (``histo``: tf.compat.v1, torch,
tensorboardX; it carries min, max, num, sum and sum_squares) or as the histogram plugin's ``[k, 3]``
tensor of (left edge, right edge, count) rows (tf.summary.histogram; no statistics). Both loaders
turn a ``histo`` into the tensor by dropping the empty buckets at both ends and using ``min`` and
``max`` as the outer edges (``tensorboard.data_compat``); tbparse reads only ``histo`` as histograms.

Export writes ``histo`` in tensorboardX's exact-edges layout: ``bucket_limit`` is every edge and
``bucket`` is a zero count (the bucket left of the first edge) followed by every count. The Rust
data server then serves every bucket as logged (plus that empty, zero-width one at the left
edge); the Python loader serves them from the first to the last non-empty one. Unknown
statistics: ``sum`` and ``sum_squares`` are written as NaN, which import reads back as unknown;
an unknown ``min``/``max`` (pre-binned data) is written as the outer edges, so that both loaders
draw the buckets where they are (the Python loader widens an outer bucket over empty ones next to
it). NaN and infinity tallies have no place in the proto: they are kept only in the sidecar.

Import reads that exact-edges layout back bucket for bucket (empty buckets included) when the
proto's first count is zero and its first and last edges are its min and max; any other proto
(TF 1.x's exponential buckets out to +/-DBL_MAX) is read the way TensorBoard shows it. A tensor
histogram has no statistics: its min and max are taken as the outer edges of its non-empty buckets
(exactly the data's min and max for tf.summary.histogram, whose edges span them; a bound for other
writers), its sum and sum of squares stay unknown.
"""

from __future__ import annotations

import math

import numpy as np
from tensorboard.compat.proto import summary_pb2

from .._histograms import Histogram
from ..errors import InvalidArgumentError


def _stat(value: float | None) -> float:
    """A statistic for the proto: unknown is NaN."""
    return math.nan if value is None else value


def _known(value: float) -> float | None:
    """A statistic from the proto: NaN is unknown."""
    return None if math.isnan(value) else value


def _support(edges: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The left edge of the first non-empty bucket and the right edge of the last."""
    filled = np.flatnonzero(counts > 0)
    return float(edges[filled[0]]), float(edges[filled[-1] + 1])


def to_proto(histogram: Histogram) -> summary_pb2.HistogramProto:
    """The ``histo`` of a histogram, in the exact-edges layout (see the module docstring)."""
    proto = summary_pb2.HistogramProto(num=histogram.count, sum=_stat(histogram.sum), sum_squares=_stat(histogram.sum_squares))
    if not histogram.counts:
        return proto
    known = histogram.min is not None and histogram.max is not None
    proto.min, proto.max = (histogram.min, histogram.max) if known else (histogram.edges[0], histogram.edges[-1])
    proto.bucket_limit.extend(histogram.edges)
    proto.bucket.extend([0.0, *map(float, histogram.counts)])
    return proto


def from_proto(proto: summary_pb2.HistogramProto) -> Histogram:
    """A histogram from a ``histo``, keeping min, max, sum and sum_squares.

    Raises:
        InvalidArgumentError: the buckets or statistics do not make a consistent histogram.
    """
    limits = np.asarray(proto.bucket_limit, dtype=np.float64)
    counts = np.asarray(proto.bucket, dtype=np.float64)
    if len(limits) != len(counts):
        raise InvalidArgumentError(f"histogram has {len(limits)} bucket limits for {len(counts)} counts")
    total, squares = _known(proto.sum), _known(proto.sum_squares)
    filled = np.flatnonzero(counts > 0)
    if not len(filled):
        return Histogram((), (), None, None, 0, total, squares)
    if len(counts) >= 2 and counts[0] == 0 and limits[0] == proto.min and limits[-1] == proto.max:
        edges, kept = limits, counts[1:]  # the exact-edges layout: every bucket as written
    else:
        start, end = int(filled[0]), int(filled[-1])  # TensorBoard's reading (data_compat)
        inner = limits[start:end].tolist()
        edges, kept = np.array([proto.min, *inner, proto.max]), counts[start : end + 1]
    return Histogram(tuple(kept.tolist()), tuple(edges.tolist()), proto.min, proto.max, int(kept.sum()), total, squares)


def from_tensor(buckets: np.ndarray) -> Histogram:
    """A histogram from the histogram plugin's ``[k, 3]`` tensor; min and max are derived (module docstring).

    Raises:
        InvalidArgumentError: the rows are not contiguous buckets with whole, non-negative counts.
    """
    if buckets.size == 0:
        return Histogram((), (), None, None, 0, None, None)
    if buckets.ndim != 2 or buckets.shape[1] != 3:
        raise InvalidArgumentError(f"histogram tensor must have shape (k, 3), got {buckets.shape}")
    lefts, rights, counts = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    if (lefts == lefts[0]).all() and (rights == lefts[0]).all():
        # tf.summary.histogram of constant data: k zero-width buckets at the value.
        edges, counts = np.array([lefts[0], lefts[0]]), np.array([counts.sum()])
    elif not np.array_equal(lefts[1:], rights[:-1]):
        raise InvalidArgumentError("histogram buckets are not contiguous")
    else:
        edges = np.array([lefts[0], *rights.tolist()])
    total = int(counts.sum()) if np.all(counts == np.floor(counts)) else -1
    if total < 0:
        raise InvalidArgumentError(f"histogram bucket counts must be whole numbers, got {counts.tolist()}")
    low, high = _support(edges, counts) if total else (None, None)
    return Histogram(tuple(counts.tolist()), tuple(edges.tolist()), low, high, total, None, None)
