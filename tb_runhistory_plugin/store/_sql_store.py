"""The SQL both relational stores share: the same statements, the same row decoding, written once.

SQLiteStore and PostgresStore supply connections and transactions (`_read`, `_write`,
`_execute`) and the few dialect differences as class attributes: the parameter mark (`?` or
`%s`), how a list of ids is matched, an index hint. Statements are written here with `?` and
translated once per backend class. What genuinely differs stays in the backend files, behind
small hooks: how metric rows are fetched for a write and how rows are bulk-inserted (PostgreSQL
locks and COPYs), and where a file's bytes live (SQLite: on disk; PostgreSQL: in its row).
"""

from __future__ import annotations

import abc
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .._filter import ALL_RUNS, RunFilter
from .._types import (
    RECORD_KINDS,
    TERMINAL_STATUSES,
    ChunkSummaries,
    ExperimentInfo,
    FileInfo,
    MetricHistory,
    MetricInfo,
    MetricKind,
    NewRun,
    Record,
    RecordBatch,
    RunInfo,
    ScalarBatch,
    Status,
    default_run_type,
)
from .._validate import check_name, check_param_value, param_type
from ..errors import ConflictError, InvalidArgumentError, NotFoundError
from . import _batches, _chunks
from ._base import Store, depth_first
from ._query import SQLITE, Compiler
from ._sql import RUN_COLUMNS, check_file_ref, clamp, param_row, param_value, property_json, run_infos, stored_json

SUMMARIES_MIGRATION = "_params_and_metric_summaries"  # the migration after which _backfill_summaries runs
METRIC_COLUMNS = "run_id, name, kind, value_type, count, last_step, last_value, last_wall_time, description"
# Columns of the rows write_metrics bulk-inserts, by table.
INSERT_COLUMNS = {
    "chunks": ("metric_id", '"offset"', "count", "step_min", "step_max", "wall_min", "wall_max", "summary", "steps", "wall_times", "vals"),
    "records": ("metric_id", "idx", "step", "wall_time", "meta", "data"),
}
_BATCH_MEMORY = 7 * 86_400.0  # seconds a write_metrics batch id is remembered
_PRUNE_EVERY = 600.0  # seconds between prunes of old batch ids
_T = TypeVar("_T")


