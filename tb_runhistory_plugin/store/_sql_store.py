"""The SQL both relational stores share: the same statements, the same row decoding, written once.

SQLiteStore and PostgresStore supply connections and transactions (`_read`, `_write`,
`_execute`) and the few dialect differences as class attributes: the parameter mark (`?` or
`%s`), how a list of ids is matched, an index hint. Statements are written here with `?` and
translated once per backend class. What genuinely differs (appending chunks, locking, upserts,
where files live) stays in the backend files.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Iterator, Sequence, TypeVar

from .._types import ChunkSummaries, ExperimentInfo, FileInfo, MetricHistory, MetricInfo, MetricKind, Record, RunInfo
from ..errors import InvalidArgumentError, NotFoundError
from . import _chunks
from ._base import Store
from ._sql import RUN_COLUMNS, clamp, run_infos, stored_json

METRIC_COLUMNS = "run_id, name, kind, value_type, count, last_step, last_value, last_wall_time, description"
_RECORD_KINDS = (MetricKind.TABLE, MetricKind.IMAGE, MetricKind.HISTOGRAM)
_T = TypeVar("_T")


class SQLStore(Store):
    """Store methods whose SQL is the same on SQLite and PostgreSQL; subclasses give connections and dialect."""

    _MARK = "?"  # the dialect's parameter mark
    _SUMMARY_HINT = ""  # text after "FROM chunks" in the summaries query (SQLite names its covering index)
    _queries: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._queries = {}  # statements translated to this dialect, built once each

    # -- what a backend provides ---------------------------------------------
    @abc.abstractmethod
    def _read(self, fn: Callable[[Any], _T]) -> _T:
        """Run fn(handle) in one read transaction (one snapshot)."""

    @abc.abstractmethod
    def _write(self, fn: Callable[[Any], _T]) -> _T:
        """Run fn(handle) in one write transaction that may be retried whole."""

    def _execute(self, handle: Any, query: str, args: Sequence[Any] = (), *, binary: bool = False) -> Any:
        """Execute a statement already in this dialect; returns a cursor (`binary`: blobs as bytes, where it matters)."""
        return handle.execute(query, args)

    def _select_in(self, handle: Any, query: str, ids: list[str], args: Sequence[Any] = ()) -> Iterator[tuple]:
        """Rows of `query` (with `{in}` where "matches one of ids" goes, after `args`) for every id."""
        if ids:
            yield from self._execute(handle, self._q(query.format(**{"in": "= ANY(?)"})), [*args, ids])

    def _last_value(self, stored: Any) -> float | None:
        """The metrics.last_value column as a float (SQLite keeps it as a blob)."""
        return stored

    # -- shared helpers --------------------------------------------------------
    def _q(self, text: str) -> str:
        """A statement written with `?` marks, in this dialect."""
        query = self._queries.get(text)
        if query is None:
            query = self._queries[text] = text.replace("?", self._MARK) if self._MARK != "?" else text
        return query

    def _runs_from_rows(self, handle: Any, rows: list[tuple]) -> list[RunInfo]:
        """RunInfos from RUN_COLUMNS rows, with their tags and properties."""
        ids = [row[0] for row in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        props: dict[str, dict[str, Any]] = {i: {} for i in ids}
        for run_id, key, value in self._select_in(handle, "SELECT run_id, key, value FROM tags WHERE run_id {in} ORDER BY key", ids):
            tags[run_id][key] = value
        for run_id, key, value in self._select_in(handle, "SELECT run_id, key, value FROM properties WHERE run_id {in} ORDER BY key", ids):
            props[run_id][key] = stored_json(value, f"property {key!r} of run {run_id!r}")
        return run_infos(rows, tags, props)

    def _metric_infos(self, rows: list[tuple]) -> list[MetricInfo]:
        return [
            MetricInfo(
                run_id=r[0],
                name=r[1],
                kind=r[2],
                value_type=r[3] or "float",
                count=r[4],
                last_step=r[5],
                last_value=self._last_value(r[6]),
                last_wall_time=r[7],
                description=r[8],
            )
            for r in rows
        ]

    def _require_run(self, handle: Any, run_id: str) -> str:
        """The run's stored status; NotFoundError when there is no such run."""
        row = self._execute(handle, self._q("SELECT status FROM runs WHERE id = ?"), (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
        return row[0]

    def _metric(self, handle: Any, run_id: str, name: str, kinds: tuple[str, ...]) -> tuple[int, int]:
        """(id, count) of a metric of one of `kinds`."""
        row = self._execute(handle, self._q("SELECT id, kind, count FROM metrics WHERE run_id = ? AND name = ?"), (run_id, name)).fetchone()
        if row is None:
            self._require_run(handle, run_id)
            raise NotFoundError(f"run {run_id!r} has no metric {name!r}")
        if row[1] not in kinds:
            raise InvalidArgumentError(f"metric {name!r} of run {run_id!r} holds {row[1]} data, not {' or '.join(kinds)} data")
        return row[0], row[2]

    # -- experiments and runs --------------------------------------------------
    def get_experiment(self, name_or_id: str) -> ExperimentInfo:
        query = self._q("SELECT id, name, created_at FROM experiments WHERE id = ? OR name = ? ORDER BY (id = ?) DESC LIMIT 1")
        row = self._read(lambda handle: self._execute(handle, query, (name_or_id,) * 3).fetchone())
        if row is None:
            raise NotFoundError(f"no experiment {name_or_id!r} in store {self.uri}")
        return ExperimentInfo(*row)

    def list_experiments(self) -> list[ExperimentInfo]:
        query = "SELECT id, name, created_at FROM experiments ORDER BY created_at, name"
        return [ExperimentInfo(*row) for row in self._read(lambda handle: self._execute(handle, query).fetchall())]

    def get_run(self, run_id: str) -> RunInfo:
        def select_run(handle: Any) -> RunInfo:
            rows = self._execute(handle, self._q(f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?"), (run_id,)).fetchall()
            if not rows:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            return self._runs_from_rows(handle, rows)[0]

        return self._read(select_run)

    def set_logs_dir(self, run_id: str, logs_dir: str | None) -> None:
        def update_logs_dir(handle: Any) -> None:
            self._require_run(handle, run_id)
            self._execute(handle, self._q("UPDATE runs SET logs_dir = ? WHERE id = ?"), (logs_dir, run_id))

        self._write(update_logs_dir)

    # -- metrics -----------------------------------------------------------------
    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        def select_metrics(handle: Any) -> list[MetricInfo]:
            self._require_run(handle, run_id)
            query = self._q(f"SELECT {METRIC_COLUMNS} FROM metrics WHERE run_id = ? ORDER BY name")
            return self._metric_infos(self._execute(handle, query, (run_id,)).fetchall())

        return self._read(select_metrics)

    def last_values(self, run_ids: Sequence[str]) -> dict[str, list[MetricInfo]]:
        ids = list(run_ids)

        def select_last_values(handle: Any) -> dict[str, list[MetricInfo]]:
            found: dict[str, list[MetricInfo]] = {i: [] for i in ids}
            rows = list(self._select_in(handle, f"SELECT {METRIC_COLUMNS} FROM metrics WHERE run_id {{in}} ORDER BY name", ids))
            for info in self._metric_infos(rows):
                found[info.run_id].append(info)
            return found

        return self._read(select_last_values)

    def read_scalars(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> MetricHistory:
        def select_points(handle: Any) -> MetricHistory:
            metric_id, count = self._metric(handle, run_id, name, (MetricKind.SCALAR,))
            lo, hi = clamp(start, stop, count)
            first = lo - lo % _chunks.CHUNK_POINTS
            query = self._q(
                'SELECT "offset", count, step_min, steps, wall_times, vals FROM chunks'
                ' WHERE metric_id = ? AND "offset" >= ? AND "offset" < ? ORDER BY "offset"'
            )
            rows = self._execute(handle, query, (metric_id, first, hi), binary=True).fetchall()
            return _chunks.history(name, rows, lo, hi, run_id=run_id)

        return self._read(select_points)

    def read_summaries(self, run_id: str, name: str) -> ChunkSummaries:
        def select_summaries(handle: Any) -> ChunkSummaries:
            metric_id, total = self._metric(handle, run_id, name, (MetricKind.SCALAR,))
            query = self._q(
                f'SELECT "offset", count, step_min, step_max, wall_min, wall_max, summary FROM chunks{self._SUMMARY_HINT}'
                ' WHERE metric_id = ? ORDER BY "offset"'
            )
            rows = self._execute(handle, query, (metric_id,), binary=True).fetchall()
            return _chunks.summaries(rows, run_id=run_id, name=name, total=total)

        return self._read(select_summaries)

    def read_records(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> list[Record]:
        def select_records(handle: Any) -> list[Record]:
            metric_id, count = self._metric(handle, run_id, name, _RECORD_KINDS)
            lo, hi = clamp(start, stop, count)
            query = self._q("SELECT step, wall_time, meta, data FROM records WHERE metric_id = ? AND idx >= ? AND idx < ? ORDER BY idx")
            what = f"a record of metric {name!r} of run {run_id!r}"
            return [
                Record(step, wall, stored_json(meta, what), data if data is None or isinstance(data, bytes) else bytes(data))
                for step, wall, meta, data in self._execute(handle, query, (metric_id, lo, hi)).fetchall()
            ]

        return self._read(select_records)

    # -- files -------------------------------------------------------------------
    def list_files(self, run_id: str) -> list[FileInfo]:
        def select_files(handle: Any) -> list[FileInfo]:
            self._require_run(handle, run_id)
            query = self._q("SELECT name, size, created_at FROM files WHERE run_id = ? ORDER BY name")
            return [FileInfo(*row) for row in self._execute(handle, query, (run_id,)).fetchall()]

        return self._read(select_files)
