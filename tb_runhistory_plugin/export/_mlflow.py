"""Import an MLflow tracking store into a run store, through MLflow's own client (``MlflowClient``).

What is read: every active experiment (or the one named), its active runs with their nesting at
any depth (the ``mlflow.parentRunId`` tag), run names as display names, the ``mlflow.note.content``
tag as description, params (typed params, see ``_param``), tags, status, start and
end times, and every point of every metric with its step and timestamp (``get_metric_history``,
which pages by itself). Experiments holding no run are left out unless named.

Statuses: FINISHED -> Completed, FAILED -> Failed, KILLED -> Canceled; RUNNING and SCHEDULED stay
Running, with a heartbeat at the run's last activity, so the store reads it NotResponding once
MLflow has heard nothing from it for a while.

Re-importing never duplicates: an MLflow run maps to the run whose property ``mlflow.run_id`` is
its id, and a series only gets the MLflow points it does not already hold (compared as a multiset
of (step, timestamp, value), so order does not matter). A run that was live when imported takes
its new points and its final status later; points MLflow gained for a run imported as ended cannot
be added and are counted in ``MlflowImportReport.skipped``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import sqlite3
import struct
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from .._types import RunInfo, ScalarBatch, Status, new_run_id
from .._validate import MAX_STEP, MAX_TEXT_LENGTH, check_experiment_name, check_param_value
from ..errors import InvalidArgumentError, NotFoundError, RunHistoryError
from ..store import Store, resolve_store

RUN_ID_PROPERTY = "mlflow.run_id"
PARENT_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"
INSTALL_HINT = 'pip install "tb-runhistory-plugin[mlflow]"'
_STATUSES = {"FINISHED": Status.COMPLETED, "FAILED": Status.FAILED, "KILLED": Status.CANCELED}
_PAGE = 1000  # runs or experiments per search request
_EXPERIMENT_CHARS = re.compile(r"[^\w\-.]", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_NAME = 255  # characters


@dataclasses.dataclass(frozen=True)
class MlflowImportReport:
    """What an MLflow import did."""

    tracking_uri: str
    experiments: Mapping[str, str] = dataclasses.field(default_factory=dict)  # MLflow name -> our name
    runs_created: int = 0
    runs_updated: int = 0
    points: int = 0  # metric points added
    skipped: Mapping[str, int] = dataclasses.field(default_factory=dict)  # reason -> count
    errors: tuple[str, ...] = ()  # runs that could not be imported, each naming the MLflow run id

    @property
    def ok(self) -> bool:
        """True when every run was imported."""
        return not self.errors


_INT = re.compile(r"[+-]?\d{1,18}")


def _param(text: str) -> bool | int | float | str:
    """An MLflow param (always text) typed as it was logged: "3" an int, "0.1" a float, "True" a bool, else text."""
    if _INT.fullmatch(text):
        return int(text)
    if text in ("True", "False"):
        return text == "True"
    try:
        number = float(text)
    except ValueError:
        return text[:MAX_TEXT_LENGTH]
    return number if math.isfinite(number) else text


def _params(params: Mapping[str, str]) -> dict[str, bool | int | float | str]:
    """MLflow params as typed params (see _param); text that cannot be kept (NUL) is cleaned."""
    return {_clean_name(k): check_param_value(k, _param(v.replace("\x00", "\\x00"))) for k, v in params.items()}


def _clean_name(text: str) -> str:
    text = _CONTROL.sub("_", text).strip()
    return (text or "_")[:_MAX_NAME]


def experiment_name(mlflow_name: str) -> str:
    """Our experiment name for an MLflow experiment: the same name, unsupported characters as '_'."""
    name = _EXPERIMENT_CHARS.sub("_", mlflow_name).lstrip("_-.")[:_MAX_NAME] or "mlflow"
    return check_experiment_name(name)


def _load_mlflow() -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise RunHistoryError(f"importing from MLflow needs the mlflow extra: {INSTALL_HINT} ({exc})") from None
    return MlflowClient


def _local_path(uri: str) -> str | None:
    """The directory of a file store (a plain path or a file: URI); None for other schemes."""
    if "://" not in uri and not uri.startswith("file:"):
        return os.path.abspath(os.path.expanduser(uri))
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.abspath(unquote(parsed.netloc + parsed.path if parsed.netloc not in ("", "localhost") else parsed.path))


def _check_uri(tracking_uri: str) -> str:
    """Refuse a store that is missing or not MLflow's before MLflow would create one there."""
    if not isinstance(tracking_uri, str) or not tracking_uri.strip():
        raise InvalidArgumentError(f"tracking URI must be a path or URI, got {tracking_uri!r}")
    path = _local_path(tracking_uri)
    if path is not None:
        if not os.path.exists(path):
            raise NotFoundError(f"no MLflow store at {tracking_uri!r} ({path} does not exist)")
        if not os.path.isdir(path) or not any(os.path.isfile(os.path.join(path, d, "meta.yaml")) for d in os.listdir(path)):
            raise InvalidArgumentError(f"{tracking_uri!r} is not an MLflow file store (no experiment folder with a meta.yaml)")
        return "file://" + path
    if tracking_uri.lower().startswith("sqlite:"):
        db = tracking_uri.split(":///", 1)[1] if ":///" in tracking_uri else ""
        if not db or not os.path.isfile(db):
            raise NotFoundError(f"no MLflow database at {tracking_uri!r}")
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise InvalidArgumentError(f"{tracking_uri!r} is not an MLflow database: {exc}") from None
        if not {"experiments", "runs", "metrics", "alembic_version"} <= tables:
            raise InvalidArgumentError(f"{tracking_uri!r} is not an MLflow database (no experiments/runs/metrics tables)")
    return tracking_uri


