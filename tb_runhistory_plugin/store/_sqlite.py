"""The embedded store: one SQLite file in WAL mode plus a directory of run files."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import struct
import threading
import time
import urllib.parse
import uuid
import weakref
from typing import Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

from .._types import (
    ChunkSummaries,
    ExperimentInfo,
    FileInfo,
    MetricHistory,
    MetricInfo,
    MetricKind,
    Record,
    RecordBatch,
    RunInfo,
    ScalarBatch,
    Status,
    TERMINAL_STATUSES,
)
from .._validate import check_file_name
from ..errors import ConflictError, InvalidArgumentError, NotFoundError, StoreError
from . import _chunks
from ._base import Store, depth_first
from ._sql import RUN_COLUMNS, clamp, run_filter, run_infos
from ._sqlite_schema import MIGRATIONS

DB_FILE = "runhistory.db"
FILES_DIR = "files"
_BUSY_TIMEOUT = 5_000  # milliseconds SQLite itself waits for a lock
_LOCK_PATIENCE = 600.0  # seconds we keep retrying a locked database before giving up
_PAGE_SIZE = 65_536  # bytes
_MMAP_SIZE = 1 << 30  # bytes of the file mapped for reads
_BATCH_MEMORY = 7 * 86_400.0  # seconds a write_metrics batch id is remembered
_PRUNE_EVERY = 600.0  # seconds between prunes of old batch ids
_IN_CHUNK = 500  # ids per "IN (...)" query, under SQLite's variable limit
_CONTAINS = "{col} LIKE {mark} ESCAPE '\\'"  # SQLite's LIKE ignores ASCII case
_T = TypeVar("_T")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


def _pack_float(value: float) -> bytes:
    # A BLOB, because SQLite turns a NaN REAL into NULL.
    return struct.pack("<d", value)


def _unpack_float(blob: bytes | None) -> float | None:
    return None if blob is None else struct.unpack("<d", blob)[0]


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


class SQLiteStore(Store):
    """A store in a directory: `runhistory.db` (SQLite, WAL) and `files/<run id>/...`."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, read_only: bool = False) -> None:
        path = os.path.abspath(os.fspath(path))
        self.read_only = read_only
        create = create and not read_only
        if not create and not os.path.isfile(path) and not os.path.isfile(os.path.join(path, DB_FILE)):
            raise NotFoundError(f"no run history store at {path!r}")
        if os.path.isfile(path):
            self.db_path = path
            self.root = os.path.dirname(path)
            self.files_root = os.path.splitext(path)[0] + "-files"
        else:
            if os.path.exists(path) and not os.path.isdir(path):
                raise InvalidArgumentError(f"store path {path!r} is neither a directory nor a SQLite file")
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                raise InvalidArgumentError(f"cannot create store directory {path!r}: {exc.strerror}") from exc
            self.root = path
            self.db_path = os.path.join(path, DB_FILE)
            self.files_root = os.path.join(path, FILES_DIR)
        self.uri = "sqlite:///" + self.db_path.lstrip("/")
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._last_prune = 0.0
        self._migrate()
        if read_only:
            self._retry(lambda: self._conn().execute("SELECT count(*) FROM sqlite_master").fetchone())
        # SQLite connections must not cross fork(): a forked child opens its own.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (store := ref()) is not None and store._forget_connections())

    def _forget_connections(self) -> None:
        self._local = threading.local()
        self._all = []
        self._all_lock = threading.Lock()

    # -- connections -------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError(f"store {self.uri} is closed")
            try:
                if self.read_only:
                    # mode=ro: this connection cannot write, whatever a bug above it might try.
                    conn = sqlite3.connect(
                        f"file:{urllib.parse.quote(self.db_path)}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
                    )
                    conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT}")
                    conn.execute(f"PRAGMA mmap_size={_MMAP_SIZE}")
                    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails now on a file that is no database
                    self._local.conn = conn
                    with self._all_lock:
                        self._all.append(conn)
                    return conn
                conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=_BUSY_TIMEOUT / 1000, check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT}")
                # Large pages keep 100 KB chunk blobs off long overflow chains; only takes effect on a new file.
                conn.execute(f"PRAGMA page_size={_PAGE_SIZE}")
                conn.execute(f"PRAGMA mmap_size={_MMAP_SIZE}")
                self._retry(lambda: conn.execute("PRAGMA journal_mode=WAL"))
                # NORMAL in WAL mode survives a process crash; only power loss may drop the last commits.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.DatabaseError as exc:
                raise InvalidArgumentError(f"cannot open SQLite store {self.db_path!r}: {exc}") from exc
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def _retry(self, fn: Callable[[], _T]) -> _T:
        """Run fn, retrying while another process holds the write lock."""
        deadline = time.monotonic() + _LOCK_PATIENCE
        delay = 0.005
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise StoreError(f"SQLite store {self.db_path!r}: {exc}") from exc
                if time.monotonic() > deadline:
                    raise StoreError(f"SQLite store {self.db_path!r} stayed locked for {_LOCK_PATIENCE:.0f} s") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn inside one write transaction (BEGIN IMMEDIATE), retried while locked."""
        if self.read_only:
            raise StoreError(f"store {self.uri} is open read-only")
        conn = self._conn()

        def attempt() -> _T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return self._retry(attempt)

    def _read(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn inside one read transaction, so multi-query reads see one snapshot."""
        conn = self._conn()

        def attempt() -> _T:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

        return self._retry(attempt)

    def _migrate(self) -> None:
        if self.read_only:
            return

        def apply(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    for statement in sql.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))

        try:
            self._write(apply)
        except sqlite3.DatabaseError as exc:
            raise InvalidArgumentError(f"{self.db_path!r} is not a usable SQLite store: {exc}") from exc

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    # -- experiments -------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        def run(conn: sqlite3.Connection) -> ExperimentInfo:
            row = conn.execute("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,)).fetchone()
            if row is None:
                row = (uuid.uuid4().hex, name, time.time())
                conn.execute("INSERT INTO experiments VALUES (?, ?, ?)", row)
            return ExperimentInfo(*row)

        return self._write(run)

    def get_experiment(self, name_or_id: str) -> ExperimentInfo:
        row = self._retry(
            lambda: self._conn()
            .execute("SELECT id, name, created_at FROM experiments WHERE id = ? OR name = ? ORDER BY id = ? DESC", (name_or_id,) * 3)
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no experiment {name_or_id!r} in store {self.uri}")
        return ExperimentInfo(*row)

    def list_experiments(self) -> list[ExperimentInfo]:
        rows = self._retry(lambda: self._conn().execute("SELECT id, name, created_at FROM experiments ORDER BY created_at, name").fetchall())
        return [ExperimentInfo(*row) for row in rows]

    # -- runs --------------------------------------------------------------
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
        def run(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM experiments WHERE id = ?", (experiment_id,)).fetchone() is None:
                raise NotFoundError(f"no experiment {experiment_id!r} in store {self.uri}")
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None:
                raise ConflictError(f"run {run_id!r} already exists")
            if parent_id is not None:
                parent = conn.execute("SELECT experiment_id FROM runs WHERE id = ?", (parent_id,)).fetchone()
                if parent is None:
                    raise NotFoundError(f"no parent run {parent_id!r} in store {self.uri}")
                if parent[0] != experiment_id:
                    raise InvalidArgumentError(f"parent run {parent_id!r} belongs to another experiment")
            conn.execute(
                "INSERT INTO runs (id, experiment_id, parent_id, display_name, description, status, start_time, heartbeat_time, logs_dir)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, experiment_id, parent_id, display_name, description, Status.RUNNING, start_time, start_time, logs_dir),
            )
            conn.executemany("INSERT INTO tags VALUES (?, ?, ?)", [(run_id, k, v) for k, v in (tags or {}).items()])
            conn.executemany(
                "INSERT INTO properties VALUES (?, ?, ?)", [(run_id, k, json.dumps(v)) for k, v in (properties or {}).items()]
            )

        self._write(run)
        return self.get_run(run_id)

    def _runs_from_rows(self, conn: sqlite3.Connection, rows: list[tuple]) -> list[RunInfo]:
        ids = [row[0] for row in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        props: dict[str, dict[str, Any]] = {i: {} for i in ids}
        for start in range(0, len(ids), _IN_CHUNK):
            part = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(part))
            for run_id, key, value in conn.execute(f"SELECT run_id, key, value FROM tags WHERE run_id IN ({marks}) ORDER BY key", part):
                tags[run_id][key] = value
            for run_id, key, value in conn.execute(
                f"SELECT run_id, key, value FROM properties WHERE run_id IN ({marks}) ORDER BY key", part
            ):
                props[run_id][key] = json.loads(value)
        return run_infos(rows, tags, props)

    def get_run(self, run_id: str) -> RunInfo:
        def run(conn: sqlite3.Connection) -> RunInfo:
            rows = conn.execute(f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?", (run_id,)).fetchall()
            if not rows:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            return self._runs_from_rows(conn, rows)[0]

        return self._read(run)

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
        where, args = run_filter(experiment_id, parent_id, status, tags, text, mark="?", contains=_CONTAINS)
        args += [-1 if limit is None else int(limit), int(offset)]

        def run(conn: sqlite3.Connection) -> list[RunInfo]:
            rows = conn.execute(
                f"SELECT {RUN_COLUMNS} FROM runs r WHERE {where} ORDER BY r.start_time, r.rowid LIMIT ? OFFSET ?", args
            ).fetchall()
            return self._runs_from_rows(conn, rows)

        return self._read(run)

    def count_runs(
        self,
        experiment_id: str,
        *,
        parent_id: str | None = None,
        status: Sequence[str] | None = None,
        tags: Mapping[str, str | None] | None = None,
        text: str | None = None,
    ) -> int:
        where, args = run_filter(experiment_id, parent_id, status, tags, text, mark="?", contains=_CONTAINS)
        return self._retry(lambda: self._conn().execute(f"SELECT COUNT(*) FROM runs r WHERE {where}", args).fetchone()[0])

    def list_descendants(self, run_id: str) -> list[RunInfo]:
        def run(conn: sqlite3.Connection) -> list[RunInfo]:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            rows = conn.execute(
                "WITH RECURSIVE tree(id) AS (SELECT id FROM runs WHERE parent_id = ?"
                " UNION ALL SELECT r.id FROM runs r JOIN tree ON r.parent_id = tree.id)"
                f" SELECT {RUN_COLUMNS} FROM tree JOIN runs r ON r.id = tree.id ORDER BY r.start_time, r.rowid",
                (run_id,),
            ).fetchall()
            return depth_first(run_id, self._runs_from_rows(conn, rows))

        return self._read(run)

    def set_run_status(
        self, run_id: str, status: str, *, end_time: float | None = None, error: str | None = None, traceback: str | None = None
    ) -> RunInfo:
        if status not in TERMINAL_STATUSES:
            raise InvalidArgumentError(f"a run can only be moved to {sorted(TERMINAL_STATUSES)}, not {status!r}")

        def run(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            if row[0] in TERMINAL_STATUSES:
                raise ConflictError(f"run {run_id!r} already ended as {row[0]}")
            conn.execute(
                "UPDATE runs SET status = ?, end_time = ?, error = ?, traceback = ? WHERE id = ?",
                (status, end_time if end_time is not None else time.time(), error, traceback, run_id),
            )

        self._write(run)
        return self.get_run(run_id)

    def heartbeat(self, run_ids: Sequence[str], time: float) -> None:
        ids = list(run_ids)

        def run(conn: sqlite3.Connection) -> None:
            for start in range(0, len(ids), _IN_CHUNK):
                part = ids[start : start + _IN_CHUNK]
                conn.execute(
                    f"UPDATE runs SET heartbeat_time = ? WHERE status = ? AND id IN ({','.join('?' * len(part))})",
                    [time, Status.RUNNING, *part],
                )

        if ids:
            self._write(run)

    def _require_run(self, conn: sqlite3.Connection, run_id: str) -> str:
        row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
        return row[0]

    def set_logs_dir(self, run_id: str, logs_dir: str | None) -> None:
        def run(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id)
            conn.execute("UPDATE runs SET logs_dir = ? WHERE id = ?", (logs_dir, run_id))

        self._write(run)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id)
            conn.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", [(run_id, k, v) for k, v in tags.items()])

        self._write(run)

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id)
            conn.executemany("DELETE FROM tags WHERE run_id = ? AND key = ?", [(run_id, k) for k in keys])

        self._write(run)

    def add_properties(self, run_id: str, properties: Mapping[str, Any]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            self._require_run(conn, run_id)
            existing = dict(conn.execute("SELECT key, value FROM properties WHERE run_id = ?", (run_id,)).fetchall())
            for key, value in properties.items():
                # Compare the stored JSON text, so 1, 1.0 and True count as different values.
                if key in existing and existing[key] != json.dumps(value):
                    raise ConflictError(
                        f"property {key!r} of run {run_id!r} is already {json.loads(existing[key])!r}; properties cannot change (use tags)"
                    )
            conn.executemany(
                "INSERT OR IGNORE INTO properties VALUES (?, ?, ?)", [(run_id, k, json.dumps(v)) for k, v in properties.items()]
            )

        self._write(run)

    # -- metrics -----------------------------------------------------------
    def _metric_for_write(
        self, conn: sqlite3.Connection, run_id: str, name: str, kind: str, description: str, checked: set[str]
    ) -> tuple[int, str | None, int, int | None]:
        if run_id not in checked:
            status = self._require_run(conn, run_id)
            if status in TERMINAL_STATUSES:
                raise ConflictError(f"run {run_id!r} already ended as {status}; it takes no more metrics")
            checked.add(run_id)
        row = conn.execute(
            "SELECT id, kind, value_type, count, last_step FROM metrics WHERE run_id = ? AND name = ?", (run_id, name)
        ).fetchone()
        if row is None:
            cur = conn.execute(
                "INSERT INTO metrics (run_id, name, kind, description) VALUES (?, ?, ?, ?)", (run_id, name, kind, description)
            )
            return cur.lastrowid, None, 0, None
        if row[1] != kind:
            raise ConflictError(f"metric {name!r} of run {run_id!r} holds {row[1]} data, not {kind} data")
        return row[0], row[2], row[3], row[4]

    def write_metrics(
        self, scalars: Sequence[ScalarBatch] = (), records: Sequence[RecordBatch] = (), *, batch_id: str | None = None
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            if batch_id is not None:
                now = time.time()
                if conn.execute("INSERT OR IGNORE INTO batches VALUES (?, ?)", (batch_id, now)).rowcount == 0:
                    return  # applied before: a retry after a lost answer
                if now - self._last_prune > _PRUNE_EVERY:
                    self._last_prune = now
                    conn.execute("DELETE FROM batches WHERE applied_at < ?", (now - _BATCH_MEMORY,))
            checked: set[str] = set()
            for batch in scalars:
                if len(batch.steps):
                    self._append_scalars(conn, batch, checked)
            for batch in records:
                if batch.records:
                    self._append_records(conn, batch, checked)

        self._write(run)

    def _append_scalars(self, conn: sqlite3.Connection, batch: ScalarBatch, checked: set[str]) -> None:
        metric_id, value_type, count, last_step = self._metric_for_write(
            conn, batch.run_id, batch.name, MetricKind.SCALAR, batch.description, checked
        )
        steps = _chunks.resolve_steps(batch.steps, last_step)
        values = np.asarray(batch.values, dtype=np.float64)
        walls = np.asarray(batch.wall_times, dtype=np.float64)
        tail = None
        partial = count % _chunks.CHUNK_POINTS
        if partial:
            tail_offset = count - partial
            row = conn.execute(
                'SELECT step_min, steps, wall_times, vals FROM chunks WHERE metric_id = ? AND "offset" = ?', (metric_id, tail_offset)
            ).fetchone()
            tail = (tail_offset, *_chunks.decode(*row))
            conn.execute('DELETE FROM chunks WHERE metric_id = ? AND "offset" = ?', (metric_id, tail_offset))
        chunks = _chunks.append_chunks(tail, count, steps, walls, values)
        conn.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (metric_id, c.offset, c.count, c.step_min, c.step_max, c.wall_min, c.wall_max, c.summary, c.steps, c.wall_times, c.values)
                for c in chunks
            ],
        )
        conn.execute(
            "UPDATE metrics SET count = ?, value_type = ?, last_step = ?, last_value = ?, last_wall_time = ?,"
            " description = CASE WHEN description = '' THEN ? ELSE description END WHERE id = ?",
            (
                count + len(steps),
                _chunks.promote_value_type(value_type, batch.value_type),
                int(steps[-1]),
                _pack_float(float(values[-1])),
                float(walls[-1]),
                batch.description,
                metric_id,
            ),
        )

    def _append_records(self, conn: sqlite3.Connection, batch: RecordBatch, checked: set[str]) -> None:
        metric_id, _, count, last_step = self._metric_for_write(conn, batch.run_id, batch.name, batch.kind, batch.description, checked)
        steps = _chunks.resolve_steps(np.array([r.step for r in batch.records], dtype=np.int64), last_step)
        conn.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
            [
                (metric_id, count + i, int(step), rec.wall_time, json.dumps(rec.meta), rec.data)
                for i, (step, rec) in enumerate(zip(steps, batch.records))
            ],
        )
        conn.execute(
            "UPDATE metrics SET count = ?, last_step = ?, last_wall_time = ?,"
            " description = CASE WHEN description = '' THEN ? ELSE description END WHERE id = ?",
            (count + len(steps), int(steps[-1]), batch.records[-1].wall_time, batch.description, metric_id),
        )

    def _metrics_from_rows(self, rows: list[tuple]) -> list[MetricInfo]:
        return [
            MetricInfo(
                run_id=r[0],
                name=r[1],
                kind=r[2],
                value_type=r[3] or "float",
                count=r[4],
                last_step=r[5],
                last_value=_unpack_float(r[6]),
                last_wall_time=r[7],
                description=r[8],
            )
            for r in rows
        ]

    _METRIC_COLUMNS = "run_id, name, kind, value_type, count, last_step, last_value, last_wall_time, description"

    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        def run(conn: sqlite3.Connection) -> list[MetricInfo]:
            self._require_run(conn, run_id)
            rows = conn.execute(f"SELECT {self._METRIC_COLUMNS} FROM metrics WHERE run_id = ? ORDER BY name", (run_id,)).fetchall()
            return self._metrics_from_rows(rows)

        return self._read(run)

    def last_values(self, run_ids: Sequence[str]) -> dict[str, list[MetricInfo]]:
        ids = list(run_ids)

        def run(conn: sqlite3.Connection) -> dict[str, list[MetricInfo]]:
            found: dict[str, list[MetricInfo]] = {i: [] for i in ids}
            for start in range(0, len(ids), _IN_CHUNK):
                part = ids[start : start + _IN_CHUNK]
                rows = conn.execute(
                    f"SELECT {self._METRIC_COLUMNS} FROM metrics WHERE run_id IN ({','.join('?' * len(part))}) ORDER BY name", part
                ).fetchall()
                for info in self._metrics_from_rows(rows):
                    found[info.run_id].append(info)
            return found

        return self._read(run)

    def _metric(self, conn: sqlite3.Connection, run_id: str, name: str, kinds: tuple[str, ...]) -> tuple[int, int]:
        row = conn.execute("SELECT id, kind, count FROM metrics WHERE run_id = ? AND name = ?", (run_id, name)).fetchone()
        if row is None:
            self._require_run(conn, run_id)
            raise NotFoundError(f"run {run_id!r} has no metric {name!r}")
        if row[1] not in kinds:
            raise InvalidArgumentError(f"metric {name!r} of run {run_id!r} holds {row[1]} data, not {' or '.join(kinds)} data")
        return row[0], row[2]

    def read_scalars(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> MetricHistory:
        def run(conn: sqlite3.Connection) -> MetricHistory:
            metric_id, count = self._metric(conn, run_id, name, (MetricKind.SCALAR,))
            lo, hi = clamp(start, stop, count)
            first = lo - lo % _chunks.CHUNK_POINTS
            rows = conn.execute(
                'SELECT "offset", step_min, steps, wall_times, vals FROM chunks'
                ' WHERE metric_id = ? AND "offset" >= ? AND "offset" < ? ORDER BY "offset"',
                (metric_id, first, hi),
            ).fetchall()
            return _chunks.history(name, rows, lo, hi)

        return self._read(run)

    def read_summaries(self, run_id: str, name: str) -> ChunkSummaries:
        def run(conn: sqlite3.Connection) -> ChunkSummaries:
            metric_id, _ = self._metric(conn, run_id, name, (MetricKind.SCALAR,))
            rows = conn.execute(
                'SELECT "offset", count, step_min, step_max, wall_min, wall_max, summary FROM chunks'
                ' INDEXED BY chunk_summaries WHERE metric_id = ? ORDER BY "offset"',
                (metric_id,),
            ).fetchall()
            return _chunks.summaries(rows)

        return self._read(run)

    def read_records(self, run_id: str, name: str, *, start: int = 0, stop: int | None = None) -> list[Record]:
        def run(conn: sqlite3.Connection) -> list[Record]:
            metric_id, count = self._metric(conn, run_id, name, (MetricKind.TABLE, MetricKind.IMAGE, MetricKind.HISTOGRAM))
            lo, hi = clamp(start, stop, count)
            rows = conn.execute(
                "SELECT step, wall_time, meta, data FROM records WHERE metric_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
                (metric_id, lo, hi),
            ).fetchall()
            return [Record(step, wall, json.loads(meta), data) for step, wall, meta, data in rows]

        return self._read(run)

    # -- files -------------------------------------------------------------
    def real_files_root(self) -> str:
        """The files folder, resolved; StoreError when it is a symbolic link (run files never leave the store)."""
        # The store's own folder may be reached through links (a home on another disk); the files folder in it may not.
        expected = os.path.join(os.path.realpath(os.path.dirname(self.files_root)), os.path.basename(self.files_root))
        real = os.path.realpath(self.files_root)
        if real != expected:
            raise StoreError(f"the files folder {self.files_root!r} of store {self.uri} is a symbolic link to {real!r}; refusing to use it")
        return expected

    def _file_path(self, run_id: str, name: str) -> str:
        # Never trust a name or an id with the file system, whoever checked them before.
        check_file_name(name)
        if not _SAFE_ID.fullmatch(run_id):
            raise InvalidArgumentError(f"run id {run_id!r} is not a valid run id")
        path = os.path.join(self.real_files_root(), run_id, *name.split("/"))
        # The store never makes links, so any link at any level (run folder, sub-folder, the file) was put there to
        # reach elsewhere, even another run's files: the resolved path must be the path itself.
        real = os.path.realpath(path)
        if real != path:
            raise StoreError(f"file {name!r} of run {run_id!r} goes through a symbolic link (to {real!r}); refusing to use it")
        return path

    def put_file(self, run_id: str, name: str, data: bytes) -> FileInfo:
        path = self._file_path(run_id, name)
        self._retry(lambda: self._require_run(self._conn(), run_id))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = f"{path}.{uuid.uuid4().hex}.tmp"
        with open(temp, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
        info = FileInfo(name, len(data), time.time())
        self._write(lambda conn: conn.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (run_id, name, info.size, info.created_at)))
        return info

    def list_files(self, run_id: str) -> list[FileInfo]:
        def run(conn: sqlite3.Connection) -> list[FileInfo]:
            self._require_run(conn, run_id)
            rows = conn.execute("SELECT name, size, created_at FROM files WHERE run_id = ? ORDER BY name", (run_id,)).fetchall()
            return [FileInfo(*row) for row in rows]

        return self._read(run)

    def read_file(self, run_id: str, name: str) -> bytes:
        row = self._retry(lambda: self._conn().execute("SELECT 1 FROM files WHERE run_id = ? AND name = ?", (run_id, name)).fetchone())
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no file {name!r}")
        # O_NOFOLLOW: a link swapped in after the check above is refused by the kernel (ELOOP), never followed.
        try:
            fd = os.open(self._file_path(run_id, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise StoreError(f"cannot read file {name!r} of run {run_id!r}: {exc.strerror}") from exc
        with open(fd, "rb") as handle:
            return handle.read()
