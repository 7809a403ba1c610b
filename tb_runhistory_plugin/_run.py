"""Run: the handle a training script logs through."""

from __future__ import annotations

import dataclasses
import io
import os
import time
import traceback as _traceback
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from . import _lifecycle, _writer
from ._charts import chart_document
from ._histograms import compute_histogram
from ._images import encode_png, figure_to_png, load_image, sniff_image
from ._livelogs import check_folder_free
from ._types import TERMINAL_STATUSES, MetricHistory, MetricKind, Record, RunInfo, Status, merge_table, new_run_id
from ._validate import (
    MAX_TEXT_LENGTH,
    cell_value,
    check_file_name,
    check_mapping,
    check_name,
    check_property_value,
    check_step,
    check_tag_value,
    check_text,
    scalar_value,
    storable_text,
)
from ._writer import EXACT_STEP, WAKE_AT, SeriesBuffer, writer_for
from .errors import ConflictError, InvalidArgumentError
from .store import Store, resolve_store

if TYPE_CHECKING:
    from ._experiment import Experiment

_now = time.time
MAX_TRACEBACK_LENGTH = 1_000_000  # characters of a failed run's traceback kept (head and tail)
_WAKE_WORDS = 3 * WAKE_AT  # buffered floats (three per point) at which log() looks at back-pressure


