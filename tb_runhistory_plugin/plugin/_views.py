"""Experiments, runs, one run's details and sweeps: `*_impl` functions returning plain data.

Each takes an open store and already-parsed arguments, and raises the package's typed errors
(NotFoundError for unknown ids, InvalidArgumentError for bad values). User-written strings are
returned as they are: escaping is the frontend's job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._filter import ROOTS, RunFilter
from .._types import ExperimentInfo, MetricInfo, MetricKind, RunInfo, Status
from ..errors import InvalidArgumentError, NotFoundError
from ..store import Store

STATUSES = tuple(str(s) for s in Status)
ALL_RUNS = "*"  # parent=* lists runs at any depth
DEFAULT_PAGE = 100  # runs per page
MAX_PAGE = 1_000  # runs per page
DEFAULT_SWEEP = 1_000  # children per sweep matrix
MAX_SWEEP = 10_000  # children per sweep matrix
_MAX_DEPTH = 1_000  # ancestors followed at most (a cycle cannot happen, but never loop forever)


def experiment_json(exp: ExperimentInfo) -> dict[str, Any]:
    """The short form of an experiment."""
    return {"id": exp.id, "name": exp.name, "created_at": exp.created_at}


def run_row(info: RunInfo, metrics: Sequence[MetricInfo] | None = None) -> dict[str, Any]:
    """A run as a row of the runs table; `metrics` maps scalar names to their last value."""
    row: dict[str, Any] = {
        "id": info.id,
        "display_name": info.display_name,
        "parent_id": info.parent_id,
        "child_count": info.child_count,
        "status": str(info.status),
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration": info.duration,
        "error": info.error,
        "tags": dict(info.tags),
        "properties": dict(info.properties),
        "params": dict(info.params),
        "matched": info.matched,
    }
    if metrics is not None:
        row["metrics"] = {m.name: m.last_value for m in metrics if m.kind == MetricKind.SCALAR}
    return row


def metric_json(info: MetricInfo) -> dict[str, Any]:
    """A metric's kind, size and latest point."""
    return {
        "name": info.name,
        "kind": str(info.kind),
        "count": info.count,
        "value_type": info.value_type if info.kind == MetricKind.SCALAR else None,
        "last_step": info.last_step,
        "last_value": info.last_value,
        "last_wall_time": info.last_wall_time,
        "description": info.description,
    }


# -- /experiments -------------------------------------------------------------
def experiments_impl(store: Store) -> dict[str, Any]:
    """Every experiment with its run counts by status and last activity."""
    found = []
    for exp in store.list_experiments():
        by_status = {status: store.count_runs(exp.id, RunFilter(statuses=(status,))) for status in STATUSES}
        total = store.count_runs(exp.id)
        found.append(
            {
                **experiment_json(exp),
                "run_count": total,
                "root_count": store.count_runs(exp.id, RunFilter(parent_id=ROOTS)) if total else 0,
                "status_counts": by_status,
                "last_activity": _last_activity(store, exp, total),
            }
        )
    return {"experiments": found}


def _last_activity(store: Store, exp: ExperimentInfo, total: int) -> float:
    """Latest start/end/heartbeat of the newest run, or a live run's heartbeat (live runs beat every 30 s).

    A run that ended after a newer one started is missed: the store has no max(end_time) query.
    """
    times = [exp.created_at]
    newest = store.list_runs(exp.id, limit=1, offset=total - 1) if total else []
    live = store.list_runs(exp.id, RunFilter(statuses=(Status.RUNNING,)), limit=1) if total else []
    for info in newest + live:
        times += [t for t in (info.start_time, info.end_time, info.heartbeat_time) if t is not None]
    return max(times)


