"""Export run history to TensorBoard event files, incrementally; no TensorFlow needed.

What goes where, per run directory (``_layout`` names the directories):

- scalars: one series per metric, tagged by the metric name, with the stored steps and wall times;
  ``log_list`` values have steps 0..n-1 already. Values are float32 ``simple_value`` in the event
  files (the widest scalar TensorBoard's default data server reads, and the form tbparse reads as
  scalars: see ``_eventfile``); the exact float64 values are in the sidecar (``_sidecar``), which
  ``import_tensorboard`` reads, so a round trip is bit for bit.
- tables (``log_row``/``log_table``): every numeric (or bool) cell becomes a point of the scalar
  series ``table/column`` whose step is the row's index in that table, so each column counts its
  own rows; text cells become text series ``table/column`` (a column holding both numbers and
  text gives ``table/column_2`` to the kind seen second); the table itself (its last 1,000 rows)
  is a Markdown text summary tagged by the table name, one step per export that added rows.
- images and histograms: image summaries and ``HistogramProto`` summaries (min, max, num, sum and
  sum of squares included; see ``_histo``) at their stored steps.
- the standard charts (``_charts``): an accuracy table as PR curves (one ``metric/class`` tag per
  class, TensorBoard's PR Curves tab); a confusion matrix, residuals and predictions as Markdown
  tables in the Text tab, tagged by the metric name; each at its stored step.
- the run's status, times, description, tags and properties: a Markdown text summary tagged
  ``run_history/info``, with a new step whenever one of them changed.
- HParams: one session per child of an exported parent, and the experiment config in the parent
  (see ``_hparams``: the children's properties are the hyperparameters, every scalar series a metric).
- the run's own event-file folder (``logs_dir``), when it has one: mirrored into ``<run dir>/logs``
  (see ``_livelogs``), shown by TensorBoard as the run ``<run>/logs``.

Incremental and idempotent: each run directory remembers, per series, how many stored points it
has handled and the last step it wrote; an export reads only what came after and appends to the
same event file, so exporting again writes nothing when nothing changed and never duplicates a
point. The state is committed after the data, so an export that dies half-way is finished
cleanly by the next one (bytes past the last commit are cut off first). One exporter at a time
writes a logdir (a lock file).

Steps that go back: TensorBoard drops data when a tag's step is not greater than the one before,
so a point whose step is not greater than the last step written for its tag is never written to
the event file. It is not lost either: it stays in the store and in the sidecar (and comes back
on import), it is counted in ``ExportReport.skipped``, and the first time a tag has such points
an ``ExportWarning`` names the tag and how many.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import event_pb2

from .._filter import RunFilter
from .._histograms import Histogram
from .._livelogs import LocalDirSink, mirror_logs, share_of
from .._types import CHART_KINDS, MetricInfo, MetricKind, RunInfo, RunSource, merge_table
from ..errors import InvalidArgumentError
from ..store import Store, resolve_store
from . import _charts, _hparams, _markdown, _sidecar
from ._eventfile import EventFileWriter
from ._layout import (
    LOGS_DIR_NAME,
    SIDECAR_DIR,
    Layout,
    ensure_logdir,
    locked,
    parents_first,
    read_json,
    write_json_atomic,
)
from ._progress import Progress

INFO_TAG = "run_history/info"
_READ_POINTS = 1 << 20  # scalar points read from the store per call: bounded memory, full speed
_INT64_MIN = np.iinfo(np.int64).min


class ExportWarning(UserWarning):
    """Something was exported differently than logged (for example a step that went back)."""


@dataclasses.dataclass(frozen=True)
class ExportReport:
    """What an export did."""

    logdir: str
    run_dirs: Mapping[str, str]  # run id -> absolute directory
    scalars: int = 0  # scalar points written to event files
    records: int = 0  # images, histograms, table cells as text, and run texts written
    skipped: int = 0  # points kept out of event files because their step went back (exact in the sidecar)
    log_bytes: int = 0  # bytes mirrored from the runs' own event-file folders
    live_runs: int = 0  # exported runs that have not ended (more may come)
    seconds: float = 0.0

    @property
    def points_per_second(self) -> float:
        """Scalar points handled per second of export."""
        return self.scalars / self.seconds if self.seconds > 0 else 0.0


class _EventFile(EventFileWriter):
    """An EventFileWriter that describes scalar tags (continuing a file is ``EventFileWriter.reopen``)."""

    descriptions: dict[str, str]

    def _opened(self) -> None:
        self.descriptions = {}

    def _first_scalar_event(self, tag: str, step: np.int64, wall_time: np.float64, value: np.float32) -> bytes:
        data = super()._first_scalar_event(tag, step, wall_time, value)
        description = self.descriptions.get(tag)
        if not description:
            return data
        event = event_pb2.Event.FromString(data)
        event.summary.value[0].metadata.summary_description = description
        return event.SerializeToString()


def _monotone(steps: np.ndarray, last: int | None) -> np.ndarray:
    """Mask of the points whose step is greater than every step written before them."""
    floor = _INT64_MIN if last is None else last
    before = np.empty_like(steps)
    before[0] = floor
    if len(steps) > 1:
        np.maximum.accumulate(steps[:-1], out=before[1:])
        np.maximum(before, floor, out=before)
    keep = steps > before
    if last is None:
        keep[0] = True
    return keep


class _RunExporter:
    """Exports one run into its directory and commits its state."""

    def __init__(self, store: Store, info: RunInfo, layout: Layout, rel: str) -> None:
        self.store, self.info, self.rel = store, info, rel
        self.dir = layout.abspath(rel)
        self.side = os.path.join(self.dir, SIDECAR_DIR)
        self.state = self._load()
        self.metrics: list[MetricInfo] = store.list_metrics(info.id)
        self._writer: _EventFile | None = None
        self._changed = False
        self.scalars = self.records = self.skipped = 0

    # -- state -------------------------------------------------------------------------------
    def _fresh(self) -> dict[str, Any]:
        return {
            "format": _sidecar.MANIFEST_FORMAT,
            "run_id": self.info.id,
            "store": self.store.uri,
            "events": None,
            "tags": {},
            "series": {},
            "next_file": 0,
            "info": None,
            "info_digest": None,
            "info_step": 0,
            "session": None,
            "config": False,
        }

    def _load(self) -> dict[str, Any]:
        state = read_json(os.path.join(self.side, _sidecar.MANIFEST))
        if state is None:
            return self._fresh()
        if self._valid(state):
            return state
        # Our files were damaged or removed: start this run again from nothing, cleanly.
        events = (state.get("events") or {}).get("file") if isinstance(state, dict) else None
        if events:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.dir, events))
        shutil.rmtree(self.side, ignore_errors=True)
        return self._fresh()

    def _valid(self, state: Any) -> bool:
        if not isinstance(state, dict) or state.get("format") != _sidecar.MANIFEST_FORMAT or state.get("run_id") != self.info.id:
            return False
        try:
            events = state.get("events")
            if events and os.path.getsize(os.path.join(self.dir, events["file"])) < events["size"]:
                return False
            for series in state["series"].values():
                if os.path.getsize(os.path.join(self.side, series["file"])) < series["bytes"]:
                    return False
        except (OSError, KeyError, TypeError):
            return False
        return True

    def _new_file(self, folder: str, suffix: str) -> str:
        n = self.state["next_file"]
        self.state["next_file"] = n + 1
        return f"{folder}/{n}{suffix}"

    def _tag(self, key: str, preferred: str) -> str:
        tags: dict[str, str] = self.state["tags"]
        if key not in tags:
            used = set(tags.values()) | {INFO_TAG}
            if preferred.startswith("_hparams_/"):  # TensorBoard's own HParams tags
                preferred = "_" + preferred
            candidate, n = preferred, 1
            while candidate in used:
                n += 1
                candidate = f"{preferred}_{n}"
            tags[key] = candidate
        return tags[key]

    @property
    def writer(self) -> _EventFile:
        if self._writer is None:
            events = self.state["events"]
            if events:
                self._writer = _EventFile.reopen(os.path.join(self.dir, events["file"]), size=events["size"])
            else:
                self._writer = _EventFile(self.dir)
                self.state["events"] = {"file": self._writer.path.name, "size": 0}
            self._changed = True
        return self._writer

    def commit(self) -> None:
        """Flush the event file, then write the state (the commit point)."""
        if self._writer is not None:
            self.state["events"]["size"] = self._writer.size()
            self._writer.close()
            self._writer = None
        if self._changed:
            os.makedirs(self.side, exist_ok=True)
            write_json_atomic(os.path.join(self.side, _sidecar.MANIFEST), self.state)
            self._changed = False

    def close(self) -> None:
        """Close without committing (after an error)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None

    # -- planning ----------------------------------------------------------------------------
    def pending(self) -> int:
        """Stored points not exported yet (for the progress bar)."""
        series = self.state["series"]
        return sum(max(0, m.count - series.get(m.name, {}).get("count", 0)) for m in self.metrics)

    # -- export ------------------------------------------------------------------------------
    def export(self, progress: Progress, *, logdir: str, layout: Layout, logs: bool) -> int:
        """Write everything new; returns bytes mirrored from the run's own logs folder."""
        mirrored = self._mirror_logs(logdir, layout) if logs else 0
        self._export_info()
        for metric in self.metrics:
            done = self.state["series"].get(metric.name, {}).get("count", 0)
            if metric.count <= done:
                continue
            if metric.kind == MetricKind.SCALAR:
                self._export_scalars(metric, progress)
            elif metric.kind == MetricKind.TABLE:
                self._export_table(metric, progress)
            elif metric.kind in (MetricKind.IMAGE, MetricKind.HISTOGRAM, *CHART_KINDS):
                self._export_records(metric, progress)
        return mirrored

    def _mirror_logs(self, logdir: str, layout: Layout) -> int:
        source = self.info.logs_dir
        if not source or not os.path.isdir(source):
            return 0
        real, root = os.path.realpath(source), os.path.realpath(logdir)
        if os.path.commonpath([real, root]) in (real, root):
            return 0  # the folder is inside the logdir (TensorBoard sees it already) or contains it
        rel = layout.assign_extra(f"{self.info.id}:logs", LOGS_DIR_NAME, self.rel)
        since, until = share_of(self.store, self.info)  # a folder reused by later runs: only this run's files
        return mirror_logs(real, LocalDirSink(layout.abspath(rel)), since=since, until=until).bytes

    def _export_info(self) -> None:
        snapshot = _markdown.run_snapshot(self.info)
        digest = hashlib.sha256(json.dumps(snapshot, sort_keys=True, default=str).encode()).hexdigest()
        if digest == self.state["info_digest"]:
            return
        self.writer.write_text(INFO_TAG, self.state["info_step"], time.time(), _markdown.run_markdown(snapshot))
        self.state.update(info=snapshot, info_digest=digest, info_step=self.state["info_step"] + 1)
        self.records += 1

    def _series(self, metric: MetricInfo, folder: str, suffix: str, **extra: Any) -> dict[str, Any]:
        series = self.state["series"]
        if metric.name not in series:
            series[metric.name] = {"kind": str(metric.kind), "file": self._new_file(folder, suffix), "count": 0, "bytes": 0, **extra}
        entry = series[metric.name]
        entry.update(value_type=metric.value_type, description=metric.description)
        self._changed = True
        return entry

    def _skipped(self, entry: dict[str, Any], tag: str, count: int) -> None:
        if not count:
            return
        self.skipped += count
        entry["skipped"] = entry.get("skipped", 0) + count
        if not entry.get("warned"):
            entry["warned"] = True
            warnings.warn(
                f"run {self.info.display_name!r} ({self.info.id}): {count} points of {tag!r} were not written to "
                "the event file because their step did not go past the last step written (TensorBoard would drop "
                "data); they are kept exactly in the store and in .runhistory/ (further ones are only counted)",
                ExportWarning,
                stacklevel=5,
            )

    def _write_scalars(self, tag: str, steps: np.ndarray, walls: np.ndarray, values: np.ndarray, last: int | None) -> tuple[int | None, int]:
        """Write the points that go forward; returns the new last step and how many were kept out."""
        if not len(steps):
            return last, 0
        keep = _monotone(steps, last)
        kept = int(keep.sum())
        if kept == len(steps):
            self.writer.write_scalars(tag, steps, walls, values)
        elif kept:
            self.writer.write_scalars(tag, steps[keep], walls[keep], values[keep])
        self.scalars += kept
        if kept:
            last = int(steps[keep][-1])
        return last, len(steps) - kept

    def _export_scalars(self, metric: MetricInfo, progress: Progress) -> None:
        entry = self._series(metric, "scalars", ".f64", last_step=None, skipped=0)
        tag = self._tag("scalar:" + metric.name, metric.name)
        if metric.description:
            self.writer.descriptions[tag] = metric.description
        side = _sidecar.AppendFile(os.path.join(self.side, entry["file"]), entry["bytes"])
        skipped = 0
        try:
            for start in range(entry["count"], metric.count, _READ_POINTS):
                history = self.store.read_scalars(self.info.id, metric.name, start=start, stop=min(metric.count, start + _READ_POINTS))
                if not len(history):
                    break
                steps = np.asarray(history.steps, dtype=np.int64)
                side.write(_sidecar.scalar_bytes(steps, history.wall_times, history.values))
                entry["last_step"], kept_out = self._write_scalars(tag, steps, history.wall_times, history.values, entry["last_step"])
                skipped += kept_out
                entry["count"] += len(history)
                progress.update(len(history))
        finally:
            side.close()
            entry["bytes"] = side.size
        self._skipped(entry, tag, skipped)

    def _export_table(self, metric: MetricInfo, progress: Progress) -> None:
        entry = self._series(metric, "records", ".jsonl", rows=0, columns={}, skipped=0)
        records = self.store.read_records(self.info.id, metric.name, start=entry["count"], stop=metric.count)
        numbers: dict[str, tuple[list[int], list[float], list[float]]] = {}
        texts: dict[str, list[tuple[int, float, str]]] = {}
        side = _sidecar.AppendFile(os.path.join(self.side, entry["file"]), entry["bytes"])
        rows = entry["rows"]
        try:
            for record in records:
                side.write(_sidecar.record_line(record.step, record.wall_time, record.meta))
                meta = record.meta
                block = {k: [v] for k, v in meta["row"].items()} if "row" in meta else dict(meta.get("columns") or {})
                size = len(next(iter(block.values()))) if block else 0
                for col, cells in block.items():
                    for i, cell in enumerate(cells):
                        if cell is None:
                            continue
                        if isinstance(cell, str):
                            tag = self._tag(f"text:{metric.name}\0{col}", f"{metric.name}/{col}")
                            texts.setdefault(tag, []).append((rows + i, record.wall_time, cell))
                        else:
                            tag = self._tag(f"col:{metric.name}\0{col}", f"{metric.name}/{col}")
                            points = numbers.setdefault(tag, ([], [], []))
                            points[0].append(rows + i)
                            points[1].append(record.wall_time)
                            points[2].append(float(cell))
                rows += size
        finally:
            side.close()
            entry["bytes"] = side.size
        columns: dict[str, Any] = entry["columns"]
        skipped = 0
        for tag, (steps, walls, values) in numbers.items():
            last, out = self._write_scalars(tag, np.asarray(steps, dtype=np.int64), np.asarray(walls), np.asarray(values), columns.get(tag))
            columns[tag], skipped = last, skipped + out
        for tag, items in texts.items():
            last = columns.get(tag)
            for step, wall, text in items:
                if last is None or step > last:
                    self.writer.write_text(tag, step, wall, text)
                    self.records += 1
                    last = step
                else:
                    skipped += 1
            columns[tag] = last
        if rows > entry["rows"] and records:
            self._table_text(metric, rows, records[-1].wall_time)
        entry.update(count=entry["count"] + len(records), rows=rows)
        self._skipped(entry, metric.name, skipped)
        progress.update(len(records))

    def _table_text(self, metric: MetricInfo, rows: int, wall: float) -> None:
        tail = self.store.read_records(self.info.id, metric.name, start=max(0, metric.count - _markdown.MAX_TABLE_ROWS), stop=metric.count)
        columns = merge_table(tail)
        shown = {col: cells[-_markdown.MAX_TABLE_ROWS :] for col, cells in columns.items()}
        tag = self._tag("table:" + metric.name, metric.name)
        self.writer.write_text(tag, rows, wall, _markdown.table_markdown(shown, rows))
        self.records += 1

    def _export_records(self, metric: MetricInfo, progress: Progress) -> None:
        image = metric.kind == MetricKind.IMAGE
        entry = self._series(metric, "records", ".jsonl", last_step=None, skipped=0)
        tag = self._tag(f"{metric.kind}:{metric.name}", metric.name)
        records = self.store.read_records(self.info.id, metric.name, start=entry["count"], stop=metric.count)
        side = _sidecar.AppendFile(os.path.join(self.side, entry["file"]), entry["bytes"])
        skipped = 0
        try:
            for record in records:
                last = entry["last_step"]
                written = (last is None or record.step > last) and self._write_record(tag, record, image, metric)
                if written:
                    entry["last_step"] = record.step
                    self.records += 1
                else:
                    skipped += 1
                if image:
                    side.write(_sidecar.record_line(record.step, record.wall_time, record.meta, in_events=written, data=None if written else record.data))
                else:
                    side.write(_sidecar.record_line(record.step, record.wall_time, record.meta))
        finally:
            side.close()
            entry["bytes"] = side.size
        entry["count"] += len(records)
        self._skipped(entry, tag, skipped)
        progress.update(len(records))

    def _write_record(self, tag: str, record: Any, image: bool, metric: MetricInfo) -> bool:
        meta = record.meta
        try:
            if metric.kind in CHART_KINDS:  # an accuracy table's PR curves get a tag per class, kept apart from others
                _charts.write_chart(self.writer, tag, record, metric, lambda label: self._tag(f"pr:{metric.name}\0{label}", f"{metric.name}/{label}"))
            elif image:
                if not record.data:
                    return False
                self.writer.write_image(tag, record.step, record.wall_time, record.data, width=meta.get("width"), height=meta.get("height"))
            else:
                self.writer.write_histogram_proto(tag, record.step, record.wall_time, Histogram.from_dict(meta))
        except InvalidArgumentError as exc:
            warnings.warn(f"run {self.info.display_name!r}: {tag!r} at step {record.step} not written to the event file: {exc}", ExportWarning, stacklevel=5)
            return False
        return True

    # -- hparams -----------------------------------------------------------------------------
    def write_session(self) -> dict[str, Any] | None:
        """Write this child's HParams session once it has ended; returns its hparams and metric tags."""
        if self.state["session"] is not None:
            return self.state["session"]
        if not self.info.is_terminal:
            return None
        hparams = _hparams.infer(self.info)
        # An imported session keeps its experiment's metric list; otherwise every scalar series
        # written, and every numeric table column, is a metric.
        metrics: list[Any] | None = _hparams.stored_metrics(self.info)
        if not metrics:
            metrics = sorted({tag for key, tag in self.state["tags"].items() if key.startswith(("scalar:", "col:"))})
        start = self.info.start_time
        self.writer.write_summary_pb(_hparams.session_start(hparams, group_name=self.rel, start_time=start), 0, start)
        self.writer.write_summary_pb(_hparams.session_end(self.info.status, self.info.end_time), 0, self.info.end_time or time.time())
        self.state["session"] = {"hparams": hparams, "metrics": metrics}
        self.records += 2
        return self.state["session"]

    def write_config(self, sessions: Iterable[Mapping[str, Any]]) -> None:
        """Write the sweep's experiment config into this (parent) run."""
        sessions = list(sessions)
        metrics = [metric for s in sessions for metric in s["metrics"]]
        summary = _hparams.experiment((s["hparams"] for s in sessions), metrics, time_created=self.info.start_time)
        self.writer.write_summary_pb(summary, 0, self.info.start_time)
        self.state["config"] = True
        self.records += 1


