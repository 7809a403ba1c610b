"""Scalar series as append-only chunks of packed arrays with per-chunk summaries.

One row per point cannot reach a million points a second, so SQL backends store each series as
chunks of up to CHUNK_POINTS points: little-endian int64 steps, float64 wall times and float64
values, plus a summary (min, max, first, last, sum, finite count) that downsampling reads
instead of the points. The last chunk of a series grows until it is full. Consecutive steps (the common case of
automatic steps) are stored as an empty blob and rebuilt from step_min: a third less I/O.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._types import ChunkSummaries, MetricHistory
from ..errors import StoreError

CHUNK_POINTS = 4096  # points per full chunk
_SUMMARY_FIELDS = 6  # vmin, vmax, first, last, total, finite


@dataclasses.dataclass(frozen=True, eq=False)
class Chunk:
    """One stored chunk: its position in the series, bounds and packed arrays."""

    offset: int
    count: int
    step_min: int
    step_max: int
    wall_min: float
    wall_max: float
    summary: bytes
    steps: bytes
    wall_times: bytes
    values: bytes


def resolve_steps(steps: np.ndarray, last_step: int | None) -> np.ndarray:
    """Replace each -1 ('auto') with the previous step plus one; the first auto after nothing is 0."""
    steps = np.asarray(steps, dtype=np.int64)
    auto = steps < 0
    if not auto.any():
        return steps
    start = -1 if last_step is None else int(last_step)
    n = len(steps)
    if auto.all():
        return np.arange(start + 1, start + 1 + n, dtype=np.int64)
    positions = np.arange(n, dtype=np.int64)
    anchor = np.where(auto, -1, positions)
    np.maximum.accumulate(anchor, out=anchor)
    base = np.where(anchor >= 0, steps[np.maximum(anchor, 0)], start)
    offset = np.where(anchor >= 0, positions - anchor, positions + 1)
    return base + offset


def value_type_of(values: np.ndarray) -> str:
    """The value type name of an array built from logged values."""
    if values.dtype.kind == "b":
        return "bool"
    if values.dtype.kind in "iu":
        return "int"
    return "float"


def summarize(values: np.ndarray) -> bytes:
    """Pack the summary of one chunk's values."""
    finite = np.isfinite(values)
    n_finite = int(finite.sum())
    if n_finite == len(values):
        lo, hi, total = values.min(), values.max(), values.sum()
    elif n_finite:
        kept = values[finite]
        lo, hi, total = kept.min(), kept.max(), kept.sum()
    else:
        lo = hi = np.nan
        total = 0.0
    return np.array([lo, hi, values[0], values[-1], total, n_finite], dtype="<f8").tobytes()


def batch_summary(values: np.ndarray) -> tuple[float | None, float | None, float | None, float, int]:
    """(last, min, max, sum, finite count) of appended values, as SUMMARY_UPDATE takes them.

    The rule: min, max and sum are over finite values only (None when there is none); last is the
    last value logged, None when it is NaN (so it never compares), infinities kept as they are.
    """
    finite = values[np.isfinite(values)]
    last = float(values[-1])
    if not len(finite):
        return (None if math.isnan(last) else last), None, None, 0.0, 0
    return (None if math.isnan(last) else last), float(finite.min()), float(finite.max()), float(finite.sum()), len(finite)


def combined_summary(rows: list[bytes], last: float | None) -> tuple[float | None, float | None, float | None, float, int]:
    """The batch_summary of a whole series from its chunks' packed summaries (for the backfill migration)."""
    packed = np.frombuffer(b"".join(bytes(r) for r in rows), "<f8").reshape(-1, _SUMMARY_FIELDS)
    has = packed[:, 5] > 0
    if last is not None and math.isnan(last):
        last = None
    if not has.any():
        return last, None, None, 0.0, 0
    return last, float(packed[has, 0].min()), float(packed[has, 1].max()), float(packed[has, 4].sum()), int(packed[:, 5].sum())


