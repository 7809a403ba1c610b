"""The standard charts of a run (confusion matrix, accuracy table, residuals, predictions): /chart and downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from .._types import CHART_KINDS, MetricInfo, MetricKind, Record
from ..errors import NotFoundError
from ..store import Store
from ._views import require_metric

_CSV_HEADERS = {
    MetricKind.CONFUSION_MATRIX: ["step", "wall_time", "actual", "predicted", "count"],
    MetricKind.ACCURACY_TABLE: ["step", "wall_time", "class", "thresholds", "threshold", "tp", "fp", "tn", "fn"],
    MetricKind.RESIDUALS: ["step", "wall_time", "left", "right", "count"],
    MetricKind.PREDICTIONS: ["step", "wall_time", "left", "right", "count", "average", "error"],
}


def chart_json(record: Record) -> dict[str, Any]:
    """One logged chart: its step, wall time and document."""
    meta = record.meta
    return {
        "step": record.step,
        "wall_time": record.wall_time,
        "schema_type": meta.get("schema_type"),
        "schema_version": meta.get("schema_version"),
        "data": meta.get("data"),
    }


def chart_impl(store: Store, run_id: str, name: str, index: int = -1) -> dict[str, Any]:
    """One logged chart of a chart metric (the latest by default), with the steps of every other one."""
    info = require_metric(store, run_id, name, CHART_KINDS)
    position = index + info.count if index < 0 else index
    if not 0 <= position < info.count:
        raise NotFoundError(f"metric {name!r} of run {run_id!r} has {info.count} charts; no index {index}")
    records = store.read_records(run_id, name)
    if position >= len(records):  # the count ran ahead of the records (a writer in between): answer what exists
        raise NotFoundError(f"chart {index} of metric {name!r} in run {run_id!r} is not stored yet")
    return {
        "run": run_id,
        "name": name,
        "kind": str(info.kind),
        "total": len(records),
        "index": position,
        "steps": [{"index": i, "step": r.step, "wall_time": r.wall_time} for i, r in enumerate(records)],
        **chart_json(records[position]),
    }


def charts_data(store: Store, run_id: str, metric: MetricInfo) -> dict[str, Any]:
    """Every logged chart of a metric (the JSON download)."""
    return {"charts": [chart_json(r) for r in store.read_records(run_id, metric.name)]}


def charts_csv(store: Store, run_id: str, metric: MetricInfo) -> Iterator[bytes]:
    """Every logged chart of a metric in long form, one CSV row per number."""
    kind = MetricKind(metric.kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_HEADERS[kind])
    for record in store.read_records(run_id, metric.name):
        data = record.meta.get("data") or {}
        head = [record.step, repr(record.wall_time)]
        writer.writerows([head + row for row in _rows(kind, data)])
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue().encode()


def _rows(kind: MetricKind, data: dict[str, Any]) -> Iterator[list[Any]]:
    if kind == MetricKind.CONFUSION_MATRIX:
        labels = data.get("class_labels", [])
        for actual, row in zip(labels, data.get("matrix", [])):
            for predicted, count in zip(labels, row):
                yield [actual, predicted, count]
    elif kind == MetricKind.ACCURACY_TABLE:
        for table in ("probability", "percentile"):
            thresholds = data.get(f"{table}_thresholds", [])
            for label, rows in zip(data.get("class_labels", []), data.get(f"{table}_tables", [])):
                for threshold, counts in zip(thresholds, rows):
                    yield [label, table, repr(threshold), *counts]
    else:
        edges = data.get("bin_edges", [])
        columns = [data.get("bin_counts", [])]
        if kind == MetricKind.PREDICTIONS:
            columns += [_texts(data.get("bin_averages", [])), _texts(data.get("bin_errors", []))]
        for i, cells in enumerate(zip(*columns)):
            yield [repr(edges[i]), repr(edges[i + 1]), *cells]


def _texts(values: list[Any]) -> list[str]:
    """Floats as their shortest round-trip text; an empty bin's missing value as an empty cell."""
    return ["" if v is None else repr(v) for v in values]