# -- entry point ------------------------------------------------------------------------------


def _resolve(run_data: Any, store: Any) -> list[tuple[Store, RunInfo]]:
    """(store, run) pairs for a Run, an Experiment, a run id or RunInfo (with store=), or a list of them."""
    if isinstance(run_data, (RunSource, RunInfo, str)):
        items: Sequence[Any] = [run_data]
    elif isinstance(run_data, Iterable) and not isinstance(run_data, (bytes, Mapping)):
        items = list(run_data)
    else:
        raise InvalidArgumentError(f"run_data must be a Run, an Experiment, a run id or a list of them, got {type(run_data).__name__}")
    found: list[tuple[Store, RunInfo]] = []
    for item in items:
        if isinstance(item, RunSource):
            found += item.source_runs()
        elif isinstance(item, (str, RunInfo)):
            resolved = resolve_store(store)
            found.append((resolved, resolved.get_run(item if isinstance(item, str) else item.id)))
        else:
            raise InvalidArgumentError(f"cannot export {type(item).__name__} {item!r}: expected a Run, an Experiment or a run id")
    return found


def export_to_tensorboard(
    run_data: Any,
    logdir: str | os.PathLike[str],
    *,
    recursive: bool = True,
    store: str | os.PathLike[str] | Store | None = None,
    logs: bool = True,
    progress: bool | None = None,
) -> ExportReport:
    """Write runs' history as TensorBoard event files under ``logdir``, incrementally.

    Args:
        run_data: a Run, an Experiment (all its top-level runs), a run id, or a list of them.
        logdir: the TensorBoard logdir; created if needed.
        recursive: also export every descendant of each run, nested under its parent.
        store: where run ids are looked up (default: $RUNHISTORY_STORE, else ./runhistory).
        logs: also mirror each run's own event-file folder (``logs_dir``) into ``<run dir>/logs``.
        progress: draw a progress bar on stderr; None: only on a terminal, for big exports.

    Returns:
        An ExportReport: run directories, points written, points kept out of the event files.

    Raises:
        InvalidArgumentError: bad run_data, or a logdir that is a file or cannot be written.
        NotFoundError: a run id that is not in the store.
    """
    started = time.perf_counter()
    pairs = _resolve(run_data, store)
    root = ensure_logdir(logdir)
    with locked(root):
        layout = Layout(root)
        ordered: dict[str, tuple[Store, RunInfo]] = {}
        for run_store, info in pairs:
            ordered.setdefault(info.id, (run_store, info))
            if recursive:
                for child in run_store.list_descendants(info.id):
                    ordered.setdefault(child.id, (run_store, child))
        for run_store in {id(s): s for s, _ in ordered.values()}.values():
            # Values this process logged into these runs and has not written yet go in first.
            run_store.flush_pending([run_id for run_id, (s, _) in ordered.items() if s is run_store])
        exporters: list[_RunExporter] = []
        for run_store, info in parents_first(ordered):
            parent_rel = layout.path_of(info.parent_id) if info.parent_id else None
            exporters.append(_RunExporter(run_store, info, layout, layout.assign(info.id, info.display_name, parent_rel)))
        layout.save()
        bar = Progress(sum(e.pending() for e in exporters), label="export", enabled=progress)
        log_bytes = 0
        sweeps: dict[str, dict[str, Any]] = layout.info.setdefault("sweeps", {})
        try:
            for exporter in exporters:
                try:
                    log_bytes += exporter.export(bar, logdir=root, layout=layout, logs=logs)
                    parent = exporter.info.parent_id
                    if parent and layout.path_of(parent) is not None:
                        session = exporter.write_session()
                        if session is not None and exporter.info.id not in sweeps.get(parent, {}):
                            sweeps.setdefault(parent, {})[exporter.info.id] = session
                            layout.mark_dirty()
                    elif _hparams.METRICS_PROPERTY in exporter.info.properties:
                        exporter.write_session()  # an imported HParams session on its own
                    exporter.commit()
                finally:
                    exporter.close()
            _maybe_config(layout, {e.info.id: e for e in exporters})
        finally:
            bar.close()
            layout.save()
    return ExportReport(
        logdir=root,
        run_dirs={e.info.id: e.dir for e in exporters},
        scalars=sum(e.scalars for e in exporters),
        records=sum(e.records for e in exporters),
        skipped=sum(e.skipped for e in exporters),
        log_bytes=log_bytes,
        live_runs=sum(not e.info.is_terminal for e in exporters),
        seconds=time.perf_counter() - started,
    )


def _maybe_config(layout: Layout, exported: Mapping[str, _RunExporter]) -> None:
    """Write the experiment config once the logdir's only sweep has ended (see _hparams)."""
    sweeps = layout.info.get("sweeps", {})
    if layout.info.get("config") or len(sweeps) != 1:
        return
    parent_id, sessions = next(iter(sweeps.items()))
    if parent_id not in exported:
        return
    parent = exported[parent_id]
    if not parent.info.is_terminal:
        return
    children = parent.store.list_runs(parent.info.experiment_id, RunFilter(parent_id=parent_id))
    if any(not child.is_terminal or child.id not in sessions for child in children):
        return
    if not any(session["hparams"] for session in sessions.values()):
        return  # nothing to compare: an empty config would only hide other sessions' columns
    again = _RunExporter(parent.store, parent.info, layout, parent.rel)
    try:
        again.write_config(sessions.values())
        again.commit()
    finally:
        again.close()
    layout.info["config"] = parent_id
    layout.mark_dirty()
