"""Logged batches as the rows a SQL write inserts and the metric updates it makes (no SQL here).

A metric row, as the write locked it, is [id, kind, value_type, count, last_step]. Batches of the
same series are written together: resolving auto steps over their concatenation equals resolving
them batch after batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from .._types import RecordBatch, ScalarBatch, promote_value_type
from . import _chunks
from ._sql import record_json

_B = TypeVar("_B", ScalarBatch, RecordBatch)
Metrics = dict[tuple[str, str], list[Any]]


def by_series(batches: Sequence[_B]) -> dict[tuple[str, str], list[_B]]:
    """Batches grouped by (run id, name), series in first-seen order, batches in call order."""
    grouped: dict[tuple[str, str], list[_B]] = {}
    for batch in batches:
        grouped.setdefault((batch.run_id, batch.name), []).append(batch)
    return grouped


def tails(grouped: dict[tuple[str, str], list[ScalarBatch]], metrics: Metrics) -> list[tuple[int, int]]:
    """(metric id, offset) of the partial last chunks these series extend, sorted (PostgreSQL locks in that order)."""
    points = _chunks.CHUNK_POINTS
    return sorted({(m[0], m[3] - m[3] % points) for m in (metrics[key] for key in grouped) if m[3] % points})


def _description(batches: Sequence[ScalarBatch | RecordBatch]) -> str:
    """The first description given; the UPDATE keeps a description already stored."""
    return next((b.description for b in batches if b.description), "")


def scalar_rows(
    grouped: dict[tuple[str, str], list[ScalarBatch]], metrics: Metrics, tail_rows: dict[int, tuple], stored_float: Callable[[float], Any]
) -> tuple[list[tuple], list[tuple]]:
    """Chunk rows to insert (the taken tails re-encoded with the new points) and the metric updates
    (count, value_type, last_step, last_value, last_wall_time, description, *summary_args, id)."""
    chunk_rows, updates = [], []
    for key, batches in grouped.items():
        metric_id, _, value_type, count, last_step = metrics[key]
        partial = count % _chunks.CHUNK_POINTS
        tail = _chunks.tail(tail_rows.get(metric_id), count - partial, partial, run_id=key[0], name=key[1]) if partial else None
        steps = _chunks.resolve_steps(np.concatenate([np.asarray(b.steps, np.int64) for b in batches]), last_step)
        walls = np.concatenate([np.asarray(b.wall_times, np.float64) for b in batches])
        values = np.concatenate([np.asarray(b.values, np.float64) for b in batches])
        for batch in batches:
            value_type = promote_value_type(value_type, batch.value_type)
        for c in _chunks.append_chunks(tail, count, steps, walls, values):
            chunk_rows.append((metric_id, c.offset, c.count, c.step_min, c.step_max, c.wall_min, c.wall_max, c.summary, c.steps, c.wall_times, c.values))
        last = stored_float(float(values[-1]))
        summary = _chunks.summary_args(_chunks.batch_summary(values))
        updates.append((count + len(steps), value_type, int(steps[-1]), last, float(walls[-1]), _description(batches), *summary, metric_id))
    return chunk_rows, updates


def record_rows(grouped: dict[tuple[str, str], list[RecordBatch]], metrics: Metrics) -> tuple[list[tuple], list[tuple]]:
    """Record rows to insert and the metric updates (count, last_step, last_wall_time, description, id)."""
    rows, updates = [], []
    for key, batches in grouped.items():
        metric_id, _, _, count, last_step = metrics[key]
        recs = [rec for b in batches for rec in b.records]
        steps = _chunks.resolve_steps(np.array([r.step for r in recs], dtype=np.int64), last_step)
        rows += [
            (metric_id, count + i, int(step), float(rec.wall_time), record_json(rec.meta, key[0], key[1]), rec.data)
            for i, (step, rec) in enumerate(zip(steps, recs))
        ]
        updates.append((count + len(recs), int(steps[-1]), float(recs[-1].wall_time), _description(batches), metric_id))
    return rows, updates
