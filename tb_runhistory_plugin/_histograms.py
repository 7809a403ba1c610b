"""Histograms of logged values: bucketing, pre-binned input and a JSON-ready form."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from .errors import InvalidArgumentError

DEFAULT_BINS = 30  # buckets, as in TensorBoard's histogram summary
_MAX_BINS = 10_000  # buckets; more is unreadable and bloats every stored row
_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


@dataclass(frozen=True)
class Histogram:
    """Bucket counts over finite values, plus summary statistics and non-finite tallies.

    ``count`` is the number of finite values (the sum of ``counts``); NaN and infinities are
    tallied apart. ``edges`` has one more entry than ``counts``, or none when there are no
    buckets. ``min``/``max`` are None when no finite value was seen; ``sum``/``sum_squares``
    are None when unknown (pre-binned data). Construction validates all of this.
    """

    counts: tuple[int, ...]
    edges: tuple[float, ...]
    min: float | None
    max: float | None
    count: int
    sum: float | None
    sum_squares: float | None
    nan_count: int = 0
    pos_inf_count: int = 0
    neg_inf_count: int = 0

    def __post_init__(self) -> None:
        """Normalise to plain tuples of int/float and reject inconsistent histograms."""
        # Normalising here keeps numpy scalars out of JSON and makes instances hashable.
        counts = tuple(_as_count(c, "bucket count") for c in _as_sequence(self.counts, "counts"))
        edges = tuple(_as_float(e, "edge") for e in _as_sequence(self.edges, "edges"))
        set_field = object.__setattr__
        set_field(self, "counts", counts)
        set_field(self, "edges", edges)
        for name in ("count", "nan_count", "pos_inf_count", "neg_inf_count"):
            set_field(self, name, _as_count(getattr(self, name), name))
        for name in ("min", "max", "sum", "sum_squares"):
            value = getattr(self, name)
            if value is not None:
                set_field(self, name, _as_float(value, name, allow_inf=name.startswith("sum")))
        _check_edges(edges, counts)
        if self.count != sum(counts):
            raise InvalidArgumentError(f"count {self.count} is not the sum of bucket counts {sum(counts)}")
        self._check_range()

    def _check_range(self) -> None:
        """Require min and max exactly when values exist, and inside the outer edges."""
        if self.count == 0:
            if self.min is not None or self.max is not None:
                raise InvalidArgumentError(f"min {self.min!r} and max {self.max!r} given for no values")
            return
        if (self.min is None) != (self.max is None):
            raise InvalidArgumentError(f"min {self.min!r} and max {self.max!r}: give both or neither")
        if self.min is None or self.max is None:
            return  # unknown for pre-binned data
        if not self.edges[0] <= self.min <= self.max <= self.edges[-1]:
            raise InvalidArgumentError(f"min {self.min!r} and max {self.max!r} do not fit in edges [{self.edges[0]!r}, {self.edges[-1]!r}]")

    def buckets(self) -> list[tuple[float, float, int]]:
        """Return (left, right, count) triples, the layout TensorBoard's histogram summary uses."""
        return list(zip(self.edges[:-1], self.edges[1:], self.counts))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (lists, ints, floats, None); from_dict reads it back exactly."""
        data = asdict(self)
        data["counts"], data["edges"] = list(self.counts), list(self.edges)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        """Rebuild a histogram from to_dict output, validating it as the constructor does."""
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(f"histogram must be a mapping, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(repr, set(data) - known))
        if unknown:
            raise InvalidArgumentError(f"unknown histogram keys {', '.join(unknown)}")
        required = {"counts", "edges", "min", "max", "count", "sum", "sum_squares"}
        missing = sorted(required - set(data))
        if missing:
            raise InvalidArgumentError(f"histogram is missing keys {missing}")
        return cls(**data)


def compute_histogram(values: Any, *, bins: int = DEFAULT_BINS) -> Histogram:
    """Bucket finite values into ``bins`` equal-width buckets between their min and max.

    Values of any shape are flattened and computed in float64. Constant input gives one
    zero-width bucket [v, v], as TensorBoard does. If the range is too narrow to split into
    ``bins`` distinct float64 edges, fewer buckets are used.

    Raises:
        InvalidArgumentError: for empty or non-numeric input, or a bad ``bins``.
    """
    if not _is_int(bins) or not 1 <= bins <= _MAX_BINS:
        raise InvalidArgumentError(f"bins must be an int in 1..{_MAX_BINS}, not {bins!r}")
    try:
        array = np.asarray(values)
    except ValueError as e:  # ragged nested lists
        raise InvalidArgumentError(f"histogram values are not a rectangular array: {e}") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise InvalidArgumentError(f"histogram values must be numeric, not dtype {array.dtype}")
    if array.size == 0:
        raise InvalidArgumentError(f"histogram values are empty (shape {array.shape})")
    flat = array.astype(np.float64, copy=False).ravel()
    finite_mask = np.isfinite(flat)
    finite = flat[finite_mask]
    non_finite = flat[~finite_mask]
    tallies = {
        "nan_count": int(np.count_nonzero(np.isnan(non_finite))),
        "pos_inf_count": int(np.count_nonzero(non_finite == np.inf)),
        "neg_inf_count": int(np.count_nonzero(non_finite == -np.inf)),
    }
    if finite.size == 0:
        return Histogram((), (), None, None, 0, 0.0, 0.0, **tallies)
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        counts, edges = [finite.size], [lo, hi]
    else:
        counts, edges = _bucket(finite, lo, hi, int(bins))
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf is the honest answer
        total, squares = float(finite.sum()), float(np.square(finite).sum())
        if not math.isfinite(total):  # maybe only a partial sum overflowed; shares cannot
            total = float(np.sum(finite / finite.size)) * finite.size
    return Histogram(tuple(counts), tuple(edges), lo, hi, finite.size, total, squares, **tallies)


def _bucket(finite: np.ndarray, lo: float, hi: float, bins: int) -> tuple[list[int], list[float]]:
    """Count values into equal-width buckets exactly as numpy.histogram does."""
    with np.errstate(over="ignore"):
        span = hi - lo
    # Near the float64 limits hi - lo overflows; halving is exact and brings it back in range.
    scale = 1.0 if math.isfinite(span) else 0.5
    lo_s, hi_s = lo * scale, hi * scale
    # numpy refuses bins narrower than one float step, so use fewer, still-distinct buckets.
    while bins > 1:
        edges = np.linspace(lo_s, hi_s, bins + 1)
        if np.all(edges[:-1] < edges[1:]):
            break
        bins //= 2
    scaled = finite * scale if scale != 1.0 else finite
    counts, edges = np.histogram(scaled, bins=bins, range=(lo_s, hi_s))
    return counts.tolist(), (edges / scale).tolist()


def histogram_from_buckets(edges: Sequence[float], counts: Sequence[int]) -> Histogram:
    """Build a histogram from pre-binned data: ``len(counts) + 1`` increasing edges.

    Min, max, sum and sum_squares are unknown for pre-binned data and left as None.

    Raises:
        InvalidArgumentError: for mismatched lengths, non-increasing or non-finite edges, or
            negative or fractional counts.
    """
    edge_list = list(_as_sequence(edges, "edges"))
    count_list = [_as_count(c, "bucket count") for c in _as_sequence(counts, "counts")]
    if not count_list:
        raise InvalidArgumentError("pre-binned histogram needs at least one bucket, got []")
    return Histogram(tuple(count_list), tuple(edge_list), None, None, sum(count_list), None, None)


def _check_edges(edges: tuple[float, ...], counts: tuple[int, ...]) -> None:
    """Require len(counts) + 1 edges (or none for no buckets), increasing left to right."""
    expected = len(counts) + 1 if counts else 0
    if len(edges) != expected:
        raise InvalidArgumentError(f"{len(counts)} bucket counts need {expected} edges, got {len(edges)}: {list(edges)}")
    # A lone bucket may have zero width: that is how constant input is recorded.
    if len(counts) == 1 and edges[0] <= edges[1]:
        return
    for left, right in zip(edges, edges[1:]):
        if not left < right:
            raise InvalidArgumentError(f"edges must increase, but {left!r} is followed by {right!r}")


def _as_sequence(value: Any, name: str) -> Sequence[Any]:
    """Accept a list, tuple or 1-D array; reject strings and scalars."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise InvalidArgumentError(f"{name} must be 1-D, got shape {value.shape}")
        return value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"{name} must be a sequence of numbers, not {value!r}")
    return value


