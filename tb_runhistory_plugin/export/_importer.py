"""Import TensorBoard event files into a store: one run per run directory, nested as child runs.

What is a run: like TensorBoard, every directory holding a ``*tfevents*`` file; each directory
between the logdir and such a directory becomes a run too (with no metrics), so the nesting is kept:
``logdir/fit/2024/train`` gives ``fit`` > ``2024`` > ``train``. If the logdir itself holds event
files it is a run (named after the logdir) and the others are its descendants. Runs are created
Completed, with the wall time of their first and last event as start and end.

What is read: scalars (``simple_value`` and scalar tensors of any numeric type: tf.summary,
torch.utils.tensorboard, tensorboardX, keras, our exporter), histograms (TF 1 ``histo`` protos
keep float64 edges), images (one record per image; PNG, JPEG, GIF, WebP or BMP), text (a table
metric with one ``text`` column, one row per step), and the hyperparameters of an HParams session
(as run params). Audio, graphs, PR curves and other plugins' data are counted in
``ImportReport.skipped`` and left out. Tags become metric names; a tag that TensorBoard shows as
two kinds gets a `` (text)``-style suffix for the second.

Our own exports: a run directory with a ``.runhistory/run.json`` manifest (see ``_sidecar``) is
read from its exact copy instead: the same metric names, kinds, steps, wall times and float64
values bit for bit, tables and histograms as logged, the run's display name, description, tags,
properties, times and final status (a run exported while live is imported Canceled, saying so).

Re-importing never duplicates: a run directory maps to the run whose property
``tensorboard.source`` is that directory's absolute path, and each series only gets the points
past the ones it already has (files are read in name order, so the count is a position). New
points for an imported run that has already ended cannot be added and are counted as skipped.

Damaged files: every intact record is imported; each damaged stretch becomes an entry of
``ImportReport.errors`` naming the file and byte offset (see ``_reader``). Intact records that
cannot be used are left out and counted in ``ImportReport.skipped``, never aborting the import:
a record that is not an Event proto, an event whose wall time is NaN or infinite, a step outside
0..2**62 (negative steps from some writers).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.util import tensor_util

from .._images import sniff_image
from .._types import (
    TERMINAL_STATUSES,
    MetricKind,
    Record,
    RecordBatch,
    RunInfo,
    ScalarBatch,
    Status,
    new_run_id,
)
from .._validate import check_experiment_name, check_name, check_param_value
from ..errors import InvalidArgumentError, NotFoundError, RunHistoryError
from ..store import Store, resolve_store
from . import _histo, _hparams, _sidecar
from ._eventfile import EventFileCorruptError
from ._hparams import SOURCE_PROPERTY
from ._layout import SIDECAR_DIR, read_json
from ._progress import Progress
from ._reader import read_records

NOT_AN_EVENT = "records that are not Event protos"
NOT_FINITE_WALL_TIME = "events with a wall time that is not finite"
_MAX_STEP = 2**62
_MAX_NAME = 255  # characters of a run or metric name
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXPERIMENT_CHARS = re.compile(r"[^\w\-.]", re.ASCII)


@dataclasses.dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    experiment: str
    runs_created: int = 0
    runs_updated: int = 0
    scalars: int = 0  # scalar points added
    records: int = 0  # table rows, images and histograms added
    skipped: Mapping[str, int] = dataclasses.field(default_factory=dict)  # reason -> count
    errors: tuple[str, ...] = ()  # damaged files: each names the file and the byte offset

    @property
    def ok(self) -> bool:
        """True when every file was read without damage."""
        return not self.errors


@dataclasses.dataclass
class _Node:
    """One directory that becomes a run."""

    rel: str  # relative to the logdir, '/'-separated; "" for the logdir itself
    path: str
    files: list[str]
    parent: _Node | None = None
    run_id: str | None = None


@dataclasses.dataclass
class _Data:
    """Everything read for one run, in file order."""

    scalars: dict[str, tuple[list[int], list[float], list[float]]] = dataclasses.field(default_factory=dict)
    records: dict[tuple[str, str], list[Record]] = dataclasses.field(default_factory=dict)  # (kind, tag) -> records
    value_types: dict[str, str] = dataclasses.field(default_factory=dict)
    descriptions: dict[str, str] = dataclasses.field(default_factory=dict)
    hparams: dict[str, Any] = dataclasses.field(default_factory=dict)
    session: bool = False  # an HParams session start was read
    metrics: list[dict[str, Any]] | None = None  # the metric list of an HParams experiment read here
    first_wall: float | None = None
    last_wall: float | None = None
    info: dict[str, Any] | None = None  # our manifest's run facts
    exact: bool = False  # metric names are already store names (from our sidecar)

    def wall(self, wall: float) -> None:
        if wall > 0:
            self.first_wall = wall if self.first_wall is None else min(self.first_wall, wall)
            self.last_wall = wall if self.last_wall is None else max(self.last_wall, wall)


def _clean_name(text: str) -> str:
    text = _CONTROL.sub("_", text).strip()
    return (text or "_")[:_MAX_NAME]


def _experiment_name(logdir: str) -> str:
    name = _EXPERIMENT_CHARS.sub("_", os.path.basename(os.path.normpath(logdir)))
    name = name.lstrip("_-.") or "imported"
    return name[:255]


def _is_event_file(name: str) -> bool:
    return "tfevents" in name


def _discover(logdir: str) -> list[_Node]:
    """Run directories and the directories between them and the logdir, parents first."""
    found: dict[str, _Node] = {}
    for folder, dirs, names in os.walk(logdir):
        dirs[:] = sorted(d for d in dirs if d != SIDECAR_DIR and not os.path.islink(os.path.join(folder, d)))
        files = sorted(os.path.join(folder, n) for n in names if _is_event_file(n) and os.path.isfile(os.path.join(folder, n)))
        if not files and not os.path.isfile(os.path.join(folder, SIDECAR_DIR, _sidecar.MANIFEST)):
            continue
        rel = os.path.relpath(folder, logdir).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        found[rel] = _Node(rel, folder, files)
    for rel in list(found):  # add the folders in between, so that nesting is kept
        parts = rel.split("/") if rel else []
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            found.setdefault(prefix, _Node(prefix, os.path.join(logdir, *parts[:i]), []))
    nodes = sorted(found.values(), key=lambda n: (n.rel.count("/") if n.rel else -1, n.rel))
    for node in nodes:
        if node.rel == "":
            continue
        head, _, _ = node.rel.rpartition("/")
        node.parent = found.get(head) or found.get("")
    return nodes


class _Importer:
    def __init__(self, store: Store, experiment_id: str, experiment: str, progress: Progress) -> None:
        self.store, self.experiment_id, self.experiment = store, experiment_id, experiment
        self.progress = progress
        self.skipped: Counter[str] = Counter()
        self.problems: list[EventFileCorruptError] = []
        self.errors: list[str] = []
        self.created = self.updated = self.scalars = self.records = 0
        self.experiments: dict[str, tuple[_Node, list[dict[str, Any]]]] = {}  # run rel -> (experiment's node, its metric list)
        self.covered: set[str] = set()  # rels of experiments that cover at least one session
        self.by_source = {info.properties.get(SOURCE_PROPERTY): info for info in store.list_runs(experiment_id) if SOURCE_PROPERTY in info.properties}

    # -- reading -----------------------------------------------------------------------------
    def _events(self, path: str) -> Iterator[event_pb2.Event]:
        for _, data in read_records(path, self.problems):
            event, reason = _decode(data)
            if event is None:
                self.skipped[reason] += 1
            else:
                yield event
        self.progress.update(os.path.getsize(path))

    def read_node(self, node: _Node) -> _Data:
        data = _Data()
        manifest = read_json(os.path.join(node.path, SIDECAR_DIR, _sidecar.MANIFEST))
        ours = None
        if isinstance(manifest, dict) and manifest.get("format") == _sidecar.MANIFEST_FORMAT and manifest.get("events"):
            ours = os.path.join(node.path, manifest["events"]["file"])
            data.exact, data.info = True, manifest.get("info")
        images: dict[str, list[bytes]] = {}
        for path in node.files:
            if path == ours:
                self._read_own_images(path, images, data)
            else:
                self._read_file(path, data)
        if data.exact and isinstance(manifest, dict):  # exact is set only for a manifest dict, above
            self._read_sidecar(node, manifest, images, data)
        return data

    def _read_own_images(self, path: str, images: dict[str, list[bytes]], data: _Data) -> None:
        for event in self._events(path):
            data.wall(event.wall_time)
            for value in event.summary.value:
                if value.HasField("image"):
                    images.setdefault(value.tag, []).append(value.image.encoded_image_string)

    def _read_sidecar(self, node: _Node, manifest: dict[str, Any], images: dict[str, list[bytes]], data: _Data) -> None:
        side = os.path.join(node.path, SIDECAR_DIR)
        tags = manifest.get("tags", {})
        for name, entry in manifest.get("series", {}).items():
            path = os.path.join(side, entry["file"])
            try:
                if entry["kind"] == MetricKind.SCALAR:
                    steps, walls, values = _sidecar.read_scalars(path, entry["count"])
                    data.scalars[name] = (steps, walls, values)  # type: ignore[assignment]
                    data.value_types[name] = entry.get("value_type") or "float"
                else:
                    queue = iter(images.get(tags.get(f"image:{name}", name), []))
                    records = []
                    for item in _sidecar.read_records(path, entry["bytes"]):
                        blob = item.get("data")
                        if item.get("ev"):
                            blob = next(queue, None)
                            if blob is None:
                                self.errors.append(f"{path}: image at step {item['step']} is missing from the event file")
                                continue
                        records.append(Record(item["step"], item["wall_time"], item["meta"], blob))
                    data.records[(entry["kind"], name)] = records
                if entry.get("description"):
                    data.descriptions[name] = entry["description"]
            except InvalidArgumentError as exc:
                self.errors.append(str(exc))

    def _read_file(self, path: str, data: _Data) -> None:
        plugins: dict[str, str] = {}
        for event in self._events(path):
            data.wall(event.wall_time)
            if not event.HasField("summary"):
                if event.HasField("graph_def") or event.HasField("meta_graph_def") or event.HasField("tagged_run_metadata"):
                    self.skipped["graphs and run metadata"] += 1
                continue
            for value in event.summary.value:
                self._read_value(value, event, plugins, data)

    def _read_value(self, value: summary_pb2.Summary.Value, event: event_pb2.Event, plugins: dict[str, str], data: _Data) -> None:
        kind = value.WhichOneof("value")
        tag, step, wall = value.tag, event.step, event.wall_time
        if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
            plugins[tag] = value.metadata.plugin_data.plugin_name
            if value.metadata.summary_description:
                data.descriptions.setdefault(tag, value.metadata.summary_description)
        if plugins.get(tag) == "hparams":  # tensorboardX writes these with no value at all
            self._hparams(value, data)
        elif kind == "simple_value":
            self._scalar(data, tag, step, wall, float(value.simple_value))
        elif kind == "histo":
            self._histogram(data, tag, step, wall, value.histo)
        elif kind == "image":
            self._image(data, tag, step, wall, value.image.encoded_image_string)
        elif kind == "tensor":
            plugin = plugins.get(tag, "")
            try:
                array = tensor_util.make_ndarray(value.tensor)
            except (ValueError, TypeError):
                self.skipped[f"unreadable {plugin or 'tensor'} summaries"] += 1
                return
            if plugin == "scalars" or (not plugin and array.size == 1 and array.dtype.kind in "biuf"):
                if array.size != 1 or array.dtype.kind not in "biuf":
                    self.skipped["non-scalar values in scalar summaries"] += 1
                    return
                self._scalar(data, tag, step, wall, float(array.reshape(-1)[0]), array.dtype)
            elif plugin == "histograms":
                self._histogram(data, tag, step, wall, np.asarray(array, dtype=np.float64))
            elif plugin == "images":
                for blob in array.reshape(-1)[2:]:
                    self._image(data, tag, step, wall, bytes(blob))
            elif plugin == "text":
                items = [b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b) for b in array.reshape(-1)]
                self._record(data, MetricKind.TABLE, tag, Record(step, wall, {"row": {"text": "\n".join(items)}}))
            else:
                self.skipped[f"{plugin or 'unknown'} summaries"] += 1
        else:
            self.skipped[f"{kind or 'empty'} summaries"] += 1

    def _step_ok(self, step: int) -> bool:
        if 0 <= step <= _MAX_STEP:
            return True
        self.skipped["points with a step outside 0..2**62"] += 1
        return False

    def _scalar(self, data: _Data, tag: str, step: int, wall: float, value: float, dtype: Any = None) -> None:
        if not self._step_ok(step):
            return
        steps, walls, values = data.scalars.setdefault(tag, ([], [], []))
        steps.append(step)
        walls.append(wall)
        values.append(value)
        if dtype is not None and dtype.kind in "iu":
            data.value_types.setdefault(tag, "int")
        elif dtype is not None and dtype.kind == "b":
            data.value_types.setdefault(tag, "bool")
        else:
            data.value_types[tag] = "float"

    def _record(self, data: _Data, kind: str, tag: str, record: Record) -> None:
        if self._step_ok(record.step):
            data.records.setdefault((kind, tag), []).append(record)

    def _image(self, data: _Data, tag: str, step: int, wall: float, blob: bytes) -> None:
        try:
            info = sniff_image(blob)
        except InvalidArgumentError:
            self.skipped["images in an unsupported format"] += 1
            return
        meta = {"content_type": info.content_type, "width": info.width, "height": info.height}
        self._record(data, MetricKind.IMAGE, tag, Record(step, wall, meta, blob))

    def _histogram(self, data: _Data, tag: str, step: int, wall: float, source: np.ndarray | summary_pb2.HistogramProto) -> None:
        """A histogram from a [k, 3] tensor or a ``histo`` proto (see ``_histo``)."""
        try:
            histogram = _histo.from_proto(source) if isinstance(source, summary_pb2.HistogramProto) else _histo.from_tensor(source)
        except (InvalidArgumentError, ValueError):
            self.skipped["histograms whose buckets cannot be stored"] += 1
            return
        self._record(data, MetricKind.HISTOGRAM, tag, Record(step, wall, histogram.to_dict()))

    def _hparams(self, value: summary_pb2.Summary.Value, data: _Data) -> None:
        content = value.metadata.plugin_data.content
        if value.tag not in (hparams_metadata.SESSION_START_INFO_TAG, hparams_metadata.EXPERIMENT_TAG) or not content:
            return
        try:
            if value.tag == hparams_metadata.EXPERIMENT_TAG:
                data.metrics = _hparams.metric_entries(hparams_metadata.parse_experiment_plugin_data(content))
                return
            start = hparams_metadata.parse_session_start_info_plugin_data(content)
        except Exception:  # noqa: BLE001 - a malformed hparams proto only loses the hyperparameters
            self.skipped["unreadable hparams summaries"] += 1
            return
        data.session = True
        for name, item in start.hparams.items():
            field = item.WhichOneof("kind")
            if field == "number_value":
                number = item.number_value
                # HParams has one number type (double): a whole number is taken as the int it almost always was.
                whole = math.isfinite(number) and number.is_integer() and abs(number) <= 2**53
                data.hparams[_clean_name(name)] = int(number) if whole else number
            elif field in ("string_value", "bool_value"):
                data.hparams[_clean_name(name)] = getattr(item, field)

    # -- writing -----------------------------------------------------------------------------
    def _experiment_for(self, node: _Node, data: _Data) -> list[dict[str, Any]] | None:
        """The metric list of the HParams experiment covering a run: its own, else its nearest ancestor's."""
        if data.metrics is not None:
            self.experiments[node.rel] = (node, data.metrics)
        elif node.parent is not None and node.parent.rel in self.experiments:
            self.experiments[node.rel] = self.experiments[node.parent.rel]
        owner = self.experiments.get(node.rel)
        if owner is None:
            return None
        if data.session:
            self.covered.add(owner[0].rel)
        return owner[1]

    def keep_uncovered_experiments(self) -> None:
        """An HParams experiment that covers no session keeps its metric list on its own run."""
        for rel, (node, metrics) in self.experiments.items():
            if rel != node.rel or rel in self.covered or node.run_id is None:
                continue
            if _hparams.METRICS_PROPERTY not in self.store.get_run(node.run_id).properties:
                self.store.add_properties(node.run_id, {_hparams.METRICS_PROPERTY: json.dumps(metrics)})

    def import_node(self, node: _Node) -> None:
        data = self.read_node(node)
        metrics = self._experiment_for(node, data)
        source = os.path.abspath(node.path)
        existing = self.by_source.get(source)
        if existing is None:
            if data.session:
                data.hparams = _hparams_to_run(data.hparams, metrics)
            info = self._create(node, data, source)
            self.created += 1
        else:
            info = existing
        node.run_id = info.id
        added = self._write(info, data)
        if existing is not None and added:
            self.updated += 1
        if not info.is_terminal:
            self._finish(info, data)

    def _create(self, node: _Node, data: _Data, source: str) -> RunInfo:
        facts = data.info or {}
        name = facts.get("display_name") or (node.rel.rpartition("/")[2] if node.rel else os.path.basename(os.path.normpath(node.path)))
        properties = {k: v for k, v in (facts.get("properties") or {}).items() if k != SOURCE_PROPERTY}
        # Our own manifest keeps params with their types; HParams sessions hold params (and, from an
        # export of ours, properties too: those stay properties).
        params = dict(facts.get("params") or {})
        for key, value in data.hparams.items():
            if key == _hparams.METRICS_PROPERTY:
                properties.setdefault(key, value)  # the HParams experiment's metric list: a fact, not a parameter
            elif key not in properties:
                params.setdefault(key, value)
        properties[SOURCE_PROPERTY] = source
        start = facts.get("start_time") or data.first_wall or _first_wall_below(node.path) or time.time()
        info = self.store.create_run(
            self.experiment_id,
            run_id=new_run_id(),
            display_name=_clean_name(name),
            parent_id=node.parent.run_id if node.parent else None,
            description=facts.get("description") or "",
            tags=facts.get("tags") or {},
            properties=properties,
            start_time=start,
        )
        kept = {}
        for key, value in params.items():
            try:
                kept[check_name(_clean_name(key), "param name")] = check_param_value(key, value)
            except InvalidArgumentError:
                self.skipped["unusable hyperparameters"] += 1
        if kept:
            self.store.add_params(info.id, kept)
            info = self.store.get_run(info.id)
        return info

    def _finish(self, info: RunInfo, data: _Data) -> None:
        facts = data.info or {}
        status, error = facts.get("status"), facts.get("error")
        if status not in TERMINAL_STATUSES:
            if status:
                status, error = Status.CANCELED, f"imported from TensorBoard files while the run was {status}: its history may be incomplete"
            else:
                status = Status.COMPLETED
        end = facts.get("end_time") or data.last_wall or info.start_time
        self.store.set_run_status(info.id, status, end_time=max(end, info.start_time), error=error)

    def _names(self, info: RunInfo, data: _Data) -> dict[tuple[str, str], str]:
        """Store metric name for each (kind, tag), avoiding names held by another kind."""
        kinds = {m.name: str(m.kind) for m in self.store.list_metrics(info.id)}
        wanted = [(str(MetricKind.SCALAR), tag) for tag in data.scalars] + [(str(k), tag) for k, tag in data.records]
        names: dict[tuple[str, str], str] = {}
        if data.exact:
            return {key: key[1] for key in wanted}
        for kind, tag in wanted:
            base = _clean_name(tag)
            name, suffix = base, 1
            while kinds.get(name, kind) != kind:
                suffix += 1
                name = f"{base} ({kind})" if suffix == 2 else f"{base} ({kind} {suffix})"
            kinds[name] = kind
            names[(kind, tag)] = name
        return names

    def _write(self, info: RunInfo, data: _Data) -> int:
        names = self._names(info, data)
        have = {m.name: m.count for m in self.store.list_metrics(info.id)}
        scalars, records = [], []
        for tag, (steps, walls, values) in data.scalars.items():
            name = names[(str(MetricKind.SCALAR), tag)]
            done = have.get(name, 0)
            if len(steps) > done:
                scalars.append(
                    ScalarBatch(
                        info.id,
                        name,
                        np.asarray(steps[done:], dtype=np.int64),
                        np.asarray(walls[done:], dtype=np.float64),
                        np.asarray(values[done:], dtype=np.float64),
                        value_type=data.value_types.get(tag, "float"),
                        description=data.descriptions.get(tag, ""),
                    )
                )
        for (kind, tag), items in data.records.items():
            name = names[(str(kind), tag)]
            done = have.get(name, 0)
            if len(items) > done:
                records.append(RecordBatch(info.id, name, str(kind), tuple(items[done:]), description=data.descriptions.get(tag, "")))
        added_scalars = sum(len(b.steps) for b in scalars)
        added_records = sum(len(b.records) for b in records)
        if not scalars and not records:
            return 0
        if info.is_terminal:
            self.skipped["points for imported runs that have already ended"] += added_scalars + added_records
            return 0
        self.store.write_metrics(scalars=scalars, records=records)
        self.scalars += added_scalars
        self.records += added_records
        return added_scalars + added_records


