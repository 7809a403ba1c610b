"""Scalar series: one downsampled (or raw) series, and several runs' series for an overlay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._types import MetricKind
from ..errors import InvalidArgumentError, NotFoundError
from ..store import Store
from . import downsample as ds
from ._views import require_metric

DEFAULT_RAW = 10_000  # points per raw page
MAX_RAW = 100_000  # points per raw page
MAX_COMPARE = 100  # runs per /compare request


def _bounds(x: str, lo: float | None, hi: float | None, origin: float | None) -> tuple[str, float | None, float | None]:
    """Turn a relative range into wall times; relative x counts seconds from the series' first point."""
    if x != "relative":
        return x, lo, hi
    shift = origin or 0.0
    return "wall_time", None if lo is None else lo + shift, None if hi is None else hi + shift


_VALUE_COLUMNS = ("min", "max", "first", "last", "mean")
_F32_MAX = float(np.finfo(np.float32).max)
_F32_TINY = float(np.finfo(np.float32).tiny)
_F32_EXACT_INTS = 2.0**24  # integers above this are not all representable in float32


def wire_columns(buckets: ds.Buckets, exact: bool) -> dict[str, np.ndarray]:
    """Bucket columns as sent: values in float32 unless `exact` or float32 would distort them.

    A chart cannot show more than float32's ~7 significant digits (TensorBoard keeps scalars as
    float32 too), and the shorter numbers halve the JSON and the time to gzip it; raw=1 and
    /download are always exact. A column keeps float64 when it holds values outside float32's
    range or integers above 2**24.
    """
    columns = buckets.columns()
    if exact:
        return columns
    for key in _VALUE_COLUMNS:
        values = columns[key]
        finite = values[np.isfinite(values)]
        if finite.size:
            magnitude = np.abs(finite)
            if magnitude.max() > _F32_MAX or (magnitude[magnitude > 0].min(initial=1.0) < _F32_TINY):
                continue
            if magnitude.max() > _F32_EXACT_INTS and np.array_equal(finite, np.round(finite)):
                continue
        columns[key] = values.astype(np.float32)
    return columns


def _downsampled(store: Store, run_id: str, name: str, x: str, points: int, lo: float | None, hi: float | None, exact: bool = False) -> dict[str, Any]:
    summaries = store.read_summaries(run_id, name)
    origin = ds.origin(summaries)
    mode, lo, hi = _bounds(x, lo, hi, origin)

    def read(start: int, stop: int):
        return store.read_scalars(run_id, name, start=start, stop=stop)

    buckets = ds.downsample(summaries, read, points, x=mode, lo=lo, hi=hi)
    return {
        "total": int(summaries.counts.sum()),
        "origin": origin,
        "downsampled": bool(len(buckets) and int(buckets.count.max()) > 1),
        "buckets": wire_columns(buckets, exact),
    }


def series_impl(
    store: Store,
    run_id: str,
    name: str,
    *,
    x: str = "step",
    points: int = ds.DEFAULT_POINTS,
    lo: float | None = None,
    hi: float | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """One scalar series in at most `points` buckets, optionally limited to an x range."""
    if x not in ds.X_MODES:
        raise InvalidArgumentError(f"parameter 'x' must be one of {', '.join(ds.X_MODES)}; got {x!r}")
    return {"run": run_id, "name": name, "x": x, "points": points, **_downsampled(store, run_id, name, x, points, lo, hi, exact)}


def raw_impl(store: Store, run_id: str, name: str, *, offset: int = 0, limit: int = DEFAULT_RAW) -> dict[str, Any]:
    """Points [offset, offset + limit) of a scalar series, exactly as stored."""
    total = require_metric(store, run_id, name, (MetricKind.SCALAR,)).count
    history = store.read_scalars(run_id, name, start=offset, stop=offset + limit)
    end = offset + len(history)
    return {
        "run": run_id,
        "name": name,
        "total": total,
        "offset": offset,
        "limit": limit,
        "next_offset": end if end < total else None,
        "points": {
            "step": np.ascontiguousarray(history.steps, np.int64),
            "wall_time": np.ascontiguousarray(history.wall_times, np.float64),
            "value": np.ascontiguousarray(history.values, np.float64),
        },
    }


def compare_impl(
    store: Store,
    run_ids: Sequence[str],
    name: str,
    *,
    x: str = "step",
    points: int = ds.DEFAULT_POINTS,
    lo: float | None = None,
    hi: float | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """The same metric of several runs, each downsampled like /series (for overlay charts).

    Unknown runs are a NotFoundError; a run without that scalar gets an entry with an "error".
    """
    if x not in ds.X_MODES:
        raise InvalidArgumentError(f"parameter 'x' must be one of {', '.join(ds.X_MODES)}; got {x!r}")
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        raise InvalidArgumentError("missing required parameter 'runs'")
    if len(ids) > MAX_COMPARE:
        raise InvalidArgumentError(f"parameter 'runs' lists {len(ids)} runs; at most {MAX_COMPARE} per request")
    metrics = store.last_values(ids)
    series = []
    for run_id in ids:
        info = next((m for m in metrics.get(run_id, []) if m.name == name), None)
        if info is None:
            store.get_run(run_id)  # NotFoundError for an unknown run
            series.append({"run": run_id, "error": f"run {run_id!r} has no metric {name!r}"})
        elif info.kind != MetricKind.SCALAR:
            series.append({"run": run_id, "error": f"metric {name!r} of run {run_id!r} holds {info.kind} data, not scalar data"})
        else:
            try:
                series.append({"run": run_id, **_downsampled(store, run_id, name, x, points, lo, hi, exact)})
            except NotFoundError as exc:  # deleted meanwhile
                series.append({"run": run_id, "error": str(exc)})
    return {"name": name, "x": x, "points": points, "series": series}