# Merges a batch_summary into a metrics row (both stores, `?` marks): min/max keep the extreme, sums add.
SUMMARY_UPDATE = (
    "s_last = ?, s_min = CASE WHEN s_min IS NULL OR ? < s_min THEN ? ELSE s_min END,"
    " s_max = CASE WHEN s_max IS NULL OR ? > s_max THEN ? ELSE s_max END, s_sum = s_sum + ?, s_finite = s_finite + ?"
)


def summary_args(summary: tuple[float | None, float | None, float | None, float, int]) -> tuple[Any, ...]:
    """SUMMARY_UPDATE's arguments for a batch_summary."""
    last, lo, hi, total, finite = summary
    return (last, lo, lo, hi, hi, total, finite)


def make_chunk(offset: int, steps: np.ndarray, wall_times: np.ndarray, values: np.ndarray) -> Chunk:
    """Build a chunk from aligned arrays (at most CHUNK_POINTS long)."""
    return Chunk(
        offset=offset,
        count=len(steps),
        step_min=int(steps.min()),
        step_max=int(steps.max()),
        wall_min=float(wall_times.min()),
        wall_max=float(wall_times.max()),
        summary=summarize(values),
        steps=b"" if _consecutive(steps) else steps.astype("<i8", copy=False).tobytes(),
        wall_times=wall_times.astype("<f8", copy=False).tobytes(),
        values=values.astype("<f8", copy=False).tobytes(),
    )


def _consecutive(steps: np.ndarray) -> bool:
    return bool(len(steps)) and int(steps[-1]) - int(steps[0]) == len(steps) - 1 and bool((np.diff(steps) == 1).all())