# -- /runs --------------------------------------------------------------------
def runs_impl(
    store: Store,
    *,
    experiment: str | None = None,
    parent: str | None = None,
    filter: RunFilter | None = None,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of runs: roots (parent None), one run's children, or every run (parent "*"), as `filter` selects and sorts them."""
    if parent is None or parent == ALL_RUNS:
        if experiment is None:
            raise InvalidArgumentError("missing required parameter 'experiment' (or give 'parent')")
        exp = store.get_experiment(experiment)
        parent_id = ROOTS if parent is None else None
    else:
        info = store.get_run(parent)
        exp = store.get_experiment(info.experiment_id)
        if experiment is not None and experiment not in (exp.id, exp.name):
            raise InvalidArgumentError(f"run {parent!r} belongs to experiment {exp.name!r}, not {experiment!r}")
        parent_id = parent
    query = (filter or RunFilter()).replace(parent_id=parent_id)
    total = store.count_runs(exp.id, query)
    infos = store.list_runs(exp.id, query, limit=limit, offset=offset)
    last = store.last_values([i.id for i in infos]) if infos else {}
    rows = [run_row(info, last.get(info.id, [])) for info in infos]
    names = sorted({name for row in rows for name in row["metrics"]})
    return {
        "experiment": experiment_json(exp),
        "parent": None if parent_id in (ROOTS, None) else parent_id,
        "total": total,
        "offset": offset,
        "limit": limit,
        "order": query.order,
        "sort": query.sort or "start_time",
        "filter": query.query,
        "runs": rows,
        "metric_names": names,
    }


# -- /run ---------------------------------------------------------------------
def run_impl(store: Store, run_id: str) -> dict[str, Any]:
    """Everything about one run: details, ancestors, metrics (kind, count, last point), files."""
    info = store.get_run(run_id)
    exp = store.get_experiment(info.experiment_id)
    ancestors: list[dict[str, Any]] = []
    parent_id = info.parent_id
    while parent_id is not None and len(ancestors) < _MAX_DEPTH:
        parent = store.get_run(parent_id)
        ancestors.append({"id": parent.id, "display_name": parent.display_name, "status": str(parent.status)})
        parent_id = parent.parent_id
    detail = run_row(info)
    detail.update(
        experiment_id=info.experiment_id,
        description=info.description,
        heartbeat_time=info.heartbeat_time,
        traceback=info.traceback,
        error_code=info.error_code,
        run_type=info.run_type,
        logs_dir=info.logs_dir,
    )
    return {
        "run": detail,
        "experiment": experiment_json(exp),
        "ancestors": ancestors[::-1],
        "metrics": [metric_json(m) for m in store.list_metrics(run_id)],
        "files": [{"name": f.name, "size": f.size, "created_at": f.created_at} for f in store.list_files(run_id)],
    }


# -- /sweep -------------------------------------------------------------------
def sweep_impl(store: Store, parent_id: str, *, limit: int = DEFAULT_SWEEP, offset: int = 0) -> dict[str, Any]:
    """A parent's children as a matrix: hyperparameters and final metric values, one row per child.

    Columns (key "source:name"): params, properties, tags, scalars logged once and the numeric cells of
    tables logged as one row are parameters ("param"); scalars logged more than once give their
    last value ("metric").
    """
    parent = store.get_run(parent_id)
    exp = store.get_experiment(parent.experiment_id)
    children_of = RunFilter(parent_id=parent.id)
    total = store.count_runs(exp.id, children_of)
    children = store.list_runs(exp.id, children_of, limit=limit, offset=offset)
    metrics = store.last_values([c.id for c in children]) if children else {}
    columns: dict[str, dict[str, Any]] = {}
    cells: list[dict[str, Any]] = []

    def put(row: dict[str, Any], source: str, name: str, value: Any, kind: str = "param") -> None:
        key = f"{source}:{name}"
        column = columns.setdefault(key, {"key": key, "name": name, "source": source, "kind": kind, "numeric": True})
        if kind == "metric":
            column["kind"] = "metric"
        if value is not None and not _is_number(value, source):
            column["numeric"] = False
        row[key] = value

    for child in children:
        row: dict[str, Any] = {}
        for key, value in child.params.items():
            put(row, "params", key, value)
        for key, value in child.properties.items():
            put(row, "property", key, value)
        for key, value in child.tags.items():
            put(row, "tag", key, value)
        for info in metrics.get(child.id, []):
            if info.kind == MetricKind.SCALAR:
                put(row, "scalar", info.name, info.last_value, "param" if info.count == 1 else "metric")
            elif info.kind == MetricKind.TABLE and info.count == 1:
                for table_column, value in _single_row(store, child.id, info.name).items():
                    put(row, "row", f"{info.name}/{table_column}", value)
        cells.append(row)
    order = sorted(columns.values(), key=lambda c: (c["kind"] == "metric", _SOURCE_ORDER[c["source"]], c["name"]))
    for column in order:
        if all(row.get(column["key"]) is None for row in cells):
            column["numeric"] = False
    return {
        "parent": {"id": parent.id, "display_name": parent.display_name, "status": str(parent.status)},
        "experiment": experiment_json(exp),
        "total": total,
        "offset": offset,
        "limit": limit,
        "runs": [{"id": c.id, "display_name": c.display_name, "status": str(c.status)} for c in children],
        "columns": order,
        "values": [[row.get(c["key"]) for c in order] for row in cells],
    }


_SOURCE_ORDER = {"params": 0, "property": 1, "tag": 2, "scalar": 3, "row": 4}


def _is_number(value: Any, source: str) -> bool:
    if isinstance(value, (int, float)):
        return True
    if source == "tag" and isinstance(value, str):
        try:
            return math.isfinite(float(value)) or value.strip().lower() in ("nan", "inf", "-inf")
        except ValueError:
            return False
    return False


def _single_row(store: Store, run_id: str, name: str) -> dict[str, Any]:
    """The numeric cells of a table logged as one row (log_row, or log_table with one row)."""
    records = store.read_records(run_id, name, start=0, stop=1)
    if not records:
        return {}
    meta = records[0].meta
    if "row" in meta:
        row = meta["row"]
    elif "columns" in meta and all(len(v) == 1 for v in meta["columns"].values()):
        row = {k: v[0] for k, v in meta["columns"].items()}
    else:
        return {}
    return {k: v for k, v in row.items() if isinstance(v, (int, float))}


def require_metric(store: Store, run_id: str, name: str, kinds: Sequence[str]) -> MetricInfo:
    """The metric `name` of a run, of one of `kinds`.

    Raises:
        NotFoundError: no such run, or the run has no such metric.
        InvalidArgumentError: the metric holds another kind of data.
    """
    for info in store.list_metrics(run_id):
        if info.name == name:
            if info.kind not in kinds:
                raise InvalidArgumentError(f"metric {name!r} of run {run_id!r} holds {info.kind} data, not {' or '.join(kinds)} data")
            return info
    raise NotFoundError(f"run {run_id!r} has no metric {name!r}")
