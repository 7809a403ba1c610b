"""Downsample a scalar series to at most N buckets, from the store's per-chunk summaries.

Every point belongs to exactly one bucket, and each bucket carries its count, min, max (over finite
values), first, last and mean, so a single spike among ten million points is in some bucket's max
at any N. Buckets are runs of consecutive points in logging order (equal counts, not equal x
widths), placed at their smallest step and earliest wall time.

Two regimes, chosen per request:
- coarse (the series has at least N/2 chunks in the requested range): buckets are whole chunks,
  aggregated from the summaries alone; only chunks that straddle the edges of an x range are read,
  and their in-range points summarized exactly. Cost grows with the number of chunks, not points:
  10 M points are 2,442 summaries.
- fine (fewer chunks than that): the points of the range are read and bucketed exactly. At most
  min(2,048 x N, 4 M) points are read (2 M for N = 1,000): past that the coarse regime applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .._types import ChunkSummaries, MetricHistory
from ..errors import InvalidArgumentError

X_MODES = ("step", "wall_time", "relative")
DEFAULT_POINTS = 1_000  # buckets per series
MAX_POINTS = 10_000  # buckets per series
_READ_CAP = 4 * 1_048_576  # points read for one series at most; past it the coarse regime applies

Reader = Callable[[int, int], MetricHistory]  # read(start, stop): points [start, stop) in logging order


@dataclasses.dataclass(frozen=True, eq=False)
class Buckets:
    """Aligned columns, one entry per bucket, in logging order."""

    step: np.ndarray  # int64, the smallest step in the bucket
    wall_time: np.ndarray  # float64, the earliest wall time in the bucket
    count: np.ndarray  # int64, points in the bucket
    nonfinite: np.ndarray  # int64, NaN and infinite points among them
    min: np.ndarray  # float64, over finite values; NaN when there are none
    max: np.ndarray
    first: np.ndarray  # float64, the first and last values as logged (may be NaN or infinite)
    last: np.ndarray
    mean: np.ndarray  # float64, over finite values; NaN when there are none

    def __len__(self) -> int:
        return len(self.count)

    def columns(self) -> dict[str, np.ndarray]:
        """The columns by name, as served."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def empty_buckets() -> Buckets:
    """No buckets."""
    i, f = np.empty(0, np.int64), np.empty(0, np.float64)
    return Buckets(i, f, i, i, f, f, f, f, f)


def origin(summaries: ChunkSummaries) -> float | None:
    """The earliest wall time of a series (what relative time counts from), None when empty."""
    return float(np.min(summaries.wall_min)) if len(summaries) else None


def downsample(
    summaries: ChunkSummaries,
    read: Reader,
    points: int,
    *,
    x: str = "step",
    lo: float | None = None,
    hi: float | None = None,
) -> Buckets:
    """At most `points` buckets of the points whose x (step or wall_time) is in [lo, hi].

    Args:
        summaries: the series' chunk summaries (Store.read_summaries).
        read: reads points [start, stop) of the same series (Store.read_scalars).
        points: the most buckets to return, at least 1.
        x: "step" or "wall_time", the unit of lo and hi ("relative" is wall_time minus origin).
        lo, hi: inclusive x range; None for open.
    """
    if points < 1:
        raise InvalidArgumentError(f"points must be at least 1, got {points}")
    if x not in ("step", "wall_time"):
        raise InvalidArgumentError(f"x must be 'step' or 'wall_time' here, got {x!r}")
    if len(summaries) == 0:
        return empty_buckets()
    lo_ = -np.inf if lo is None else lo
    hi_ = np.inf if hi is None else hi
    if lo_ > hi_:
        return empty_buckets()
    xs_min, xs_max = (summaries.step_min, summaries.step_max) if x == "step" else (summaries.wall_min, summaries.wall_max)
    outside = (xs_max < lo_) | (xs_min > hi_)
    inside = ~outside & (xs_min >= lo_) & (xs_max <= hi_)
    partial = ~outside & ~inside
    selected = ~outside
    chunks = int(selected.sum())
    upper = int(summaries.counts[selected].sum())
    if upper == 0:
        return empty_buckets()
    if upper > points and (2 * chunks >= points or upper > _READ_CAP):
        return _coarse(summaries, read, points, inside, partial, x, lo_, hi_)
    steps, walls, values = _read_selected(summaries, read, selected, partial, x, lo_, hi_)
    if len(values) <= points:
        return _each_point(steps, walls, values)
    return _fine(steps, walls, values, points)


def _in_range(history: MetricHistory, x: str, lo: float, hi: float) -> np.ndarray:
    xs = history.steps if x == "step" else history.wall_times
    return (xs >= lo) & (xs <= hi)