class Run:
    """A run of an experiment: log metrics, tags, properties and files; nest child runs."""

    # Set by _experiment, which builds on this module: a run asked for its experiment makes one of these.
    _experiment_class: type[Experiment]

    def __init__(self, info: RunInfo, store: Store, *, experiment: Experiment | None = None, depth: int = 0) -> None:
        self.id = info.id
        self.display_name = info.display_name
        self._info = info
        self._store = store
        self._experiment = experiment
        self._writer = writer_for(store)
        self._depth = depth
        self._open = info.status not in TERMINAL_STATUSES
        self._owned = False  # created by this process: heartbeats, ended at exit
        self._scalars: dict[str, SeriesBuffer] = {}
        self._kinds: dict[str, str] = {}

    # -- construction --------------------------------------------------------
    @classmethod
    def get(cls, run_id: str, store: str | Store | None = None) -> Run:
        """An existing run by id.

        Raises:
            NotFoundError: no run with that id in the store.
        """
        check_name(run_id, "run id")
        return cls(resolve_store(store).get_run(run_id), resolve_store(store))

    @classmethod
    def _start(
        cls,
        store: Store,
        experiment_id: str,
        *,
        parent: Run | None,
        display_name: str | None,
        tags: Mapping[str, Any] | None,
        description: str | None,
        properties: Mapping[str, Any] | None,
        logs_dir: str | os.PathLike[str] | None,
        experiment: Experiment | None = None,
    ) -> Run:
        run_id = new_run_id()
        name = check_name(display_name, "display name") if display_name is not None else f"run_{run_id[:8]}"
        tags = {check_name(k, "tag name"): check_tag_value(k, v) for k, v in check_mapping(tags, "tags").items()}
        props = {check_name(k, "property name"): check_property_value(k, v) for k, v in check_mapping(properties, "properties").items()}
        if logs_dir is not None:
            logs_dir = os.path.abspath(os.fspath(logs_dir))
            check_folder_free(store, experiment_id, logs_dir, None)
        info = store.create_run(
            experiment_id,
            run_id=run_id,
            display_name=name,
            parent_id=parent.id if parent else None,
            description=check_text(description, "description"),
            tags=tags,
            properties=props,
            start_time=_now(),
            logs_dir=logs_dir,
        )
        run = cls(info, store, experiment=experiment, depth=parent._depth + 1 if parent else 0)
        run._owned = True
        run._writer.track(run.id)
        _lifecycle.register(run)
        return run

    def child_run(
        self,
        name: str | None = None,
        *,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Run:
        """Create and start a child run; use it with `with` to complete or fail it automatically."""
        self._require_open("start a child run")
        return Run._start(
            self._store,
            self._info.experiment_id,
            parent=self,
            display_name=name,
            tags=tags,
            description=description,
            properties=properties,
            logs_dir=None,
            experiment=self._experiment,
        )

    # -- logging -------------------------------------------------------------
    def log(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Append one number to a metric; step defaults to the metric's last step plus one.

        Raises:
            InvalidArgumentError: a bad name, a non-number (lists go to log_list) or a bad step.
            ConflictError: the run has ended.
        """
        buf = self._scalars.get(name)
        if buf is None:
            buf = self._new_series(name, description)
        if value.__class__ is not buf.cls:
            value = scalar_value(name, value)
            buf.promote(value)
        if step is None:
            step = -1
        elif step.__class__ is not int or step < 0 or step > EXACT_STEP:
            step = buf.code_step(check_step(step, name))
        if len(buf.data) >= _WAKE_WORDS:
            self._backpressure(buf)
        try:
            # One C call appends the whole triple, so threads logging at once never mis-pair them.
            buf.add((value, step, _now()))
        except OverflowError:  # an int beyond float64; checked here so the fast path stays free
            raise InvalidArgumentError(f"value for {name!r} is too large to store as a number: {value!r:.80}") from None

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Append a list of numbers to a metric as consecutive steps."""
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) and not hasattr(value, "__iter__"):
            raise InvalidArgumentError(f"log_list({name!r}, ...) takes a list of numbers, got {type(value).__name__}")
        values = [scalar_value(name, v) for v in value]
        buf = self._scalars.get(name) or self._new_series(name, description)
        now = _now()
        triples: list[float] = []
        for v in values:
            if v.__class__ is not buf.cls:
                buf.promote(v)
            triples += (v, -1, now)
        if len(buf.data) >= _WAKE_WORDS:
            self._backpressure(buf)
        buf.add(triples)  # one call: the list stays one block of consecutive steps among other threads' points

    def log_row(self, name: str, description: str = "", **kwargs: Any) -> None:
        """Append one row to a table metric: log_row("by_alpha", alpha=0.1, mse=3.2)."""
        if not kwargs:
            raise InvalidArgumentError(f"log_row({name!r}) needs at least one column, as keyword arguments")
        row = {check_name(col, "column name"): cell_value(name, col, v) for col, v in kwargs.items()}
        self._record(name, MetricKind.TABLE, description, -1, {"row": row})

    def log_table(self, name: str, value: Mapping[str, Sequence[Any]], description: str = "") -> None:
        """Append a table given as {column: [cells]} with columns of equal length."""
        columns = check_mapping(value, f"table {name!r}")
        if not columns:
            raise InvalidArgumentError(f"log_table({name!r}, ...) needs at least one column")
        lengths = {}
        cells: dict[str, list[Any]] = {}
        for col, data in columns.items():
            check_name(col, "column name")
            if isinstance(data, (str, bytes)) or not hasattr(data, "__len__"):
                raise InvalidArgumentError(f"column {col!r} of table {name!r} must be a list, got {type(data).__name__}")
            cells[col] = [cell_value(name, col, v) for v in data]
            lengths[col] = len(cells[col])
        if len(set(lengths.values())) > 1:
            raise InvalidArgumentError(f"columns of table {name!r} have unequal lengths: {lengths}")
        self._record(name, MetricKind.TABLE, description, -1, {"columns": cells})

    def log_image(
        self,
        name: str,
        path: str | os.PathLike[str] | None = None,
        plot: Any = None,
        *,
        array: Any = None,
        step: int | None = None,
        description: str = "",
    ) -> None:
        """Log an image from exactly one of a file path, a matplotlib figure or a numpy array."""
        given = [arg for arg, value in (("path", path), ("plot", plot), ("array", array)) if value is not None]
        if len(given) != 1:
            raise InvalidArgumentError(f"log_image({name!r}) takes exactly one of path, plot or array; got {given or 'none'}")
        if path is not None:
            data, info = load_image(os.fspath(path))
        else:
            data = figure_to_png(plot) if plot is not None else encode_png(array)
            info = sniff_image(data)
        meta = {"content_type": info.content_type, "width": info.width, "height": info.height}
        self._record(name, MetricKind.IMAGE, description, self._record_step(name, step), meta, data)

    def log_histogram(self, name: str, values: Any, *, step: int | None = None, bins: int = 30, description: str = "") -> None:
        """Log the distribution of an array of values (bucketed now, like TensorBoard's histograms)."""
        histogram = compute_histogram(values, bins=bins)
        self._record(name, MetricKind.HISTOGRAM, description, self._record_step(name, step), histogram.to_dict())

    # The original SDK's standard charts: its JSON documents (a dict or JSON text), checked, one kind each.
    def log_confusion_matrix(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log a confusion matrix: {"schema_type": "confusion_matrix", "schema_version", "data": {class_labels, matrix}}."""
        self._log_chart(MetricKind.CONFUSION_MATRIX, name, value, description, step)

    def log_accuracy_table(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log an accuracy table (TP, FP, TN, FN per class and threshold), drawn as ROC and precision-recall curves."""
        self._log_chart(MetricKind.ACCURACY_TABLE, name, value, description, step)

    def log_residuals(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log a histogram of regression residuals: {"schema_type": "residuals", ..., "data": {bin_edges, bin_counts}}."""
        self._log_chart(MetricKind.RESIDUALS, name, value, description, step)

    def log_predictions(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log binned predicted-versus-true values: data {bin_averages, bin_errors, bin_counts, bin_edges}."""
        self._log_chart(MetricKind.PREDICTIONS, name, value, description, step)

    def _log_chart(self, kind: str, name: str, value: Any, description: str, step: int | None) -> None:
        self._require_open(f"log {name!r}")
        check_name(name, "metric name")
        self._record(name, kind, description, self._record_step(name, step), chart_document(kind, name, value))

    def flush(self, *, timeout: float | None = None) -> None:
        """Wait until every value logged so far is in the store.

        Raises:
            StoreError: the store kept failing past `timeout` (values stay buffered).
            RunHistoryError: the store refused some values of this run.
        """
        self._writer.flush(self.id, timeout=timeout)

    # -- tags and properties -------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag (mutable); value None gives an empty tag."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags at once."""
        tags = {check_name(k, "tag name"): check_tag_value(k, v) for k, v in check_mapping(tags, "tags").items()}
        self._store.set_tags(self.id, tags)

    def get_tags(self) -> dict[str, str]:
        """The run's tags."""
        return dict(self._store.get_run(self.id).tags)

    def remove_tags(self, keys: str | Sequence[str]) -> None:
        """Remove tags by key; unknown keys are ignored."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        self._store.remove_tags(self.id, [check_name(k, "tag name") for k in keys])

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties; they are add-only, so changing one raises ConflictError."""
        props = {check_name(k, "property name"): check_property_value(k, v) for k, v in check_mapping(properties, "properties").items()}
        self._store.add_properties(self.id, props)

    def get_properties(self) -> dict[str, Any]:
        """The run's properties."""
        return dict(self._store.get_run(self.id).properties)

    # -- lifecycle -----------------------------------------------------------
    def complete(self) -> None:
        """Flush and mark the run Completed."""
        self._end(Status.COMPLETED)

    def fail(self, error: str | BaseException | None = None, *, error_details: str | None = None) -> None:
        """Flush and mark the run Failed, keeping the error message and traceback."""
        message, trace = error_details, None
        if isinstance(error, BaseException):
            message = message or f"{type(error).__name__}: {error}"
            trace = "".join(_traceback.format_exception(type(error), error, error.__traceback__))
        elif error is not None:
            if not isinstance(error, str):
                raise InvalidArgumentError(f"fail(error=...) takes an exception or a string, got {type(error).__name__} {error!r:.80}")
            message = error
        self._end(Status.FAILED, error=message or "failed", traceback=trace)

    def cancel(self) -> None:
        """Flush and mark the run Canceled."""
        self._end(Status.CANCELED)

    def _end(self, status: str, *, error: str | None = None, traceback: str | None = None, flush: bool = True) -> None:
        self._require_open(f"mark it {status}")
        pending = None
        if flush:
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - end the run anyway, then report
                pending = exc
        # Any text ends the run: made storable here, once, for every store.
        error = None if error is None else storable_text(str(error), MAX_TEXT_LENGTH)
        traceback = None if traceback is None else storable_text(str(traceback), MAX_TRACEBACK_LENGTH)
        self._info = self._store.set_run_status(self.id, status, end_time=_now(), error=error, traceback=traceback)
        self._open = False
        self._scalars = {}
        self._writer.untrack(self.id)
        _lifecycle.unregister(self.id)
        if pending is not None:
            raise pending

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._open:
            return
        if exc is None:
            self.complete()
        elif isinstance(exc, (KeyboardInterrupt, SystemExit)) and not (isinstance(exc, SystemExit) and exc.code in (0, None)):
            self._end(Status.CANCELED, error=f"{type(exc).__name__}: {exc}")
        elif isinstance(exc, SystemExit):
            self.complete()
        else:
            self.fail(exc)

    # -- reading -------------------------------------------------------------
    def source_runs(self) -> list[tuple[Store, RunInfo]]:
        """[(store, this run)]: what exporting or serving this run covers."""
        return [(self._store, self._store.get_run(self.id))]

    @property
    def experiment(self) -> Experiment:
        """The experiment this run belongs to."""
        if self._experiment is None:
            self._experiment = self._experiment_class._from_info(self._store.get_experiment(self._info.experiment_id), self._store)
        return self._experiment

    @property
    def parent(self) -> Run | None:
        """The parent run, or None for a top-level run."""
        if self._info.parent_id is None:
            return None
        return Run(self._store.get_run(self._info.parent_id), self._store, experiment=self._experiment, depth=max(0, self._depth - 1))

    @property
    def status(self) -> str:
        """The current status as stored (NotResponding when heartbeats stopped)."""
        return self.info().status

    def info(self) -> RunInfo:
        """A fresh RunInfo from the store."""
        self._info = self._store.get_run(self.id)
        return self._info

    def get_status(self) -> str:
        """The current status (the original API's name)."""
        return self.status

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
            "logsDir": info.logs_dir,
        }

    def get_children(self, recursive: bool = False) -> list[Run]:
        """Child runs, oldest first; recursive=True gives every descendant, parents first."""
        if recursive:
            infos = self._store.list_descendants(self.id)
        else:
            infos = self._store.list_runs(self._info.experiment_id, parent_id=self.id)
        return [Run(info, self._store, experiment=self._experiment, depth=self._depth + 1) for info in infos]

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

    def attach_logs(self, path: str | os.PathLike[str]) -> None:
        """Tie a folder where this run's own code writes TensorBoard event files to the run.

        Raises:
            InvalidArgumentError: the path is a file.
            ConflictError: another Running run of the experiment follows that folder.
        """
        folder = os.path.abspath(os.fspath(path))
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise InvalidArgumentError(f"attach_logs: {folder!r} is not a directory")
        check_folder_free(self._store, self._info.experiment_id, folder, self.id)
        self._store.set_logs_dir(self.id, folder)
        self._info = dataclasses.replace(self._info, logs_dir=folder)

    # -- files ---------------------------------------------------------------
    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> None:
        """Store a local file, or what is left in a binary file object, with the run under `name` ('/' makes folders).

        Raises:
            InvalidArgumentError: a bad name, a path that is no file, a text stream or another object.
        """
        check_file_name(name)
        if isinstance(path_or_stream, (str, os.PathLike)):
            path = os.fspath(path_or_stream)
            if not os.path.isfile(path):
                raise InvalidArgumentError(f"upload_file({name!r}): {path!r} is not a file")
            self._store.put_file_from_path(self.id, name, path)
            return
        if isinstance(path_or_stream, io.TextIOBase):
            raise InvalidArgumentError(f"upload_file({name!r}): {path_or_stream!r} is a text stream; open the file with 'rb'")
        read = getattr(path_or_stream, "read", None)
        if not callable(read):
            raise InvalidArgumentError(f"upload_file({name!r}): expected a path or a binary file object, got {type(path_or_stream).__name__}")
        data = read()  # from the stream's current position; the caller keeps (and closes) its object
        if isinstance(data, str):
            raise InvalidArgumentError(f"upload_file({name!r}): {path_or_stream!r} is a text stream; open the file with 'rb'")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(f"upload_file({name!r}): read() of {type(path_or_stream).__name__} gave {type(data).__name__}, not bytes")
        self._store.put_file(self.id, name, bytes(data))

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        """Store every file below a local folder under `name/<relative path>`; returns the names."""
        check_file_name(name)
        root = os.fspath(path)
        if not os.path.isdir(root):
            raise InvalidArgumentError(f"upload_folder({name!r}): {root!r} is not a directory")
        names = []
        for folder, _, files in sorted(os.walk(root)):
            for file in sorted(files):
                full = os.path.join(folder, file)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                names.append(f"{name}/{rel}")
                self.upload_file(names[-1], full)
        return names

    def get_file_names(self) -> list[str]:
        """Names of the run's files."""
        return [f.name for f in self._store.list_files(self.id)]

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> str:
        """Write a run file locally (into a folder, or to a path); returns the path written."""
        check_file_name(name)
        data = self._store.read_file(self.id, name)
        target = os.fspath(output_file_path) if output_file_path is not None else os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        with open(target, "wb") as handle:
            handle.write(data)
        return target

    # -- internals -----------------------------------------------------------
    def _require_open(self, action: str) -> None:
        if not self._open:
            raise ConflictError(f"run {self.id!r} ({self.display_name!r}) has ended; cannot {action}")

    def _check_kind(self, name: str, kind: str) -> None:
        known = self._kinds.setdefault(name, kind)
        if known != kind:
            raise InvalidArgumentError(f"metric {name!r} of run {self.id!r} already holds {known} data; log {kind} data under another name")

    def _new_series(self, name: str, description: str) -> SeriesBuffer:
        self._require_open(f"log {name!r}")
        self._writer.raise_errors(self.id)
        check_name(name, "metric name")
        self._check_kind(name, MetricKind.SCALAR)
        return self._writer.series(self.id, name, check_text(description, "description"), self._scalars)

    def _backpressure(self, buf: SeriesBuffer) -> None:
        # Wait when the buffer is full, or when the writer falls behind: then a hard kill still loses < 1 s.
        if len(buf.data) >= 3 * _writer.MAX_BUFFERED or self._writer.lagging():
            self._writer.wait_for_room(buf)
        elif not buf.woke:
            buf.woke = True
            self._writer.wake()

    def _record_step(self, name: str, step: Any) -> int:
        return -1 if step is None else check_step(step, name)

    def _record(self, name: str, kind: str, description: str, step: int, meta: dict[str, Any], data: bytes | None = None) -> None:
        self._require_open(f"log {name!r}")
        check_name(name, "metric name")
        self._check_kind(name, kind)
        self._writer.add_record(self.id, name, kind, check_text(description, "description"), Record(step, _now(), meta, data))

    def __repr__(self) -> str:
        state = "open" if self._open else "ended"
        return f"Run(id={self.id!r}, display_name={self.display_name!r}, {state})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id and other._store is self._store

    def __hash__(self) -> int:
        return hash(self.id)


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z"