def decode(
    step_min: int, count: int, steps: bytes, wall_times: bytes, values: bytes, *, run_id: str, name: str, offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unpack one chunk's arrays, each checked against the chunk's count (StoreError when damaged)."""
    _check_arrays(count, steps, wall_times, values, run_id=run_id, name=name, offset=offset)
    vals = np.frombuffer(values, "<f8")
    if not steps:
        return np.arange(step_min, step_min + count, dtype=np.int64), np.frombuffer(wall_times, "<f8"), vals
    return np.frombuffer(steps, "<i8"), np.frombuffer(wall_times, "<f8"), vals


def _damaged(run_id: str, name: str, offset: int, what: str) -> StoreError:
    return StoreError(f"metric {name!r} of run {run_id!r} is damaged in the store: the chunk at point {offset} {what}")


def _check_arrays(count: int, steps: bytes, wall_times: bytes, values: bytes, *, run_id: str, name: str, offset: int) -> None:
    """A chunk's blobs must hold exactly `count` 8-byte items (steps may be empty: consecutive)."""
    if count <= 0 or count > CHUNK_POINTS:
        raise _damaged(run_id, name, offset, f"claims {count} points (expected 1 to {CHUNK_POINTS})")
    for label, blob in (("values", values), ("wall times", wall_times), ("steps", steps)):
        if len(blob) != 8 * count and not (label == "steps" and not blob):
            raise _damaged(run_id, name, offset, f"holds {len(blob)} bytes of {label} for {count} points ({8 * count} expected)")


def tail(
    row: tuple[int, int, bytes, bytes, bytes] | None, offset: int, partial: int, *, run_id: str, name: str
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The partial last chunk (offset, arrays) from its row (step_min, count, steps, walls, values), checked."""
    if row is None:
        raise _damaged(run_id, name, offset, "is missing")
    if row[1] != partial:
        raise _damaged(run_id, name, offset, f"claims {row[1]} points where the series has {partial}")
    return (offset, *decode(*row, run_id=run_id, name=name, offset=offset))


def append_chunks(
    tail: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None,
    count: int,
    steps: np.ndarray,
    wall_times: np.ndarray,
    values: np.ndarray,
) -> list[Chunk]:
    """Chunks to write after appending points; the first replaces `tail` (offset, arrays) when given."""
    if tail is not None:
        offset, t_steps, t_walls, t_values = tail
        steps = np.concatenate([t_steps, steps])
        wall_times = np.concatenate([t_walls, wall_times])
        values = np.concatenate([t_values, values])
    else:
        offset = count
    return [
        make_chunk(offset + i, steps[i : i + CHUNK_POINTS], wall_times[i : i + CHUNK_POINTS], values[i : i + CHUNK_POINTS])
        for i in range(0, len(steps), CHUNK_POINTS)
    ]


def history(name: str, rows: list[tuple[int, int, int, bytes, bytes, bytes]], start: int, stop: int, *, run_id: str) -> MetricHistory:
    """Assemble points [start, stop) from chunk rows (offset, count, step_min, steps, walls, values) in offset order.

    Every chunk is checked against its count and the chunks must tile [start, stop) without a gap:
    a damaged or missing chunk is a StoreError naming the run and metric, never uninitialised memory.
    """
    count = max(0, stop - start)
    steps, walls, vals = np.empty(count, np.int64), np.empty(count, np.float64), np.empty(count, np.float64)
    covered = start  # every point before this one has been copied
    # Copy each chunk's overlap with [start, stop) straight into the result: one copy per point.
    for offset, n, step_min, s, w, v in rows:
        _check_arrays(n, s, w, v, run_id=run_id, name=name, offset=offset)
        lo, hi = max(start, offset), min(stop, offset + n)
        if lo >= hi:
            continue
        if offset > covered:
            break
        a, b, out = lo - offset, hi - offset, slice(lo - start, hi - start)
        steps[out] = np.arange(step_min + a, step_min + b, dtype=np.int64) if not s else np.frombuffer(s, "<i8")[a:b]
        walls[out] = np.frombuffer(w, "<f8")[a:b]
        vals[out] = np.frombuffer(v, "<f8")[a:b]
        covered = hi
    if covered < stop:
        raise _damaged(run_id, name, covered, "is missing")
    return MetricHistory(name, steps, walls, vals)


def summaries(rows: list[tuple[int, int, int, int, float, float, bytes]], *, run_id: str = "", name: str = "", total: int = 0) -> ChunkSummaries:
    """Assemble ChunkSummaries from rows (offset, count, step_min, step_max, wall_min, wall_max, summary).

    The chunks must tile the series' `total` points and each summary must be whole (else StoreError).
    """
    expected = 0
    for offset, n, _, _, _, _, summary in rows:
        if offset != expected:
            raise _damaged(run_id, name, expected, "is missing")
        if n <= 0 or n > CHUNK_POINTS:
            raise _damaged(run_id, name, offset, f"claims {n} points (expected 1 to {CHUNK_POINTS})")
        if len(summary) != 8 * _SUMMARY_FIELDS:
            raise _damaged(run_id, name, offset, f"has a summary of {len(summary)} bytes ({8 * _SUMMARY_FIELDS} expected)")
        expected = offset + n
    if expected < total:  # more is fine: a writer may have appended since the count was read
        raise _damaged(run_id, name, expected, f"is missing (the series has {total} points)")
    if not rows:
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
        return ChunkSummaries(empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_f, empty_f, empty_f, empty_f, empty_i)
    cols = list(zip(*rows))
    packed = np.frombuffer(b"".join(cols[6]), "<f8").reshape(-1, _SUMMARY_FIELDS)
    return ChunkSummaries(
        offsets=np.array(cols[0], np.int64),
        counts=np.array(cols[1], np.int64),
        step_min=np.array(cols[2], np.int64),
        step_max=np.array(cols[3], np.int64),
        wall_min=np.array(cols[4], np.float64),
        wall_max=np.array(cols[5], np.float64),
        vmin=packed[:, 0].copy(),
        vmax=packed[:, 1].copy(),
        first=packed[:, 2].copy(),
        last=packed[:, 3].copy(),
        total=packed[:, 4].copy(),
        finite=packed[:, 5].astype(np.int64),
    )
