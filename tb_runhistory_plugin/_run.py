"""Run: the handle a training script logs through."""

from __future__ import annotations

import dataclasses
import os
import time
import traceback as _traceback
import types
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _context, _lifecycle, _portal, _waiting, _writer
from ._chartlog import RunCharts
from ._files import RunFiles
from ._filter import RunFilter
from ._histograms import compute_histogram
from ._images import encode_png, figure_to_png, load_image, sniff_image
from ._livelogs import check_folder_free
from ._mappings import LiveMapping
from ._newrun import new_run, outputs_dir
from ._reading import RunReading
from ._types import TERMINAL_STATUSES, MetricKind, Record, RunInfo, Status
from ._validate import (
    MAX_TEXT_LENGTH,
    cell_value,
    check_mapping,
    check_name,
    check_param_value,
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
MAX_CHILDREN = 10_000  # children made by one create_children call


class Run(RunFiles, RunReading, RunCharts):
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
        self._outputs: str | None = None  # a local folder uploaded as the run's outputs/ when it ends

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
    def get_context(cls) -> Run:
        """The run this script logs into: the one `tb-runhistory run` started it for, else a new run of its own.

        Inside our tooling ($TB_RUNHISTORY_RUN_ID and $TB_RUNHISTORY_STORE name the run), the run is
        the tool's: this process logs into it, and the tool ends it from the exit code (an uncaught
        exception fails it here, with the traceback). Elsewhere a new run starts in the default
        store, in an experiment named after the script, and is ended at exit like any other.
        The same run is returned on every call in a process.

        Raises:
            NotFoundError: the run named by the environment is not in its store.
        """
        return _context.context_run(cls)

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
        run_id: str | None = None,
        run_type: str | None = None,
        outputs: str | os.PathLike[str] | None = None,
    ) -> Run:
        new = new_run(parent, display_name, tags, description, properties, run_id, run_type)
        outputs_folder = outputs_dir(outputs)
        if logs_dir is not None:
            logs_dir = os.path.abspath(os.fspath(logs_dir))
            check_folder_free(store, experiment_id, logs_dir, None)
            new = dataclasses.replace(new, logs_dir=logs_dir)
        info = store.create_run(
            experiment_id,
            run_id=new.run_id,
            display_name=new.display_name,
            parent_id=new.parent_id,
            description=new.description,
            tags=new.tags,
            properties=new.properties,
            start_time=new.start_time,
            logs_dir=new.logs_dir,
            run_type=new.run_type,
        )
        return cls._started(info, store, experiment, parent, outputs_folder)

    @classmethod
    def _started(cls, info: RunInfo, store: Store, experiment: Experiment | None, parent: Run | None, outputs: str | None = None) -> Run:
        run = cls(info, store, experiment=experiment, depth=parent._depth + 1 if parent else 0)
        run._owned = True
        run._outputs = outputs
        run._writer.track(run.id)
        _lifecycle.register(run)
        return run

    def child_run(
        self,
        name: str | None = None,
        run_id: str | None = None,
        outputs: str | os.PathLike[str] | None = None,
        *,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Run:
        """Create and start a child run; use it with `with` to complete or fail it automatically.

        Args:
            name: the display name (default: run_<first 8 characters of the id>).
            run_id: the child's id (letters, digits, '_', '.', '-'; at most 128); default a new uuid4 hex.
            outputs: a local folder uploaded as the child's `outputs/` files when it ends.

        Raises:
            InvalidArgumentError: a bad name, id, tag, property or outputs folder.
            ConflictError: this run has ended, or a run with that id exists (the message names it).
        """
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
            run_id=run_id,
            outputs=outputs,
        )

    def create_children(self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[Any] | None = None) -> list[Run]:
        """Create `count` Running children, or one per tag value with tag `tag_key` set to it, in one store call.

        Children are named child_0, child_1, ... in order. With both count and tag_values, count
        must equal their number.

        Raises:
            InvalidArgumentError: neither count nor tag_values, a count below 1 or over 10,000,
                tag_values without tag_key (or the reverse), a bad tag.
            ConflictError: this run has ended.
        """
        self._require_open("create children")
        if tag_values is not None:
            if isinstance(tag_values, (str, bytes)) or not isinstance(tag_values, (Sequence, np.ndarray)):
                raise InvalidArgumentError(f"create_children: tag_values must be a list, got {type(tag_values).__name__} {tag_values!r:.80}")
            if tag_key is None:
                raise InvalidArgumentError("create_children: tag_values needs a tag_key to set them under")
            tag_key = check_name(tag_key, "tag name")
            values = [check_tag_value(tag_key, v) for v in tag_values]
            if count is not None and count != len(values):
                raise InvalidArgumentError(f"create_children: count={count!r} but {len(values)} tag_values were given")
            count = len(values)
        elif tag_key is not None:
            raise InvalidArgumentError(f"create_children: tag_key {tag_key!r} needs tag_values")
        if count is None or count.__class__ is not int or not 1 <= count <= MAX_CHILDREN:
            raise InvalidArgumentError(f"create_children: count must be an integer from 1 to {MAX_CHILDREN}, got {count!r}")
        now = _now()
        news = []
        for i in range(count):
            tags = {tag_key: values[i]} if tag_key is not None else None
            news.append(dataclasses.replace(new_run(self, f"child_{i}", tags, None, None, None, None), start_time=now))
        infos = self._store.create_runs(self._info.experiment_id, news)
        return [Run._started(info, self._store, self._experiment, self) for info in infos]

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

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log hyperparameters (bool, int, float or str); add-only: the same value again is fine, another is a ConflictError."""
        checked = {check_name(k, "param name"): check_param_value(k, v) for k, v in check_mapping(params, "params").items()}
        if checked:
            self._store.add_params(self.id, checked)

    def log_param(self, name: str, value: Any) -> None:
        """Log one hyperparameter (see log_params)."""
        self.log_params({name: value})

    def get_params(self) -> dict[str, bool | int | float | str]:
        """The run's params."""
        return dict(self._store.get_run(self.id).params)

    @property
    def params(self) -> Mapping[str, bool | int | float | str]:
        """The run's params, read-only (log_params adds more)."""
        return types.MappingProxyType(self.get_params())

    # -- lifecycle -----------------------------------------------------------
    def complete(self) -> None:
        """Flush and mark the run Completed."""
        self._end(Status.COMPLETED)

    def fail(
        self,
        error_details: str | BaseException | None = None,
        error_code: str | None = None,
        *,
        error: str | BaseException | None = None,
    ) -> None:
        """Flush and mark the run Failed, keeping the error message, its traceback and an error code.

        `error_details` (or `error=`) is a message or an exception (whose traceback is kept);
        `error_code` a short machine-readable code such as "OutOfMemory".

        Raises:
            InvalidArgumentError: details that are neither text nor an exception, a bad error code.
            ConflictError: the run has already ended.
        """
        if error_code is not None:
            error_code = check_name(error_code, "error code")
        message, trace = None, None
        for given in (error_details, error):
            if isinstance(given, BaseException):
                message = message or f"{type(given).__name__}: {given}"
                trace = trace or "".join(_traceback.format_exception(type(given), given, given.__traceback__))
            elif given is not None:
                if not isinstance(given, str):
                    raise InvalidArgumentError(f"fail() takes an exception or a string as error_details, got {type(given).__name__} {given!r:.80}")
                message = given if message is None or given is error_details else message
        self._end(Status.FAILED, error=message or "failed", traceback=trace, error_code=error_code)

    def cancel(self) -> None:
        """Flush and mark the run Canceled."""
        self._end(Status.CANCELED)

    def _end(self, status: str, *, error: str | None = None, traceback: str | None = None, error_code: str | None = None, flush: bool = True) -> None:
        self._require_open(f"mark it {status}")
        pending = None
        if self._outputs is not None and os.path.isdir(self._outputs):
            try:
                self.upload_folder("outputs", self._outputs)
            except Exception as exc:  # noqa: BLE001 - end the run anyway, then report
                pending = exc
        if flush:
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - end the run anyway, then report
                pending = pending or exc
        # Any text ends the run: made storable here, once, for every store.
        error = None if error is None else storable_text(str(error), MAX_TEXT_LENGTH)
        traceback = None if traceback is None else storable_text(str(traceback), MAX_TRACEBACK_LENGTH)
        self._info = self._store.set_run_status(self.id, status, end_time=_now(), error=error, traceback=traceback, error_code=error_code)
        self._forget()
        if pending is not None:
            raise pending

    def _forget(self) -> None:
        """This process stops treating the run as open: no more heartbeats, not ended at exit."""
        self._open = False
        self._scalars = {}
        self._writer.untrack(self.id)
        _lifecycle.unregister(self.id)

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the run is Completed, Failed or Canceled (another process may end it); returns get_details().

        show_output prints each status change and each metric's newest value as they arrive.
        wait_post_processing is accepted for the original API: nothing runs after a run here.

        Raises:
            RunTimeoutError: still not ended after `timeout` seconds (the message names the run).
            RunFailedError: the run failed, and raise_on_error is True (the message has its error).
            InvalidArgumentError: a negative or non-numeric timeout.
        """
        return _waiting.wait_for_completion(self, show_output, wait_post_processing, raise_on_error, timeout=timeout)

    def get_portal_url(self) -> str:
        """The URL that opens this run, selected, in TensorBoard's Run History tab.

        It points at the TensorBoard that `Tensorboard(...)` started for this run's store in this
        process, else at $TB_RUNHISTORY_URL, else at http://localhost:6006/.
        """
        ancestors = []
        parent_id = self._info.parent_id
        while parent_id is not None:
            ancestors.append(parent_id)
            parent_id = self._store.get_run(parent_id).parent_id
        base = _portal.base_url(self._store.uri)
        return _portal.run_url(base, self._info.experiment_id, self.id, ancestors[::-1])

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
    def name(self) -> str:
        """The run's name (its display name)."""
        return self.display_name

    @property
    def tags(self) -> Mapping[str, str]:
        """The run's current tags, a read-only view (later changes show in it)."""
        return LiveMapping(lambda: self._store.get_run(self.id).tags, "tags")

    @property
    def properties(self) -> Mapping[str, Any]:
        """The run's current properties, a read-only view (later additions show in it)."""
        return LiveMapping(lambda: self._store.get_run(self.id).properties, "properties")

    @property
    def type(self) -> str:
        """How the run came to be: interactive, child, script, or the type given at start_logging."""
        return self._info.run_type

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
        """A fresh RunInfo from the store (a run that another process ended is no longer open here)."""
        self._info = self._store.get_run(self.id)
        if self._open and self._info.is_terminal:
            self._forget()
        return self._info

    def get_status(self) -> str:
        """The current status (the original API's name)."""
        return self.status

    def get_children(self, recursive: bool = False) -> list[Run]:
        """Child runs, oldest first; recursive=True gives every descendant, parents first."""
        if recursive:
            infos = self._store.list_descendants(self.id)
        else:
            infos = self._store.list_runs(self._info.experiment_id, RunFilter(parent_id=self.id))
        return [Run(info, self._store, experiment=self._experiment, depth=self._depth + 1) for info in infos]

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