class SQLStore(Store):
    """Store methods whose SQL is the same on SQLite and PostgreSQL; subclasses give connections and dialect."""

    _MARK = "?"  # the dialect's parameter mark
    _SUMMARY_HINT = ""  # text after "FROM chunks" in the summaries query (SQLite names its covering index)
    _DIALECT = SQLITE  # how filters are spelt (see _query.Dialect)
    _NO_LIMIT: int | None = -1  # what LIMIT takes to mean "all rows"
    _ROW_LOCKS = False  # whether SELECT ... FOR UPDATE exists (SQLite has one writer at a time instead)
    _FILE_DATA_IN_ROW = True  # a file's bytes in its `files` row (PostgreSQL); SQLite keeps them on disk
    _last_prune = float("-inf")  # time.monotonic() of the last prune of old batch ids
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

    def _stored_float(self, value: float) -> Any:
        """A float as the metrics.last_value column keeps it (the inverse of _last_value)."""
        return value

    def _select_metrics(self, handle: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[Any]]:
        """Existing metric rows of (run id, name) keys, locked for the write where the dialect locks rows:
        (run id, name) -> [id, kind, value_type, count, last_step]."""
        query = self._q(f"SELECT id, kind, value_type, count, last_step FROM metrics WHERE run_id = ? AND name = ?{self._lock('UPDATE')}")
        return {key: list(self._execute(handle, query, key).fetchone()) for key in keys}

    def _take_tails(self, handle: Any, tails: list[tuple[int, int]]) -> dict[int, tuple]:
        """Delete the partial last chunks (metric id, offset) a write extends; metric id -> (step_min, count, steps, wall_times, vals)."""
        query = self._q('DELETE FROM chunks WHERE metric_id = ? AND "offset" = ? RETURNING metric_id, step_min, count, steps, wall_times, vals')
        rows = (self._execute(handle, query, tail, binary=True).fetchone() for tail in tails)
        return {row[0]: tuple(row[1:]) for row in rows if row is not None}

    def _insert_rows(self, handle: Any, table: str, rows: list[tuple]) -> None:
        """Insert rows of INSERT_COLUMNS[table] (PostgreSQL COPYs them)."""
        if rows:
            columns = INSERT_COLUMNS[table]
            handle.executemany(self._q(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"), rows)

    def _keep_file(self, run_id: str, name: str, data: bytes | None, path: str | None) -> tuple[int, tuple[Any, ...]]:
        """Put a file's bytes (`data`, or the file at `path`) where the backend keeps them:
        (size, the values of the row's data column if it has one). A backend that keeps them outside
        the database checks the run exists first."""
        if data is None:
            assert path is not None
            with open(path, "rb") as source:
                data = source.read()
        data = bytes(data)
        return len(data), (data,)

    def _file_bytes(self, run_id: str, name: str, stored: Any) -> bytes:
        """A listed file's bytes, given what its row holds in the data column (NULL when it lives elsewhere)."""
        return bytes(stored)

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
        params: dict[str, dict[str, Any]] = {i: {} for i in ids}
        for run_id, key, kind, num, text in self._select_in(handle, "SELECT run_id, key, type, num, text FROM params WHERE run_id {in} ORDER BY key", ids):
            params[run_id][key] = param_value(kind, num, text)
        return run_infos(rows, tags, props, params)

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
        run_type: str | None = None,
    ) -> RunInfo:
        new = NewRun(run_id, display_name, start_time, parent_id, description, dict(tags or {}), dict(properties or {}), logs_dir, run_type)
        return self.create_runs(experiment_id, [new])[0]

    def create_runs(self, experiment_id: str, runs: Sequence[NewRun]) -> list[RunInfo]:
        news = list(runs)
        encoded = [{key: property_json(key, value) for key, value in new.properties.items()} for new in news]
        ids = [new.run_id for new in news]
        if len(set(ids)) != len(ids):
            raise ConflictError(f"run {next(i for i in ids if ids.count(i) > 1)!r} is asked for twice")

        def insert_runs(handle: Any) -> list[RunInfo]:
            if self._execute(handle, self._q("SELECT 1 FROM experiments WHERE id = ?"), (experiment_id,)).fetchone() is None:
                raise NotFoundError(f"no experiment {experiment_id!r} in store {self.uri}")
            made: set[str] = set()
            for new, props in zip(news, encoded, strict=True):
                self._insert_run(handle, experiment_id, new, props, made)
                made.add(new.run_id)
            rows = list(self._select_in(handle, f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id {{in}}", ids))
            by_id = {info.id: info for info in self._runs_from_rows(handle, rows)}
            return [by_id[i] for i in ids]

        return self._write(insert_runs, idempotent=False) if news else []

    def _insert_run(self, handle: Any, experiment_id: str, new: NewRun, props: Mapping[str, str], made: set[str]) -> None:
        """Insert one run of create_runs (its parent may be one made just before in the same transaction)."""
        run_id, parent_id = new.run_id, new.parent_id
        if self._execute(handle, self._q("SELECT 1 FROM runs WHERE id = ?"), (run_id,)).fetchone() is not None:
            raise ConflictError(f"run {run_id!r} already exists")
        if parent_id is not None and parent_id not in made:
            query = self._q(f"SELECT experiment_id FROM runs WHERE id = ?{self._lock('KEY SHARE')}")
            parent = self._execute(handle, query, (parent_id,)).fetchone()
            if parent is None:
                raise NotFoundError(f"no parent run {parent_id!r} in store {self.uri}")
            if parent[0] != experiment_id:
                raise InvalidArgumentError(f"parent run {parent_id!r} belongs to another experiment")
        run_type = new.run_type if new.run_type is not None else default_run_type(parent_id)
        cur = self._execute(
            handle,
            self._q(
                "INSERT INTO runs (id, experiment_id, parent_id, display_name, description, status, start_time, heartbeat_time, logs_dir, run_type)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
            ),
            (run_id, experiment_id, parent_id, new.display_name, new.description, str(Status.RUNNING), new.start_time, new.start_time, new.logs_dir, run_type),
        )
        if cur.rowcount == 0:  # created by a concurrent transaction since our check
            raise ConflictError(f"run {run_id!r} already exists")
        if new.tags:
            handle.executemany(self._q("INSERT INTO tags VALUES (?, ?, ?)"), [(run_id, k, v) for k, v in new.tags.items()])
        if props:
            handle.executemany(self._q("INSERT INTO properties VALUES (?, ?, ?)"), [(run_id, k, v) for k, v in props.items()])

    def list_runs(self, experiment_id: str, filter: RunFilter | None = None, *, limit: int | None = None, offset: int = 0) -> list[RunInfo]:
        compiler = Compiler(filter or ALL_RUNS, experiment_id, self._DIALECT)
        limit = None if limit is None or int(limit) < 0 else int(limit)  # a negative limit means no limit
        query, args = compiler.select("r.id", paged=True, limit=limit, offset=max(0, int(offset)), no_limit=self._NO_LIMIT)

        def select_page(handle: Any) -> list[RunInfo]:
            # The page's ids first (cheap columns only), then its rows: the child counts and other
            # columns are read for the page, not for every run that matched before the limit.
            page = self._execute(handle, query, args).fetchall()
            found = {row[0]: row for row in self._select_in(handle, f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id {{in}}", [p[0] for p in page])}
            return self._runs_from_rows(handle, [(*found[p[0]], *p[1:]) for p in page if p[0] in found])

        return self._read(select_page)

    def count_runs(self, experiment_id: str, filter: RunFilter | None = None) -> int:
        query, args = Compiler(filter or ALL_RUNS, experiment_id, self._DIALECT).select("COUNT(*)", paged=False)
        return self._read(lambda handle: self._execute(handle, query, args).fetchone()[0])

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
                self._q("UPDATE runs SET status = ?, end_time = ?, error = ?, traceback = ?, error_code = ? WHERE id = ?"),
                (str(status), end_time if end_time is not None else time.time(), error, traceback, error_code, run_id),
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

    def list_descendants(self, run_id: str) -> list[RunInfo]:
        query = self._q(
            "WITH RECURSIVE tree(id) AS (SELECT id FROM runs WHERE parent_id = ?"
            " UNION ALL SELECT r.id FROM runs r JOIN tree ON r.parent_id = tree.id)"
            f" SELECT {RUN_COLUMNS} FROM tree JOIN runs r ON r.id = tree.id ORDER BY r.start_time, {self._DIALECT.creation}"
        )

        def select_descendants(handle: Any) -> list[RunInfo]:
            self._require_run(handle, run_id)
            # Siblings come in (start time, creation order); depth_first keeps that order at every level.
            return depth_first(run_id, self._runs_from_rows(handle, self._execute(handle, query, (run_id,)).fetchall()))

        return self._read(select_descendants)

    def add_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        checked = {check_name(key, "param name"): check_param_value(key, value) for key, value in params.items()}

        def insert_params(handle: Any) -> None:
            # Lock the run (PostgreSQL) so two writers of the same new key cannot both pass the check.
            if self._execute(handle, self._q(f"SELECT 1 FROM runs WHERE id = ?{self._lock('NO KEY UPDATE')}"), (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            rows = self._execute(handle, self._q("SELECT key, type, num, text FROM params WHERE run_id = ?"), (run_id,)).fetchall()
            existing = {key: param_value(kind, num, text) for key, kind, num, text in rows}
            for key, value in checked.items():
                # Same type and value only: 1, 1.0 and True are different params.
                if key in existing and (param_type(existing[key]) != param_type(value) or existing[key] != value):
                    raise ConflictError(f"param {key!r} of run {run_id!r} is already {existing[key]!r}; it cannot change to {value!r}")
            new = [(run_id, key, *param_row(value)) for key, value in checked.items() if key not in existing]
            if new:
                handle.executemany(self._q("INSERT INTO params VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"), new)

        self._write(insert_params)

    def _backfill_summaries(self, handle: Any) -> None:
        """Fill the metric summary columns of series written before they existed, from their chunks' summaries."""
        metrics = self._execute(handle, self._q("SELECT id, last_value FROM metrics WHERE kind = 'scalar' AND count > 0")).fetchall()
        for metric_id, last in metrics:
            rows = self._execute(handle, self._q("SELECT summary FROM chunks WHERE metric_id = ?"), (metric_id,), binary=True).fetchall()
            summary = _chunks.combined_summary([r[0] for r in rows], self._last_value(last))
            query = self._q("UPDATE metrics SET s_sum = 0, s_finite = 0 WHERE id = ?")
            self._execute(handle, query, (metric_id,))
            self._execute(handle, self._q(f"UPDATE metrics SET {_chunks.SUMMARY_UPDATE} WHERE id = ?"), (*_chunks.summary_args(summary), metric_id))

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

    # -- writing metrics -------------------------------------------------------
    def write_metrics(self, scalars: Sequence[ScalarBatch] = (), records: Sequence[RecordBatch] = (), *, batch_id: str | None = None) -> None:
        """Append points atomically; with `batch_id`, a batch id already applied is a no-op."""
        scalars = [b for b in scalars if len(b.steps)]
        records = [b for b in records if b.records]
        if not scalars and not records and batch_id is None:
            return

        def append_batches(handle: Any) -> None:
            if batch_id is not None:
                # A concurrent retry of the same batch waits here until the first one commits (PostgreSQL).
                insert = self._q("INSERT INTO batches VALUES (?, ?) ON CONFLICT DO NOTHING")
                if self._execute(handle, insert, (batch_id, time.time())).rowcount == 0:
                    return  # applied before: a retry after a lost answer
            metrics = self._lock_metrics(handle, scalars, records)
            self._append_scalars(handle, scalars, metrics)
            self._append_records(handle, records, metrics)

        self._write(append_batches, idempotent=batch_id is not None)
        if batch_id is not None and time.monotonic() - self._last_prune > _PRUNE_EVERY:
            self._last_prune = time.monotonic()
            prune = self._q("DELETE FROM batches WHERE applied_at < ?")
            self._write(lambda handle: self._execute(handle, prune, (time.time() - _BATCH_MEMORY,)))

    def _lock_metrics(self, handle: Any, scalars: list[ScalarBatch], records: list[RecordBatch]) -> dict[tuple[str, str], list[Any]]:
        """Check the runs, create missing metric rows and lock them all; (run id, name) -> [id, kind, value_type, count, last_step]."""
        order: list[tuple[str, str, str, str]] = [(b.run_id, b.name, str(MetricKind.SCALAR), b.description) for b in scalars]
        order += [(b.run_id, b.name, str(b.kind), b.description) for b in records]
        wanted: dict[tuple[str, str], tuple[str, str]] = {}  # first kind and description of each series, in call order
        for run_id, name, kind, description in order:
            wanted.setdefault((run_id, name), (kind, description))
        run_ids = list(dict.fromkeys(run_id for run_id, *_ in order))
        # Runs, then metrics, are locked in sorted order so concurrent writers never deadlock (PostgreSQL).
        query = f"SELECT id, status FROM runs WHERE id {{in}} ORDER BY id{self._lock('KEY SHARE')}"
        statuses: dict[str, str] = dict(self._select_in(handle, query, sorted(run_ids)))
        for run_id in run_ids:
            if run_id not in statuses:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            if statuses[run_id] in TERMINAL_STATUSES:
                raise ConflictError(f"run {run_id!r} already ended as {statuses[run_id]}; it takes no more metrics")
        keys = sorted(wanted)
        insert = self._q("INSERT INTO metrics (run_id, name, kind, description) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, name) DO NOTHING")
        handle.executemany(insert, [(run_id, name, *wanted[run_id, name]) for run_id, name in keys])
        metrics = self._select_metrics(handle, keys)
        for run_id, name, kind, _ in order:
            if metrics[run_id, name][1] != kind:
                raise ConflictError(f"metric {name!r} of run {run_id!r} holds {metrics[run_id, name][1]} data, not {kind} data")
        return metrics

    def _append_scalars(self, handle: Any, scalars: list[ScalarBatch], metrics: dict[tuple[str, str], list[Any]]) -> None:
        grouped = _batches.by_series(scalars)
        if not grouped:
            return
        tails = _batches.tails(grouped, metrics)
        tail_rows = self._take_tails(handle, tails) if tails else {}
        chunk_rows, updates = _batches.scalar_rows(grouped, metrics, tail_rows, self._stored_float)
        self._insert_rows(handle, "chunks", chunk_rows)
        update = self._q(
            "UPDATE metrics SET count = ?, value_type = ?, last_step = ?, last_value = ?, last_wall_time = ?,"
            f" description = CASE WHEN description = '' THEN ? ELSE description END, {_chunks.SUMMARY_UPDATE} WHERE id = ?"
        )
        handle.executemany(update, updates)

    def _append_records(self, handle: Any, records: list[RecordBatch], metrics: dict[tuple[str, str], list[Any]]) -> None:
        grouped = _batches.by_series(records)
        if not grouped:
            return
        rows, updates = _batches.record_rows(grouped, metrics)
        self._insert_rows(handle, "records", rows)
        update = self._q(
            "UPDATE metrics SET count = ?, last_step = ?, last_wall_time = ?, description = CASE WHEN description = '' THEN ? ELSE description END WHERE id = ?"
        )
        handle.executemany(update, updates)

    # -- files -------------------------------------------------------------------
    def put_file(self, run_id: str, name: str, data: bytes) -> FileInfo:
        return self._put_file(run_id, name, data, None)

    def put_file_from_path(self, run_id: str, name: str, path: str) -> FileInfo:
        return self._put_file(run_id, name, None, path)

    def _put_file(self, run_id: str, name: str, data: bytes | None, path: str | None) -> FileInfo:
        check_file_ref(run_id, name)
        size, row_data = self._keep_file(run_id, name, data, path)
        info = FileInfo(name, size, time.time())
        columns, marks, updates = "run_id, name, size, created_at", "?, ?, ?, ?", "size = excluded.size, created_at = excluded.created_at"
        if self._FILE_DATA_IN_ROW:
            columns, marks, updates = f"{columns}, data", f"{marks}, ?", f"{updates}, data = excluded.data"
        upsert = self._q(f"INSERT INTO files ({columns}) VALUES ({marks}) ON CONFLICT (run_id, name) DO UPDATE SET {updates}")

        def upsert_file(handle: Any) -> None:
            self._require_run(handle, run_id)
            self._execute(handle, upsert, (run_id, name, info.size, info.created_at, *row_data))

        self._write(upsert_file)
        return info

    def read_file(self, run_id: str, name: str) -> bytes:
        query = self._q(f"SELECT {'data' if self._FILE_DATA_IN_ROW else 'NULL'} FROM files WHERE run_id = ? AND name = ?")
        row = self._read(lambda handle: self._execute(handle, query, (run_id, name), binary=True).fetchone())
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no file {name!r}")
        return self._file_bytes(run_id, name, row[0])

    def list_files(self, run_id: str) -> list[FileInfo]:
        def select_files(handle: Any) -> list[FileInfo]:
            self._require_run(handle, run_id)
            query = self._q("SELECT name, size, created_at FROM files WHERE run_id = ? ORDER BY name")
            return [FileInfo(*row) for row in self._execute(handle, query, (run_id,)).fetchall()]

        return self._read(select_files)