def _hparams_to_run(hparams: Mapping[str, Any], metrics: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What an HParams session gives its run: typed hyperparameters, and the experiment's metric list (JSON; [] without one)."""
    return {**hparams, _hparams.METRICS_PROPERTY: json.dumps(metrics or [])}


def _decode(data: bytes) -> tuple[event_pb2.Event | None, str]:
    """The Event in a record, or None and the reason it is skipped (counted in ImportReport.skipped)."""
    try:
        event = event_pb2.Event.FromString(data)
    except DecodeError:
        return None, NOT_AN_EVENT
    if not math.isfinite(event.wall_time):
        # The store needs finite times and TensorBoard cannot place such a point on a time axis.
        return None, NOT_FINITE_WALL_TIME
    return event, ""


def _first_wall_below(path: str) -> float | None:
    """The earliest wall time of the first usable event of each event file below a folder (for a run with none)."""
    earliest = None
    for folder, _, names in os.walk(path):
        for name in names:
            if _is_event_file(name):
                for _, data in read_records(os.path.join(folder, name), []):
                    event, _ = _decode(data)
                    if event is not None:
                        earliest = event.wall_time if earliest is None else min(earliest, event.wall_time)
                        break
    return earliest


def import_tensorboard(
    logdir: str | os.PathLike[str],
    *,
    experiment: str | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    progress: bool | None = None,
) -> ImportReport:
    """Read TensorBoard event files under ``logdir`` into a store (see the module docstring).

    Args:
        logdir: a TensorBoard logdir (or a single run directory).
        experiment: the experiment to import into, created if needed (default: the logdir's name).
        store: the store (default: $RUNHISTORY_STORE, else ./runhistory).
        progress: draw a progress bar on stderr; None: only on a terminal, for big imports.

    Returns:
        An ImportReport; ``errors`` lists damaged files by path and byte offset (everything intact
        was still imported).

    Raises:
        NotFoundError: there is no such directory.
        InvalidArgumentError: the logdir is a file, or the experiment name is invalid.
    """
    root = os.path.abspath(os.fspath(logdir))
    if not os.path.exists(root):
        raise NotFoundError(f"no logdir {root!r}")
    if not os.path.isdir(root):
        raise InvalidArgumentError(f"logdir {root!r} is a file, not a directory")
    name = check_experiment_name(experiment) if experiment is not None else _experiment_name(root)
    resolved = resolve_store(store)
    exp = resolved.get_or_create_experiment(name)
    nodes = _discover(root)
    total = sum(os.path.getsize(f) for n in nodes for f in n.files)
    bar = Progress(total, label="import", enabled=progress, unit="bytes")
    importer = _Importer(resolved, exp.id, exp.name, bar)
    try:
        for node in nodes:
            if node.parent is not None and node.parent.run_id is None:
                importer.errors.append(f"{node.path}: not imported because its parent directory could not be")
                continue
            try:
                importer.import_node(node)
            except RunHistoryError as exc:
                importer.errors.append(f"{node.path}: {exc}")
        try:
            importer.keep_uncovered_experiments()
        except RunHistoryError as exc:
            importer.errors.append(f"{root}: HParams metric list not kept: {exc}")
    finally:
        bar.close()
    errors = [str(p) for p in importer.problems] + importer.errors
    return ImportReport(
        experiment=exp.name,
        runs_created=importer.created,
        runs_updated=importer.updated,
        scalars=importer.scalars,
        records=importer.records,
        skipped=dict(importer.skipped),
        errors=tuple(errors),
    )