@contextlib.contextmanager
def _file_store_allowed() -> Iterator[None]:
    """MLflow 3 refuses file stores unless asked; reading an existing one is what we are here for."""
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old


def _pages(search: Any, **kwargs: Any) -> Iterator[Any]:
    token = None
    while True:
        page = search(max_results=_PAGE, page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _point_key(step: int, timestamp_ms: int, value: float) -> tuple[int, int, bytes]:
    """A point's identity; the value by its bits so that NaN equals NaN."""
    return step, timestamp_ms, struct.pack("<d", value)


def _parents_first(runs: list[Any]) -> list[Any]:
    """MLflow runs ordered so that each parent (when present) comes before its children."""
    by_id = {r.info.run_id: r for r in runs}
    ordered: list[Any] = []
    seen: set[str] = set()
    for run in runs:
        chain = []
        while run is not None and run.info.run_id not in seen:
            chain.append(run)
            seen.add(run.info.run_id)
            run = by_id.get(run.data.tags.get(PARENT_TAG, ""))
        ordered.extend(reversed(chain))
    return ordered


class _Importer:
    def __init__(self, client: Any, store: Store) -> None:
        self.client, self.store = client, store
        self.skipped: Counter[str] = Counter()
        self.errors: list[str] = []
        self.created = self.updated = self.points = 0
        self.ours: dict[str, str] = {}  # MLflow run id -> our run id

    def import_experiment(self, experiment: Any, runs: list[Any]) -> str:
        exp = self.store.get_or_create_experiment(experiment_name(experiment.name))
        known = {info.properties[RUN_ID_PROPERTY]: info for info in self.store.list_runs(exp.id) if RUN_ID_PROPERTY in info.properties}
        for run in _parents_first(runs):
            try:
                self._import_run(exp.id, run, known)
            except RunHistoryError as exc:
                self.errors.append(f"MLflow run {run.info.run_id} ({run.info.run_name!r}): {exc}")
        return exp.name

    def _import_run(self, experiment_id: str, run: Any, known: Mapping[str, RunInfo]) -> None:
        mlflow_id = run.info.run_id
        parent = run.data.tags.get(PARENT_TAG)
        if parent and parent not in self.ours:
            self.skipped["runs whose parent run is not in the import (imported as top-level runs)"] += 1
        info = known.get(mlflow_id)
        created = info is None
        changed = False
        if info is None:
            info = self._create(experiment_id, run, self.ours.get(parent or ""))
            self.created += 1
        else:
            changed = self._update_facts(info, run)
        self.ours[mlflow_id] = info.id
        added, last_ms = self._write_metrics(info, run)
        if not info.is_terminal:
            changed = self._set_status(info, run, last_ms) or changed
        if not created and (added or changed):
            self.updated += 1

    def _create(self, experiment_id: str, run: Any, parent_id: str | None) -> RunInfo:
        info = self.store.create_run(
            experiment_id,
            run_id=new_run_id(),
            display_name=_clean_name(run.info.run_name or run.info.run_id),
            parent_id=parent_id,
            description=run.data.tags.get(NOTE_TAG, "")[:MAX_TEXT_LENGTH],
            tags=self._tags(run),
            properties={RUN_ID_PROPERTY: run.info.run_id},
            start_time=(run.info.start_time or 0) / 1000.0 or time.time(),
        )
        params = _params(run.data.params)
        if params:
            self.store.add_params(info.id, params)
            info = self.store.get_run(info.id)
        return info

    def _tags(self, run: Any) -> dict[str, str]:
        return {_clean_name(k): v[:MAX_TEXT_LENGTH] for k, v in run.data.tags.items() if k != NOTE_TAG}

    def _update_facts(self, info: RunInfo, run: Any) -> bool:
        """Tags may change in MLflow; params only ever get added (MLflow refuses to change one)."""
        tags = self._tags(run)
        retag = any(info.tags.get(k) != v for k, v in tags.items())
        if retag:
            self.store.set_tags(info.id, tags)
        new = {k: v for k, v in _params(run.data.params).items() if k not in info.params}
        if new:
            self.store.add_params(info.id, new)
        return retag or bool(new)

    def _write_metrics(self, info: RunInfo, run: Any) -> tuple[int, int]:
        """Append the points this run lacks; returns (points added, last MLflow timestamp in ms)."""
        stored = {m.name: m.count for m in self.store.list_metrics(info.id)}
        batches, last_ms = [], run.info.start_time or 0
        for key in sorted(run.data.metrics):
            history = self.client.get_metric_history(run.info.run_id, key)
            name = _clean_name(key)
            if stored.get(name) == len(history):  # we only ever add MLflow's points: all are here
                last_ms = max([last_ms, *(m.timestamp for m in history)])
                continue
            have: Counter[tuple[int, int, bytes]] = Counter()
            if name in stored:
                old = self.store.read_scalars(info.id, name)
                for step, wall, value in zip(old.steps.tolist(), old.wall_times.tolist(), old.values.tolist()):
                    have[_point_key(step, round(wall * 1000), value)] += 1
            steps, walls, values = [], [], []
            for metric in history:
                last_ms = max(last_ms, metric.timestamp)
                point = _point_key(metric.step, metric.timestamp, metric.value)
                if have[point]:
                    have[point] -= 1
                elif not 0 <= metric.step <= MAX_STEP:
                    self.skipped["points with a step outside 0..2**62"] += 1
                else:
                    steps.append(metric.step)
                    walls.append(metric.timestamp / 1000.0)
                    values.append(float(metric.value))
            if steps:
                batches.append(ScalarBatch(info.id, name, np.asarray(steps, np.int64), np.asarray(walls, np.float64), np.asarray(values, np.float64)))
        added = sum(len(b.steps) for b in batches)
        if added and info.is_terminal:
            self.skipped["points for imported runs that have already ended"] += added
            return 0, last_ms
        if batches:
            self.store.write_metrics(scalars=batches)
            self.points += added
        return added, last_ms

    def _set_status(self, info: RunInfo, run: Any, last_ms: int) -> bool:
        """Finish a live run once MLflow has; returns True when it ended."""
        status = _STATUSES.get(run.info.status)
        if status is None:  # RUNNING or SCHEDULED: live, and NotResponding once silent for long
            self.store.heartbeat([info.id], max(last_ms / 1000.0, info.start_time))
            return False
        end = (run.info.end_time or last_ms) / 1000.0
        self.store.set_run_status(info.id, status, end_time=max(end, info.start_time))
        return True


def _experiments(client: Any, name: str | None, uri: str) -> list[Any]:
    if name is not None:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"experiment must be an MLflow experiment name, got {name!r}")
        found = client.get_experiment_by_name(name)
        if found is None or found.lifecycle_stage != "active":
            raise NotFoundError(f"no MLflow experiment {name!r} in {uri!r}")
        return [found]
    return list(_pages(client.search_experiments))