def _as_count(value: Any, name: str) -> int:
    """Return a non-negative whole number as int; integral floats like 3.0 are accepted."""
    if not _is_real(value):
        raise InvalidArgumentError(f"{name} must be a whole number, not {value!r}")
    if _is_int(value):
        whole = value >= 0
    else:
        whole = math.isfinite(value) and value >= 0 and value == int(value)
    if not whole:
        raise InvalidArgumentError(f"{name} must be a non-negative whole number, not {value!r}")
    return int(value)


def _as_float(value: Any, name: str, *, allow_inf: bool = False) -> float:
    """Return a real number as float; NaN is never allowed, infinity only if asked for."""
    if not _is_real(value):
        raise InvalidArgumentError(f"{name} must be a number, not {value!r}")
    try:
        result = float(value)
    except OverflowError:  # a Python int beyond float64
        raise InvalidArgumentError(f"{name} is too large for float64: {value!r}") from None
    if math.isnan(result) or (math.isinf(result) and not allow_inf):
        raise InvalidArgumentError(f"{name} must be finite, not {value!r}")
    return result


def _is_int(value: Any) -> bool:
    """True for Python and numpy integers, but not bools (which are ints to Python)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    """True for Python and numpy integers and floats, but not bools."""
    return _is_int(value) or isinstance(value, (float, np.floating))
