"""The one store protocol that the logging API, export, plugin and server all go through."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._filter import RunFilter
from .._types import (
    ChunkSummaries,
    ExperimentInfo,
    FileInfo,
    MetricHistory,
    MetricInfo,
    NewRun,
    Record,
    RecordBatch,
    RunInfo,
    ScalarBatch,
)

ORPHAN_GRACE = 3600.0  # seconds: a younger unreferenced run file may be an upload in progress


class Store(abc.ABC):
    """A run store. Implementations must be safe to share between threads of one process."""

    uri: str

    # -- experiments -------------------------------------------------------
    @abc.abstractmethod
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """Return the experiment called `name`, creating it when missing."""

    @abc.abstractmethod
    def get_experiment(self, name_or_id: str) -> ExperimentInfo:
        """Return an experiment by id or name; NotFoundError when there is none."""

    @abc.abstractmethod
    def list_experiments(self) -> list[ExperimentInfo]:
        """All experiments, oldest first."""

    # -- runs --------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        *,
        run_id: str,
        display_name: str,
        parent_id: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
        start_time: float,
        logs_dir: str | None = None,
        run_type: str | None = None,
    ) -> RunInfo:
        """Create a Running run; ConflictError if the id exists, NotFoundError for a missing parent."""

    def create_runs(self, experiment_id: str, runs: Sequence[NewRun]) -> list[RunInfo]:
        """Create several Running runs, all or none; backends override this to do it in one round trip."""
        return [
            self.create_run(
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
            for new in runs
        ]

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunInfo:
        """One run; NotFoundError when there is none."""

    @abc.abstractmethod
    def list_runs(self, experiment_id: str, filter: RunFilter | None = None, *, limit: int | None = None, offset: int = 0) -> list[RunInfo]:
        """Runs of an experiment that pass `filter` (every run without one), oldest first unless it sorts; a negative limit is none."""

    @abc.abstractmethod
    def count_runs(self, experiment_id: str, filter: RunFilter | None = None) -> int:
        """How many runs list_runs would return without limit."""

    @abc.abstractmethod
    def list_descendants(self, run_id: str) -> list[RunInfo]:
        """Every run below `run_id`, depth first, parents before their children."""

    @abc.abstractmethod
    def set_run_status(
        self,
        run_id: str,
        status: str,
        *,
        end_time: float | None = None,
        error: str | None = None,
        traceback: str | None = None,
        error_code: str | None = None,
    ) -> RunInfo:
        """Move a run to a status (a failed run keeps its error, traceback and error code); ConflictError when it already ended."""

    @abc.abstractmethod
    def heartbeat(self, run_ids: Sequence[str], time: float) -> None:
        """Record that these runs' process is alive at `time`."""

    @abc.abstractmethod
    def set_logs_dir(self, run_id: str, logs_dir: str | None) -> None:
        """Tie a folder of TensorBoard event files (written by the run's own code) to the run."""

    @abc.abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags."""

    @abc.abstractmethod
    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove tags; missing keys are ignored."""

    @abc.abstractmethod
    def add_properties(self, run_id: str, properties: Mapping[str, Any]) -> None:
        """Add properties; ConflictError naming the key when one would change."""

    @abc.abstractmethod
    def add_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Add typed params (bool, int, float, str); the same value again is fine, another is a ConflictError naming both."""

    # -- metrics -----------------------------------------------------------
    @abc.abstractmethod
    def write_metrics(self, scalars: Sequence[ScalarBatch] = (), records: Sequence[RecordBatch] = (), *, batch_id: str | None = None) -> None:
        """Append points atomically; steps of -1 become the next step of their series.

        A `batch_id` that was already applied (remembered for at least a week) makes the call a
        no-op, so a retry after a lost answer never duplicates points.
        """

    @abc.abstractmethod
    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        """The metrics of a run, by name."""

    @abc.abstractmethod
    def last_values(self, run_ids: Sequence[str]) -> dict[str, list[MetricInfo]]:
        """The metrics of several runs at once (for tables of runs)."""

    @abc.abstractmethod
    def read_scalars(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> MetricHistory:
        """Points [start, stop) of a scalar series in logging order."""

    @abc.abstractmethod
    def read_summaries(self, run_id: str, name: str) -> ChunkSummaries:
        """Per-chunk summaries of a scalar series (cheap: no point data is read)."""

    @abc.abstractmethod
    def read_records(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> list[Record]:
        """Points [start, stop) of a table, image or histogram metric."""

    # -- files -------------------------------------------------------------
    @abc.abstractmethod
    def put_file(self, run_id: str, name: str, data: bytes) -> FileInfo:
        """Store (or replace) a file of a run."""

    @abc.abstractmethod
    def list_files(self, run_id: str) -> list[FileInfo]:
        """Files of a run, by name."""

    @abc.abstractmethod
    def read_file(self, run_id: str, name: str) -> bytes:
        """A file's bytes; NotFoundError when missing."""

    def put_file_from_path(self, run_id: str, name: str, path: str) -> FileInfo:
        """Store a file from the local file system (backends may stream it)."""
        with open(path, "rb") as handle:
            return self.put_file(run_id, name, handle.read())

    # -- lifecycle ---------------------------------------------------------
    def maintain(self, *, dry_run: bool = False, orphan_grace: float = ORPHAN_GRACE, now: float | None = None) -> dict[str, Any] | None:
        """Housekeeping of the store's own files (unreferenced run files older than orphan_grace seconds, compaction).

        Returns a report (``orphaned_files`` lists what was deleted), or None when it is a server's business.
        """
        return None

    def register_pending(self, flush: Callable[[], Callable[[Sequence[str]], None] | None]) -> None:
        """Let the tracking layer say how to write what this process buffered for the store (a weak reference)."""
        self._pending = flush

    def flush_pending(self, run_ids: Sequence[str]) -> None:
        """Write what this process logged into these runs and has not written yet (readers call this first)."""
        ref = getattr(self, "_pending", None)
        flush = ref() if ref is not None else None
        if flush is not None:
            flush(run_ids)

    def close(self) -> None:  # noqa: B027 - optional: a store without connections has nothing to release
        """Release connections; the store may not be used afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


def depth_first(root_id: str, runs: list[RunInfo]) -> list[RunInfo]:
    """Order descendants of root_id depth first, parents before children, siblings in input order."""
    children: dict[str | None, list[RunInfo]] = {}
    for info in runs:
        children.setdefault(info.parent_id, []).append(info)
    ordered: list[RunInfo] = []
    stack = list(reversed(children.get(root_id, [])))
    while stack:
        info = stack.pop()
        ordered.append(info)
        stack.extend(reversed(children.get(info.id, [])))
    return ordered