def import_mlflow(
    tracking_uri: str | os.PathLike[str],
    *,
    experiment: str | None = None,
    store: str | os.PathLike[str] | Store | None = None,
) -> MlflowImportReport:
    """Import an MLflow tracking store into a run store (see the module docstring).

    Args:
        tracking_uri: an MLflow file store (``./mlruns`` or a ``file:`` URI) or a database URI
            (``sqlite:///mlflow.db``, ``postgresql://...``), or a tracking server URL.
        experiment: import only this MLflow experiment (by name); default: every active one.
        store: the run store (default: $RUNHISTORY_STORE, else ./runhistory).

    Returns:
        An MlflowImportReport; ``errors`` names the runs that could not be imported.

    Raises:
        NotFoundError: there is no such store, or no such experiment in it.
        InvalidArgumentError: the URI is not an MLflow store.
        RunHistoryError: mlflow is not installed (the message names the extra to install).
    """
    uri = _check_uri(os.fspath(tracking_uri) if isinstance(tracking_uri, os.PathLike) else tracking_uri)
    client_class = _load_mlflow()
    from mlflow.entities import ViewType
    from mlflow.exceptions import MlflowException

    resolved = resolve_store(store)
    mapping: dict[str, str] = {}
    with _file_store_allowed():
        try:
            client = client_class(tracking_uri=uri)
            importer = _Importer(client, resolved)
            for exp in _experiments(client, experiment, uri):
                runs = list(_pages(client.search_runs, experiment_ids=[exp.experiment_id], run_view_type=ViewType.ACTIVE_ONLY))
                if runs or experiment is not None:
                    mapping[exp.name] = importer.import_experiment(exp, runs)
        except MlflowException as exc:
            raise InvalidArgumentError(f"cannot read the MLflow store {uri!r}: {exc.message}") from None
    return MlflowImportReport(
        tracking_uri=uri,
        experiments=mapping,
        runs_created=importer.created,
        runs_updated=importer.updated,
        points=importer.points,
        skipped=dict(importer.skipped),
        errors=tuple(importer.errors),
    )


__all__ = ["MlflowImportReport", "import_mlflow", "experiment_name"]
