"""The SQL both relational stores share: the same statements, the same row decoding, written once.

SQLiteStore and PostgresStore supply connections and transactions (`_read`, `_write`,
`_execute`) and the few dialect differences as class attributes: the parameter mark (`?` or
`%s`), how a list of ids is matched, an index hint. Statements are written here with `?` and
translated once per backend class. What genuinely differs (appending chunks, locking, upserts,
where files live) stays in the backend files.
"""

from __future__ import annotations

import abc
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .._types import (
    RECORD_KINDS,
    TERMINAL_STATUSES,
    ChunkSummaries,
    ExperimentInfo,
    FileInfo,
    MetricHistory,
    MetricInfo,
    MetricKind,
    Record,
    RunInfo,
    Status,
)
from ..errors import ConflictError, InvalidArgumentError, NotFoundError
from . import _chunks
from ._base import Store
from ._sql import RUN_COLUMNS, clamp, property_json, run_filter, run_infos, stored_json

METRIC_COLUMNS = "run_id, name, kind, value_type, count, last_step, last_value, last_wall_time, description"
_T = TypeVar("_T")


class SQLStore(Store):
    """Store methods whose SQL is the same on SQLite and PostgreSQL; subclasses give connections and dialect."""

    _MARK = "?"  # the dialect's parameter mark
    _SUMMARY_HINT = ""  # text after "FROM chunks" in the summaries query (SQLite names its covering index)
    _CONTAINS = "{col} LIKE {mark} ESCAPE '\\'"  # a case-insensitive substring match (see _sql.run_filter)
    _CREATION_ORDER = "r.rowid"  # the column that orders runs started at the same time
    _NO_LIMIT: int | None = -1  # what LIMIT takes to mean "all rows"
    _ROW_LOCKS = False  # whether SELECT ... FOR UPDATE exists (SQLite has one writer at a time instead)
    _queries: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._queries = {}  # statements translated to this dialect, built once each

    # -- what a backend provides ---------------------------------------------
    @abc.abstractmethod
    def _read(self, fn: Callable[[Any], _T]) -> _T:
        """Run fn(handle) in one read transaction (one snapshot)."""

    @abc.abstractmethod
    def _write(self, fn: Callable[[Any], _T], *, idempotent: bool = True) -> _T:
        """Run fn(handle) in one write transaction; one that is not `idempotent` is never retried once sent."""

    def _execute(self, handle: Any, query: str, args: Sequence[Any] = (), *, binary: bool = False) -> Any:
        """Execute a statement already in this dialect; returns a cursor (`binary`: blobs as bytes, where it matters)."""
        return handle.execute(query, args)

    def _in_statements(self, query: str, ids: list[str], args: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
        """`query` (with `{in}` where "matches one of ids" goes, after `args`) as statements covering every id."""
        if ids:
            yield self._q(query.format(**{"in": "= ANY(?)"})), [*args, ids]

    def _select_in(self, handle: Any, query: str, ids: list[str], args: Sequence[Any] = ()) -> Iterator[tuple]:
        """Rows of `query` for every id (see _in_statements)."""
        for statement, values in self._in_statements(query, ids, args):
            yield from self._execute(handle, statement, values)

    def _lock(self, mode: str) -> str:
        """A row-lock clause (" FOR UPDATE") where the dialect has them."""
        return f" FOR {mode}" if self._ROW_LOCKS else ""

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
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        def find_or_insert_experiment(handle: Any) -> ExperimentInfo:
            insert = self._q("INSERT INTO experiments VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
            self._execute(handle, insert, (uuid.uuid4().hex, name, time.time()))
            return ExperimentInfo(*self._execute(handle, self._q("SELECT id, name, created_at FROM experiments WHERE name = ?"), (name,)).fetchone())

        return self._write(find_or_insert_experiment)

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
    ) -> RunInfo:
        props = {key: property_json(key, value) for key, value in (properties or {}).items()}

        def insert_run(handle: Any) -> RunInfo:
            if self._execute(handle, self._q("SELECT 1 FROM experiments WHERE id = ?"), (experiment_id,)).fetchone() is None:
                raise NotFoundError(f"no experiment {experiment_id!r} in store {self.uri}")
            if self._execute(handle, self._q("SELECT 1 FROM runs WHERE id = ?"), (run_id,)).fetchone() is not None:
                raise ConflictError(f"run {run_id!r} already exists")
            if parent_id is not None:
                query = self._q(f"SELECT experiment_id FROM runs WHERE id = ?{self._lock('KEY SHARE')}")
                parent = self._execute(handle, query, (parent_id,)).fetchone()
                if parent is None:
                    raise NotFoundError(f"no parent run {parent_id!r} in store {self.uri}")
                if parent[0] != experiment_id:
                    raise InvalidArgumentError(f"parent run {parent_id!r} belongs to another experiment")
            cur = self._execute(
                handle,
                self._q(
                    "INSERT INTO runs (id, experiment_id, parent_id, display_name, description, status, start_time, heartbeat_time, logs_dir)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
                ),
                (run_id, experiment_id, parent_id, display_name, description, str(Status.RUNNING), start_time, start_time, logs_dir),
            )
            if cur.rowcount == 0:  # created by a concurrent transaction since our check
                raise ConflictError(f"run {run_id!r} already exists")
            if tags:
                handle.executemany(self._q("INSERT INTO tags VALUES (?, ?, ?)"), [(run_id, k, v) for k, v in tags.items()])
            if props:
                handle.executemany(self._q("INSERT INTO properties VALUES (?, ?, ?)"), [(run_id, k, v) for k, v in props.items()])
            return self._runs_from_rows(handle, self._execute(handle, self._q(f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?"), (run_id,)).fetchall())[0]

        return self._write(insert_run, idempotent=False)

    def list_runs(
        self,
        experiment_id: str,
        *,
        parent_id: str | None = None,
        status: Sequence[str] | None = None,
        tags: Mapping[str, str | None] | None = None,
        text: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RunInfo]:
        where, args = run_filter(experiment_id, parent_id, status, tags, text, mark=self._MARK, contains=self._CONTAINS)
        limit = None if limit is None or int(limit) < 0 else int(limit)  # a negative limit means no limit
        args += [self._NO_LIMIT if limit is None else limit, max(0, int(offset))]
        order = self._q(f" ORDER BY r.start_time, {self._CREATION_ORDER} LIMIT ? OFFSET ?")
        query = f"SELECT {RUN_COLUMNS} FROM runs r WHERE {where}{order}"
        return self._read(lambda handle: self._runs_from_rows(handle, self._execute(handle, query, args).fetchall()))

    def count_runs(
        self,
        experiment_id: str,
        *,
        parent_id: str | None = None,
        status: Sequence[str] | None = None,
        tags: Mapping[str, str | None] | None = None,
        text: str | None = None,
    ) -> int:
        where, args = run_filter(experiment_id, parent_id, status, tags, text, mark=self._MARK, contains=self._CONTAINS)
        return self._read(lambda handle: self._execute(handle, f"SELECT COUNT(*) FROM runs r WHERE {where}", args).fetchone()[0])

    def set_run_status(self, run_id: str, status: str, *, end_time: float | None = None, error: str | None = None, traceback: str | None = None) -> RunInfo:
        if status not in TERMINAL_STATUSES:
            raise InvalidArgumentError(f"a run can only be moved to {sorted(TERMINAL_STATUSES)}, not {status!r}")

        def end_run(handle: Any) -> RunInfo:
            # FOR UPDATE (PostgreSQL) waits for metric writes in flight: they hold KEY SHARE on the run.
            row = self._execute(handle, self._q(f"SELECT status FROM runs WHERE id = ?{self._lock('UPDATE')}"), (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            if row[0] in TERMINAL_STATUSES:
                raise ConflictError(f"run {run_id!r} already ended as {row[0]}")
            self._execute(
                handle,
                self._q("UPDATE runs SET status = ?, end_time = ?, error = ?, traceback = ? WHERE id = ?"),
                (str(status), end_time if end_time is not None else time.time(), error, traceback, run_id),
            )
            return self._runs_from_rows(handle, self._execute(handle, self._q(f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?"), (run_id,)).fetchall())[0]

        return self._write(end_run, idempotent=False)

    def heartbeat(self, run_ids: Sequence[str], time: float) -> None:
        ids = list(run_ids)

        def touch_runs(handle: Any) -> None:
            for statement, values in self._in_statements("UPDATE runs SET heartbeat_time = ? WHERE status = ? AND id {in}", ids, [time, str(Status.RUNNING)]):
                self._execute(handle, statement, values)

        if ids:
            self._write(touch_runs)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        def upsert_tags(handle: Any) -> None:
            self._require_run(handle, run_id)
            if tags:
                query = self._q("INSERT INTO tags VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value")
                handle.executemany(query, [(run_id, k, v) for k, v in tags.items()])

        self._write(upsert_tags)

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        def delete_tags(handle: Any) -> None:
            self._require_run(handle, run_id)
            for statement, values in self._in_statements("DELETE FROM tags WHERE run_id = ? AND key {in}", list(keys), [run_id]):
                self._execute(handle, statement, values)

        self._write(delete_tags)

    def add_properties(self, run_id: str, properties: Mapping[str, Any]) -> None:
        encoded = {key: property_json(key, value) for key, value in properties.items()}

        def insert_properties(handle: Any) -> None:
            # Lock the run (PostgreSQL) so two writers of the same new key cannot both pass the check.
            if self._execute(handle, self._q(f"SELECT 1 FROM runs WHERE id = ?{self._lock('NO KEY UPDATE')}"), (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            existing = dict(self._execute(handle, self._q("SELECT key, value FROM properties WHERE run_id = ?"), (run_id,)).fetchall())
            for key in encoded:
                # Compare the stored JSON text, so 1, 1.0 and True count as different values.
                if key in existing and existing[key] != encoded[key]:
                    shown = stored_json(existing[key], f"property {key!r} of run {run_id!r}")
                    raise ConflictError(f"property {key!r} of run {run_id!r} is already {shown!r}; properties cannot change (use tags)")
            if encoded:
                query = self._q("INSERT INTO properties VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                handle.executemany(query, [(run_id, k, v) for k, v in encoded.items()])

        self._write(insert_properties)

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
                'SELECT "offset", count, step_min, steps, wall_times, vals FROM chunks WHERE metric_id = ? AND "offset" >= ? AND "offset" < ? ORDER BY "offset"'
            )
            rows = self._execute(handle, query, (metric_id, first, hi), binary=True).fetchall()
            return _chunks.history(name, rows, lo, hi, run_id=run_id)

        return self._read(select_points)

    def read_summaries(self, run_id: str, name: str) -> ChunkSummaries:
        def select_summaries(handle: Any) -> ChunkSummaries:
            metric_id, total = self._metric(handle, run_id, name, (MetricKind.SCALAR,))
            query = self._q(
                f'SELECT "offset", count, step_min, step_max, wall_min, wall_max, summary FROM chunks{self._SUMMARY_HINT} WHERE metric_id = ? ORDER BY "offset"'
            )
            rows = self._execute(handle, query, (metric_id,), binary=True).fetchall()
            return _chunks.summaries(rows, run_id=run_id, name=name, total=total)

        return self._read(select_summaries)

    def read_records(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> list[Record]:
        def select_records(handle: Any) -> list[Record]:
            metric_id, count = self._metric(handle, run_id, name, RECORD_KINDS)
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