def _runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges of consecutive True entries."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _read_selected(summaries, read, selected, partial, x, lo, hi):
    """The points of the selected chunks that lie in [lo, hi], in logging order."""
    offsets, counts = summaries.offsets, summaries.counts
    parts = []
    for a, b in _runs_of(selected):
        history = read(int(offsets[a]), int(offsets[b - 1] + counts[b - 1]))
        if partial[a:b].any():
            keep = _in_range(history, x, lo, hi)
            parts.append((history.steps[keep], history.wall_times[keep], history.values[keep]))
        else:
            parts.append((history.steps, history.wall_times, history.values))
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def _each_point(steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> Buckets:
    finite = np.isfinite(values)
    kept = np.where(finite, values, np.nan)
    return Buckets(
        step=np.ascontiguousarray(steps, np.int64),
        wall_time=np.ascontiguousarray(walls, np.float64),
        count=np.ones(len(values), np.int64),
        nonfinite=(~finite).astype(np.int64),
        min=kept,
        max=kept.copy(),
        first=np.ascontiguousarray(values, np.float64),
        last=np.array(values, np.float64),
        mean=kept.copy(),
    )


def _fine(steps: np.ndarray, walls: np.ndarray, values: np.ndarray, points: int) -> Buckets:
    """Exact buckets of consecutive points, counts differing by at most one."""
    m = len(values)
    starts = (np.arange(points, dtype=np.int64) * m + points - 1) // points
    ends = np.append(starts[1:], m)
    count = ends - starts
    finite = np.isfinite(values)
    if finite.all():  # the common case: no masking needed
        n_finite = count
        total = np.add.reduceat(values, starts)
        lows, highs = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
    else:
        kept = np.where(finite, values, np.nan)
        n_finite = np.add.reduceat(finite.astype(np.int64), starts)
        total = np.add.reduceat(np.where(finite, values, 0.0), starts)
        lows, highs = np.fmin.reduceat(kept, starts), np.fmax.reduceat(kept, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_finite > 0, total / n_finite, np.nan)
    return Buckets(
        step=np.minimum.reduceat(steps, starts),
        wall_time=np.fmin.reduceat(walls, starts),
        count=count,
        nonfinite=count - n_finite,
        min=lows,
        max=highs,
        first=values[starts].astype(np.float64),
        last=values[ends - 1].astype(np.float64),
        mean=mean,
    )


def _coarse(summaries, read, points, inside, partial, x, lo, hi) -> Buckets:
    """Buckets made of whole chunks (summaries), plus exact summaries of edge chunks' in-range points."""
    s = summaries
    keep = inside | partial
    idx = np.flatnonzero(keep)
    count = s.counts[idx].astype(np.int64)
    step = s.step_min[idx].astype(np.int64)
    wall = s.wall_min[idx].astype(np.float64)
    vmin, vmax = s.vmin[idx].astype(np.float64), s.vmax[idx].astype(np.float64)
    first, last = s.first[idx].astype(np.float64), s.last[idx].astype(np.float64)
    total, finite = s.total[idx].astype(np.float64), s.finite[idx].astype(np.int64)
    for j in np.flatnonzero(partial[idx]).tolist():
        c = int(idx[j])
        history = read(int(s.offsets[c]), int(s.offsets[c] + s.counts[c]))
        mask = _in_range(history, x, lo, hi)
        values = history.values[mask]
        count[j] = len(values)
        if not len(values):
            continue
        ok = np.isfinite(values)
        good = values[ok]
        step[j], wall[j] = history.steps[mask].min(), history.wall_times[mask].min()
        vmin[j], vmax[j] = (good.min(), good.max()) if len(good) else (np.nan, np.nan)
        first[j], last[j] = values[0], values[-1]
        total[j], finite[j] = good.sum(), len(good)
    nonempty = count > 0
    if not nonempty.all():
        count, step, wall, vmin, vmax, first, last, total, finite = (a[nonempty] for a in (count, step, wall, vmin, vmax, first, last, total, finite))
    m = int(count.sum())
    if m == 0:
        return empty_buckets()
    # Unit u joins bucket floor(start_u * points / m): at most `points` buckets, in order.
    unit_bucket = (np.cumsum(count) - count) * points // m
    starts = np.flatnonzero(np.diff(unit_bucket, prepend=-1))
    ends = np.append(starts[1:], len(count))
    n_finite = np.add.reduceat(finite, starts)
    sums = np.add.reduceat(total, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_finite > 0, sums / n_finite, np.nan)
    counts = np.add.reduceat(count, starts)
    return Buckets(
        step=np.minimum.reduceat(step, starts),
        wall_time=np.fmin.reduceat(wall, starts),
        count=counts,
        nonfinite=counts - n_finite,
        min=np.fmin.reduceat(vmin, starts),
        max=np.fmax.reduceat(vmax, starts),
        first=first[starts],
        last=last[ends - 1],
        mean=mean,
    )
