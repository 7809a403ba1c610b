"""The team store: PostgreSQL through psycopg 3, the same chunked layout as SQLite.

Several machines write at once: a write locks the metric rows it appends to (SELECT ... FOR
UPDATE, always in (run id, name) order so writers never deadlock each other), and a run row in
KEY SHARE mode so ending a run waits for writes in flight. Files are stored in the database
(bytea) so every machine that reaches the store reaches them.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

try:
    import psycopg
    import psycopg_pool
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError as _exc:  # pragma: no cover - exercised only without the extra
    _IMPORT_ERROR: ImportError | None = _exc  # the names above stay unbound: __init__ refuses first
else:
    _IMPORT_ERROR = None

from .._types import (
    TERMINAL_STATUSES,
    FileInfo,
    MetricKind,
    RecordBatch,
    RunInfo,
    ScalarBatch,
    promote_value_type,
)
from ..errors import ConflictError, InvalidArgumentError, NotFoundError, StoreError
from . import _chunks
from ._postgres_schema import MIGRATIONS
from ._query import POSTGRES
from ._sql import RUN_COLUMNS, check_file_ref, record_json
from ._sql_store import SUMMARIES_MIGRATION, SQLStore

DEFAULT_SCHEMA = "runhistory"
_SUMMARY_UPDATE = _chunks.SUMMARY_UPDATE.replace("?", "%s")
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CONNECT_TIMEOUT = 10  # seconds to reach the server
_POOL_WAIT = 60.0  # seconds a thread waits for a free connection before StoreError
_DEADLOCK_RETRIES = 5  # attempts of a transaction that lost a deadlock or serialization race
_BATCH_MEMORY = 7 * 86_400.0  # seconds a write_metrics batch id is remembered
_PRUNE_EVERY = 600.0  # seconds between prunes of old batch ids
_CHUNK_COLUMNS = '(metric_id, "offset", count, step_min, step_max, wall_min, wall_max, summary, steps, wall_times, vals)'
_CHUNK_TYPES = ["int8", "int8", "int4", "int8", "int8", "float8", "float8", "bytea", "bytea", "bytea", "bytea"]
_RECORD_TYPES = ["int8", "int8", "int8", "float8", "text", "bytea"]
_T = TypeVar("_T")


def parse_uri(uri: str, schema: str | None = None) -> tuple[str, str, str]:
    """Split a postgresql:// URI into (libpq conninfo, schema, display URI without a password)."""
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k != "schema"]
    from_query = [v for k, v in query if k == "schema"]
    schema = schema or (from_query[-1] if from_query else DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.fullmatch(schema):
        raise InvalidArgumentError(f"schema {schema!r} must be letters, digits and '_' (at most 63), starting with a letter or '_'")
    scheme = "postgresql"
    conninfo = urllib.parse.urlunsplit((scheme, parts.netloc, parts.path, urllib.parse.urlencode(kept), ""))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{urllib.parse.quote(parts.username)}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    shown = urllib.parse.urlencode([*[(k, v) for k, v in kept if k not in ("password", "passfile")], ("schema", schema)])
    display = urllib.parse.urlunsplit((scheme, netloc, parts.path, shown, ""))
    return conninfo, schema, display


def _lock_key(schema: str) -> int:
    """A stable 64-bit advisory lock id for migrating one schema."""
    return int.from_bytes(hashlib.blake2b(f"tb-runhistory:{schema}".encode(), digest_size=8).digest(), "big", signed=True)


class PostgresStore(SQLStore):
    """A store in a PostgreSQL schema (default `runhistory`), shared by every machine that reaches it."""

    _MARK = "%s"
    _DIALECT = POSTGRES  # ILIKE: SQLite's LIKE ignores (ASCII) case, so the text search does too
    _NO_LIMIT = None
    _ROW_LOCKS = True

    def __init__(self, uri: str, *, create: bool = True, schema: str | None = None, pool_size: int = 16) -> None:
        if _IMPORT_ERROR is not None:
            raise InvalidArgumentError(f"store {uri!r} needs psycopg 3 and psycopg_pool: pip install 'tb-runhistory-plugin[postgres]' ({_IMPORT_ERROR})")
        self._conninfo, self.schema, self.uri = parse_uri(uri, schema)
        self._pool = psycopg_pool.ConnectionPool(
            self._conninfo,
            kwargs={"autocommit": True, "connect_timeout": _CONNECT_TIMEOUT, "application_name": "tb-runhistory"},
            min_size=1,
            max_size=pool_size,
            timeout=_POOL_WAIT,
            configure=self._configure,
            name=self.uri,
            open=False,
        )
        self._last_prune = 0.0
        self._open_pool()
        self._migrate(create)

    # -- connections -------------------------------------------------------
    def _configure(self, conn: psycopg.Connection) -> None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        # JIT compiling a filtered listing costs ~240 ms (bench/bench_query.py) to save a few: never worth it here.
        conn.execute("SET jit = off")

    def _open_pool(self) -> None:
        """Open the pool and wait for its first connection, so an unreachable server fails now, and clearly."""
        self._pool.open()
        try:
            self._pool.wait(timeout=_CONNECT_TIMEOUT)
        except psycopg_pool.PoolTimeout:
            self._pool.close()
            try:  # the pool only says it timed out: one direct attempt gives the server's reason
                psycopg.connect(self._conninfo, connect_timeout=_CONNECT_TIMEOUT).close()
                reason = f"no connection within {_CONNECT_TIMEOUT} s"
            except psycopg.Error as exc:
                reason = str(exc).strip()
            raise StoreError(f"cannot connect to PostgreSQL store {self.uri}: {reason}") from None

    def _take(self) -> psycopg.Connection:
        try:
            return self._pool.getconn()
        except psycopg_pool.PoolClosed:
            raise StoreError(f"store {self.uri} is closed") from None
        except psycopg_pool.PoolTimeout:
            raise StoreError(f"no free PostgreSQL connection to {self.uri} after {_POOL_WAIT:.0f} s") from None

    def _tx(self, fn: Callable[[psycopg.Cursor], _T], *, retry_broken: bool = True) -> _T:
        """Run fn(cursor) in one transaction, retried after a lost deadlock and once on a fresh connection
        when a pooled one turns out dead (a database restart): always if fn had not started, else only
        when `retry_broken` (reads and idempotent writes: the commit may have happened)."""
        attempt = 0
        while True:
            attempt += 1
            conn = self._take()
            started = given_back = False
            try:
                with conn.transaction():
                    started = True
                    return fn(conn.cursor())
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure) as exc:
                if attempt >= _DEADLOCK_RETRIES:
                    raise StoreError(f"PostgreSQL store {self.uri}: {exc}") from exc
                time.sleep(0.01 * attempt)
            except psycopg.OperationalError as exc:
                if not (conn.broken and attempt == 1 and (retry_broken or not started)):
                    raise StoreError(f"PostgreSQL store {self.uri}: {exc}") from exc
                self._pool.putconn(conn)  # discarded: it is broken
                given_back = True
                self._pool.check()  # its idle siblings likely died with it
            except psycopg.DataError as exc:
                raise InvalidArgumentError(f"PostgreSQL store {self.uri} refused a value: {exc}") from exc
            except psycopg.Error as exc:
                raise StoreError(f"PostgreSQL store {self.uri}: {exc}") from exc
            finally:
                if not given_back:
                    self._pool.putconn(conn)

    def _read(self, fn: Callable[[psycopg.Cursor], _T]) -> _T:
        return self._tx(fn)

    def _write(self, fn: Callable[[psycopg.Cursor], _T], *, idempotent: bool = True) -> _T:
        return self._tx(fn, retry_broken=idempotent)

    def _execute(self, handle: psycopg.Cursor, query: str, args: Sequence[Any] = (), *, binary: bool = False) -> psycopg.Cursor:
        return handle.execute(query, args, binary=binary)

    def _migrate(self, create: bool) -> None:
        def migrated(cur: psycopg.Cursor) -> bool:
            cur.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'migrations'", (self.schema,))
            return cur.fetchone() is not None

        if not create:
            if not self._tx(migrated):
                raise NotFoundError(f"no run history store at {self.uri}")

        def apply_migrations(cur: psycopg.Cursor) -> None:
            # One migrator at a time per schema, even across machines; others wait, then see it done.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema),))
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            cur.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
            done = {row[0] for row in cur.execute("SELECT name FROM migrations").fetchall()}
            for name, statements in MIGRATIONS:
                if name not in done:
                    cur.execute(statements)
                    if name.endswith(SUMMARIES_MIGRATION):
                        self._backfill_summaries(cur)
                    cur.execute("INSERT INTO migrations VALUES (%s, %s)", (name, time.time()))

        try:
            self._tx(apply_migrations)
        except StoreError:
            self._pool.close()
            raise

    def close(self) -> None:
        """Close the store's connections."""
        self._pool.close()

    # -- experiments -------------------------------------------------------
    # -- runs --------------------------------------------------------------
    def _runs(self, cur: psycopg.Cursor, query: str, args: Sequence[Any]) -> list[RunInfo]:
        return self._runs_from_rows(cur, cur.execute(query, args).fetchall())

    def list_descendants(self, run_id: str) -> list[RunInfo]:
        # Depth first, siblings by (start time, creation order), as SQLite: each level of the path is
        # the start time's IEEE bits (ordered like the time for positive times) and the run's
        # sequence number, both fixed-width hex, so comparing paths compares those tuples level by level.
        level = "encode(float8send({t}.start_time), 'hex') || lpad(to_hex({t}.seq), 16, '0')"

        def select_descendants(cur: psycopg.Cursor) -> list[RunInfo]:
            if cur.execute("SELECT 1 FROM runs WHERE id = %s", (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            return self._runs(
                cur,
                "WITH RECURSIVE tree(id, path) AS ("
                f' SELECT s.id, ({level.format(t="s")})::text COLLATE "C" FROM runs s WHERE s.parent_id = %s'
                f' UNION ALL SELECT r.id, (tree.path || {level.format(t="r")})::text COLLATE "C"'
                " FROM runs r JOIN tree ON r.parent_id = tree.id)"
                f" SELECT {RUN_COLUMNS} FROM tree JOIN runs r ON r.id = tree.id ORDER BY tree.path",
                (run_id,),
            )

        return self._tx(select_descendants)

    # -- metrics -----------------------------------------------------------
    def write_metrics(self, scalars: Sequence[ScalarBatch] = (), records: Sequence[RecordBatch] = (), *, batch_id: str | None = None) -> None:
        """Append points atomically; with `batch_id`, a batch id already applied is a no-op."""
        scalars = [b for b in scalars if len(b.steps)]
        records = [b for b in records if b.records]
        if not scalars and not records and batch_id is None:
            return

        def append_batches(cur: psycopg.Cursor) -> None:
            if batch_id is not None:
                # A concurrent retry of the same batch waits here until the first one commits.
                cur.execute("INSERT INTO batches VALUES (%s, %s) ON CONFLICT DO NOTHING", (batch_id, time.time()))
                if cur.rowcount == 0:
                    return
            metrics = self._lock_metrics(cur, scalars, records)
            self._append_scalars(cur, scalars, metrics)
            self._append_records(cur, records, metrics)

        self._tx(append_batches, retry_broken=batch_id is not None)
        if batch_id is not None and time.monotonic() - self._last_prune > _PRUNE_EVERY:
            self._last_prune = time.monotonic()
            self._tx(lambda cur: cur.execute("DELETE FROM batches WHERE applied_at < %s", (time.time() - _BATCH_MEMORY,)))

    def _lock_metrics(self, cur: psycopg.Cursor, scalars: list[ScalarBatch], records: list[RecordBatch]) -> dict[tuple[str, str], list[Any]]:
        """Check the runs, create missing metric rows and lock them all; (run id, name) -> [id, kind, value_type, count, last_step]."""
        wanted: dict[tuple[str, str], tuple[str, str]] = {}  # first kind and description of each series, in call order
        order: list[tuple[str, str, str, str]] = [(b.run_id, b.name, MetricKind.SCALAR, b.description) for b in scalars]
        order += [(b.run_id, b.name, b.kind, b.description) for b in records]
        for run_id, name, kind, description in order:
            wanted.setdefault((run_id, name), (str(kind), description))
        run_ids = list(dict.fromkeys(run_id for run_id, *_ in order))
        statuses: dict[str, str] = dict(cur.execute("SELECT id, status FROM runs WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", (sorted(run_ids),)).fetchall())
        for run_id in run_ids:
            if run_id not in statuses:
                raise NotFoundError(f"no run {run_id!r} in store {self.uri}")
            if statuses[run_id] in TERMINAL_STATUSES:
                raise ConflictError(f"run {run_id!r} already ended as {statuses[run_id]}; it takes no more metrics")
        keys = sorted(wanted)
        cur.executemany(
            "INSERT INTO metrics (run_id, name, kind, description) VALUES (%s, %s, %s, %s) ON CONFLICT (run_id, name) DO NOTHING",
            [(run_id, name, *wanted[run_id, name]) for run_id, name in keys],
        )
        rows = cur.execute(
            "SELECT m.run_id, m.name, m.id, m.kind, m.value_type, m.count, m.last_step FROM metrics m"
            " JOIN unnest(%s::text[], %s::text[]) AS k(run_id, name) ON m.run_id = k.run_id AND m.name = k.name"
            " ORDER BY m.run_id, m.name FOR UPDATE OF m",
            ([k[0] for k in keys], [k[1] for k in keys]),
        ).fetchall()
        metrics = {(r[0], r[1]): list(r[2:]) for r in rows}
        for run_id, name, kind, _ in order:
            if metrics[run_id, name][1] != kind:
                raise ConflictError(f"metric {name!r} of run {run_id!r} holds {metrics[run_id, name][1]} data, not {kind} data")
        return metrics

    def _append_scalars(self, cur: psycopg.Cursor, scalars: list[ScalarBatch], metrics: dict[tuple[str, str], list[Any]]) -> None:
        grouped: dict[tuple[str, str], list[ScalarBatch]] = {}
        for batch in scalars:
            grouped.setdefault((batch.run_id, batch.name), []).append(batch)
        if not grouped:
            return
        tails = {(m[0], m[3] - m[3] % _chunks.CHUNK_POINTS) for m in (metrics[k] for k in grouped) if m[3] % _chunks.CHUNK_POINTS}
        tail_rows: dict[int, tuple] = {}
        if tails:
            ids, offsets = [t[0] for t in tails], [t[1] for t in tails]
            found = cur.execute(
                'DELETE FROM chunks c USING unnest(%s::int8[], %s::int8[]) AS t(metric_id, "offset")'
                ' WHERE c.metric_id = t.metric_id AND c."offset" = t."offset"'
                " RETURNING c.metric_id, c.step_min, c.count, c.steps, c.wall_times, c.vals",
                (ids, offsets),
                binary=True,
            ).fetchall()
            tail_rows = {row[0]: row[1:] for row in found}
        chunk_rows, updates = [], []
        for key, batches in grouped.items():
            metric_id, _, value_type, count, last_step = metrics[key]
            partial = count % _chunks.CHUNK_POINTS
            tail = _chunks.tail(tail_rows.get(metric_id), count - partial, partial, run_id=key[0], name=key[1]) if partial else None
            # Resolving auto steps over the concatenation equals resolving batch after batch.
            steps = _chunks.resolve_steps(np.concatenate([np.asarray(b.steps, np.int64) for b in batches]), last_step)
            walls = np.concatenate([np.asarray(b.wall_times, np.float64) for b in batches])
            values = np.concatenate([np.asarray(b.values, np.float64) for b in batches])
            for batch in batches:
                value_type = promote_value_type(value_type, batch.value_type)
            description = next((b.description for b in batches if b.description), "")
            for c in _chunks.append_chunks(tail, count, steps, walls, values):
                chunk_rows.append((metric_id, c.offset, c.count, c.step_min, c.step_max, c.wall_min, c.wall_max, c.summary, c.steps, c.wall_times, c.values))
            summary = _chunks.summary_args(_chunks.batch_summary(values))
            updates.append((count + len(steps), value_type, int(steps[-1]), float(values[-1]), float(walls[-1]), description, *summary, metric_id))
        with cur.copy(f"COPY chunks {_CHUNK_COLUMNS} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_CHUNK_TYPES)
            for row in chunk_rows:
                copy.write_row(row)
        cur.executemany(
            "UPDATE metrics SET count = %s, value_type = %s, last_step = %s, last_value = %s, last_wall_time = %s,"
            " description = CASE WHEN description = '' THEN %s ELSE description END, " + _SUMMARY_UPDATE + " WHERE id = %s",
            updates,
        )

    def _append_records(self, cur: psycopg.Cursor, records: list[RecordBatch], metrics: dict[tuple[str, str], list[Any]]) -> None:
        grouped: dict[tuple[str, str], list[RecordBatch]] = {}
        for batch in records:
            grouped.setdefault((batch.run_id, batch.name), []).append(batch)
        if not grouped:
            return
        rows, updates = [], []
        for key, batches in grouped.items():
            metric_id, _, _, count, last_step = metrics[key]
            recs = [rec for b in batches for rec in b.records]
            steps = _chunks.resolve_steps(np.array([r.step for r in recs], dtype=np.int64), last_step)
            rows += [
                (metric_id, count + i, int(step), float(rec.wall_time), record_json(rec.meta, key[0], key[1]), rec.data)
                for i, (step, rec) in enumerate(zip(steps, recs))
            ]
            description = next((b.description for b in batches if b.description), "")
            updates.append((count + len(recs), int(steps[-1]), float(recs[-1].wall_time), description, metric_id))
        with cur.copy("COPY records (metric_id, idx, step, wall_time, meta, data) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_RECORD_TYPES)
            for row in rows:
                copy.write_row(row)
        cur.executemany(
            "UPDATE metrics SET count = %s, last_step = %s, last_wall_time = %s,"
            " description = CASE WHEN description = '' THEN %s ELSE description END WHERE id = %s",
            updates,
        )

    # -- files -------------------------------------------------------------
    def put_file(self, run_id: str, name: str, data: bytes) -> FileInfo:
        check_file_ref(run_id, name)
        info = FileInfo(name, len(data), time.time())

        def upsert_file(cur: psycopg.Cursor) -> None:
            self._require_run(cur, run_id)
            cur.execute(
                "INSERT INTO files VALUES (%s, %s, %s, %s, %s) ON CONFLICT (run_id, name)"
                " DO UPDATE SET size = EXCLUDED.size, created_at = EXCLUDED.created_at, data = EXCLUDED.data",
                (run_id, name, info.size, info.created_at, bytes(data)),
            )

        self._tx(upsert_file)
        return info

    def read_file(self, run_id: str, name: str) -> bytes:
        row = self._tx(lambda cur: cur.execute("SELECT data FROM files WHERE run_id = %s AND name = %s", (run_id, name), binary=True).fetchone())
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no file {name!r}")
        return bytes(row[0])


__all__ = ["DEFAULT_SCHEMA", "PostgresStore"]
