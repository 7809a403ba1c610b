"""Frozen value types shared by the store, the logging API, export and the plugin."""

from __future__ import annotations

import dataclasses
import enum
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

# Seconds between heartbeats of a live run, and how long without one before it reads NotResponding.
HEARTBEAT_INTERVAL = 30.0  # seconds
NOT_RESPONDING_AFTER = 300.0  # seconds


class Status(enum.StrEnum):
    """Run statuses; the first three are terminal."""

    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    RUNNING = "Running"
    NOT_RESPONDING = "NotResponding"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELED})

# Run types (the original SDK's `run.type`): how a run came to be. A caller may give its own.
RUN_TYPE_INTERACTIVE = "interactive"  # exp.start_logging(), Run.get_context() outside our tooling
RUN_TYPE_CHILD = "child"  # run.child_run(), run.create_children()
RUN_TYPE_SCRIPT = "script"  # `tb-runhistory run -- python script.py`


class MetricKind(enum.StrEnum):
    """What a metric name holds; one kind per name within a run."""

    SCALAR = "scalar"
    TABLE = "table"
    IMAGE = "image"
    HISTOGRAM = "histogram"
    CONFUSION_MATRIX = "confusion_matrix"
    ACCURACY_TABLE = "accuracy_table"
    RESIDUALS = "residuals"
    PREDICTIONS = "predictions"


# The standard charts (the original SDK's log_confusion_matrix & co.): a kind each, named as their schema_type.
CHART_KINDS = (MetricKind.CONFUSION_MATRIX, MetricKind.ACCURACY_TABLE, MetricKind.RESIDUALS, MetricKind.PREDICTIONS)
# Kinds stored as records (meta JSON plus optional bytes), not as scalar chunks.
RECORD_KINDS = (MetricKind.TABLE, MetricKind.IMAGE, MetricKind.HISTOGRAM, *CHART_KINDS)


@dataclasses.dataclass(frozen=True)
class ExperimentInfo:
    """An experiment: a named group of runs."""

    id: str
    name: str
    created_at: float


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """Everything stored about one run, with its effective status."""

    id: str
    experiment_id: str
    parent_id: str | None
    display_name: str
    description: str
    status: str
    start_time: float
    end_time: float | None = None
    heartbeat_time: float | None = None
    error: str | None = None
    traceback: str | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    child_count: int = 0
    logs_dir: str | None = None
    params: Mapping[str, bool | int | float | str] = dataclasses.field(default_factory=dict)
    matched: bool = True  # False for an ancestor listed only because a descendant matched (RunFilter.with_ancestors)
    error_code: str | None = None
    run_type: str = RUN_TYPE_INTERACTIVE

    @property
    def is_terminal(self) -> bool:
        """True once the run completed, failed or was canceled."""
        return self.status in TERMINAL_STATUSES

    @property
    def duration(self) -> float:
        """Seconds from start to end, or to now while the run is live."""
        end = self.end_time if self.end_time is not None else time.time()
        return max(0.0, end - self.start_time)


def effective_status(stored: str, heartbeat_time: float | None, now: float | None = None) -> str:
    """The status a reader sees: a Running run whose heartbeats stopped reads NotResponding."""
    if stored != Status.RUNNING or heartbeat_time is None:
        return stored
    now = time.time() if now is None else now
    return Status.NOT_RESPONDING if now - heartbeat_time > NOT_RESPONDING_AFTER else Status.RUNNING


def default_run_type(parent_id: str | None) -> str:
    """The type of a run created without one: a child, or an interactive top-level run."""
    return RUN_TYPE_CHILD if parent_id is not None else RUN_TYPE_INTERACTIVE


@dataclasses.dataclass(frozen=True)
class NewRun:
    """One run to create (what Store.create_runs takes); run_type None means default_run_type."""

    run_id: str
    display_name: str
    start_time: float
    parent_id: str | None = None
    description: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    logs_dir: str | None = None
    run_type: str | None = None


@dataclasses.dataclass(frozen=True)
class MetricInfo:
    """A metric of a run: its kind, size and latest point."""

    run_id: str
    name: str
    kind: str
    count: int
    value_type: str = "float"
    last_step: int | None = None
    last_value: float | None = None
    last_wall_time: float | None = None
    description: str = ""


@dataclasses.dataclass(frozen=True, eq=False)
class MetricHistory:
    """A scalar series: aligned numpy arrays of steps, wall times and values."""

    name: str
    steps: np.ndarray
    wall_times: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


@dataclasses.dataclass(frozen=True, eq=False)
class ChunkSummaries:
    """Per-chunk summaries of a scalar series, aligned arrays (what downsampling reads)."""

    offsets: np.ndarray  # index of each chunk's first point
    counts: np.ndarray
    step_min: np.ndarray
    step_max: np.ndarray
    wall_min: np.ndarray
    wall_max: np.ndarray
    vmin: np.ndarray  # over finite values; NaN when a chunk has none
    vmax: np.ndarray
    first: np.ndarray
    last: np.ndarray
    total: np.ndarray  # sum of finite values
    finite: np.ndarray  # count of finite values

    def __len__(self) -> int:
        return len(self.offsets)


@dataclasses.dataclass(frozen=True)
class Record:
    """One point of a table, image or histogram metric."""

    step: int
    wall_time: float
    meta: Mapping[str, Any]
    data: bytes | None = None


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """A file stored with a run."""

    name: str
    size: int
    created_at: float


@dataclasses.dataclass(frozen=True, eq=False)
class ScalarBatch:
    """Scalar points bound for one series; a step of -1 means 'the next step'."""

    run_id: str
    name: str
    steps: np.ndarray
    wall_times: np.ndarray
    values: np.ndarray
    value_type: str = "float"
    description: str = ""


@dataclasses.dataclass(frozen=True)
class RecordBatch:
    """Table, image or histogram points bound for one metric; a step of -1 means 'the next step'."""

    run_id: str
    name: str
    kind: str
    records: tuple[Record, ...]
    description: str = ""


VALUE_TYPES = ("bool", "int", "float")  # narrowest first: a series keeps the widest type it has seen


def promote_value_type(old: str | None, new: str) -> str:
    """bool < int < float: a series keeps the widest type it has seen."""
    if old is None:
        return new
    return VALUE_TYPES[max(VALUE_TYPES.index(old), VALUE_TYPES.index(new))]


def new_run_id() -> str:
    """A fresh, unique run id."""
    return uuid.uuid4().hex


def merge_table(records: Sequence[Record]) -> dict[str, list[Any]]:
    """Columns of a table metric from its rows and tables, None where a row lacks a column."""
    columns: dict[str, list[Any]] = {}
    length = 0
    for record in records:
        block = {k: [v] for k, v in record.meta["row"].items()} if "row" in record.meta else record.meta["columns"]
        size = len(next(iter(block.values()))) if block else 0
        for col in block:
            if col not in columns:
                columns[col] = [None] * length
        for col, cells in columns.items():
            cells.extend(block.get(col, [None] * size))
        length += size
    return columns


@runtime_checkable
class RunSource(Protocol):
    """A Run (itself) or an Experiment (its top-level runs), as export and the launcher take them."""

    def source_runs(self) -> list[tuple[Any, RunInfo]]:
        """(store, run) pairs this object stands for."""
        ...
