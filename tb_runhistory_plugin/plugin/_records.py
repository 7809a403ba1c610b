"""Tables, images and histograms of a run: `*_impl` functions returning plain data (or bytes)."""

from __future__ import annotations

from typing import Any

from .._types import MetricKind, merge_table
from ..errors import InvalidArgumentError, NotFoundError
from ..store import Store
from ._views import require_metric

DEFAULT_TABLE = 10_000  # records (rows or logged tables) per page
MAX_TABLE = 100_000  # records per page
DEFAULT_HISTOGRAMS = 500  # histograms per metric, as TensorBoard keeps
MAX_HISTOGRAMS = 10_000  # histograms per metric
# Served with their own content type; anything else a store holds goes out as an opaque download.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
OPAQUE_TYPE = "application/octet-stream"


def table_impl(store: Store, run_id: str, name: str, *, offset: int = 0, limit: int = DEFAULT_TABLE) -> dict[str, Any]:
    """A table metric's columns; `offset`/`limit` count logged records (rows or whole tables)."""
    info = require_metric(store, run_id, name, (MetricKind.TABLE,))
    records = store.read_records(run_id, name, start=offset, stop=offset + limit)
    columns = merge_table(records)
    end = offset + len(records)
    return {
        "run": run_id,
        "name": name,
        "records": info.count,
        "offset": offset,
        "limit": limit,
        "next_offset": end if end < info.count else None,
        "column_names": list(columns),
        "row_count": len(next(iter(columns.values()))) if columns else 0,
        "columns": columns,
    }


def images_impl(store: Store, run_id: str, name: str) -> dict[str, Any]:
    """The images of an image metric: index, step, wall time, content type and size (no bytes)."""
    require_metric(store, run_id, name, (MetricKind.IMAGE,))
    records = store.read_records(run_id, name)
    return {
        "run": run_id,
        "name": name,
        "images": [
            {
                "index": i,
                "step": r.step,
                "wall_time": r.wall_time,
                "content_type": r.meta.get("content_type"),
                "width": r.meta.get("width"),
                "height": r.meta.get("height"),
            }
            for i, r in enumerate(records)
        ],
    }


def image_impl(store: Store, run_id: str, name: str, index: int) -> tuple[bytes, str]:
    """One image's bytes and the content type to serve them with; negative indexes count from the end."""
    info = require_metric(store, run_id, name, (MetricKind.IMAGE,))
    position = index + info.count if index < 0 else index
    if not 0 <= position < info.count:
        raise NotFoundError(f"metric {name!r} of run {run_id!r} has {info.count} images; no index {index}")
    records = store.read_records(run_id, name, start=position, stop=position + 1)
    if not records or records[0].data is None:
        raise NotFoundError(f"image {index} of metric {name!r} in run {run_id!r} has no data")
    content_type = records[0].meta.get("content_type")
    return records[0].data, content_type if content_type in IMAGE_TYPES else OPAQUE_TYPE


def histograms_impl(store: Store, run_id: str, name: str, *, points: int = DEFAULT_HISTOGRAMS) -> dict[str, Any]:
    """A histogram metric over time: every histogram, or `points` of them evenly spaced (first and last kept)."""
    if points < 1:
        raise InvalidArgumentError(f"parameter 'points' must be at least 1, got {points}")
    info = require_metric(store, run_id, name, (MetricKind.HISTOGRAM,))
    if info.count <= points:
        picked = list(range(info.count))
        records = store.read_records(run_id, name)
    else:
        picked = sorted({round(i * (info.count - 1) / max(1, points - 1)) for i in range(points)}) if points > 1 else [info.count - 1]
        records = [store.read_records(run_id, name, start=i, stop=i + 1)[0] for i in picked]
    return {
        "run": run_id,
        "name": name,
        "total": info.count,
        "histograms": [{"index": i, "step": r.step, "wall_time": r.wall_time, "histogram": r.meta} for i, r in zip(picked, records)],
    }
