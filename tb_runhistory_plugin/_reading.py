"""The reading methods of Run that the original API names: details, metrics and metric histories."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._types import MetricHistory, MetricKind, RunInfo, merge_table
from ._validate import check_name
from .store import Store


class RunReading:
    """A mixin of Run: it needs the run's `id`, `_store`, `_open`, `info()` and `flush()`."""

    id: str
    _store: Store
    _open: bool

    def info(self) -> RunInfo:
        raise NotImplementedError  # Run's

    def flush(self, *, timeout: float | None = None) -> None:
        raise NotImplementedError  # Run's

    def get_details(self) -> dict[str, Any]:
        """Details in the original API's shape (camelCase keys)."""
        info = self.info()
        return {
            "runId": info.id,
            "displayName": info.display_name,
            "status": str(info.status),
            "startTimeUtc": _iso(info.start_time),
            "endTimeUtc": _iso(info.end_time),
            "description": info.description,
            "tags": dict(info.tags),
            "properties": dict(info.properties),
            "parentRunId": info.parent_id,
            "experimentId": info.experiment_id,
            "error": info.error,
            "traceback": info.traceback,
            "errorCode": info.error_code,
            "runType": info.run_type,
            "logsDir": info.logs_dir,
        }

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """{name: value or [values]} as the original API; tables as {name: {column: [...]}}.

        With recursive=True: {run id: {name: ...}} for this run and every descendant.
        """
        if self._open:
            self.flush()
        if recursive:
            runs = [self.id] + [info.id for info in self._store.list_descendants(self.id)]
            return {run_id: self._metrics_of(run_id, name) for run_id in runs}
        return self._metrics_of(self.id, name)

    def get_metric_history(self, name: str) -> MetricHistory:
        """Steps, wall times and values of a scalar metric as numpy arrays."""
        check_name(name, "metric name")
        if self._open:
            self.flush()
        return self._store.read_scalars(self.id, name)

    def _metrics_of(self, run_id: str, name: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for info in self._store.list_metrics(run_id):
            if name is not None and info.name != name:
                continue
            if info.kind == MetricKind.SCALAR:
                values = self._store.read_scalars(run_id, info.name).values
                cast = {"int": int, "bool": bool}.get(info.value_type, float)
                items = [cast(v) if np.isfinite(v) else float(v) for v in values.tolist()]
                result[info.name] = items[0] if len(items) == 1 else items
            elif info.kind == MetricKind.TABLE:
                result[info.name] = merge_table(self._store.read_records(run_id, info.name))
            else:
                result[info.name] = [{"step": r.step, "wall_time": r.wall_time, **r.meta} for r in self._store.read_records(run_id, info.name)]
        return result


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z"
