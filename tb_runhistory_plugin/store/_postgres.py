"""The team store: PostgreSQL through psycopg 3, the same chunked layout as SQLite.

Several machines write at once: a write locks the metric rows it appends to (SELECT ... FOR
UPDATE, always in (run id, name) order so writers never deadlock each other), and a run row in
KEY SHARE mode so ending a run waits for writes in flight. Files are stored in the database
(bytea) so every machine that reaches the store reaches them.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

try:
    import psycopg
    import psycopg_pool
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError as _exc:  # pragma: no cover - exercised only without the extra
    _IMPORT_ERROR: ImportError | None = _exc  # the names above stay unbound: __init__ refuses first
else:
    _IMPORT_ERROR = None

from ..errors import InvalidArgumentError, NotFoundError, StoreError
from ._postgres_schema import MIGRATIONS
from ._query import POSTGRES
from ._sql_store import INSERT_COLUMNS, SUMMARIES_MIGRATION, SQLStore

DEFAULT_SCHEMA = "runhistory"
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CONNECT_TIMEOUT = 10  # seconds to reach the server
_POOL_WAIT = 60.0  # seconds a thread waits for a free connection before StoreError
_DEADLOCK_RETRIES = 5  # attempts of a transaction that lost a deadlock or serialization race
_COPY_TYPES = {  # types of INSERT_COLUMNS, for binary COPY
    "chunks": ["int8", "int8", "int4", "int8", "int8", "float8", "float8", "bytea", "bytea", "bytea", "bytea"],
    "records": ["int8", "int8", "int8", "float8", "text", "bytea"],
}
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


def _forget_in_child(ref: weakref.ref[PostgresStore]) -> None:
    store = ref()
    if store is not None:
        store._forget_parent_pool()


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
        self._pool_size = pool_size
        self._pool = self._new_pool()
        self._reopen = threading.Lock()
        self._forked = False  # a forked child's pool opens at its first use
        # Connections must not cross fork(): a child talking on the parent's sockets interleaves two
        # processes' messages on one connection. The child forgets them and opens its own.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_in_child(ref))
        self._open_pool()
        self._migrate(create)

    # -- connections -------------------------------------------------------
    def _new_pool(self) -> psycopg_pool.ConnectionPool:
        return psycopg_pool.ConnectionPool(
            self._conninfo,
            kwargs={"autocommit": True, "connect_timeout": _CONNECT_TIMEOUT, "application_name": "tb-runhistory"},
            min_size=1,
            max_size=self._pool_size,
            timeout=_POOL_WAIT,
            configure=self._configure,
            name=self.uri,
            open=False,
        )

    def _forget_parent_pool(self) -> None:
        """In a forked child: drop the parent's pool without closing it (closing would end the parent's sessions)."""
        inherited = self._pool
        self._reopen = threading.Lock()  # it may have been held by a parent thread at the fork
        if inherited.closed:
            return  # closed before the fork: closed in the child too
        # psycopg never finishes a connection in a process other than its creator's; marking the
        # inherited pool closed keeps its finaliser from signalling worker threads that do not exist here.
        inherited._closed = True
        self._pool = self._new_pool()
        self._forked = True

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
        if self._forked:
            with self._reopen:  # the pool's threads start here, at first use, not inside the fork hook
                if self._forked:
                    self._pool.open()
                    self._forked = False
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

    # -- what differs in writing metrics ---------------------------------------
    def _select_metrics(self, handle: psycopg.Cursor, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[Any]]:
        rows = handle.execute(
            "SELECT m.run_id, m.name, m.id, m.kind, m.value_type, m.count, m.last_step FROM metrics m"
            " JOIN unnest(%s::text[], %s::text[]) AS k(run_id, name) ON m.run_id = k.run_id AND m.name = k.name"
            " ORDER BY m.run_id, m.name FOR UPDATE OF m",
            ([k[0] for k in keys], [k[1] for k in keys]),
        ).fetchall()
        return {(r[0], r[1]): list(r[2:]) for r in rows}

    def _take_tails(self, handle: psycopg.Cursor, tails: list[tuple[int, int]]) -> dict[int, tuple]:
        # One statement for every series the write extends, not one round trip each.
        found = handle.execute(
            'DELETE FROM chunks c USING unnest(%s::int8[], %s::int8[]) AS t(metric_id, "offset")'
            ' WHERE c.metric_id = t.metric_id AND c."offset" = t."offset"'
            " RETURNING c.metric_id, c.step_min, c.count, c.steps, c.wall_times, c.vals",
            ([t[0] for t in tails], [t[1] for t in tails]),
            binary=True,
        ).fetchall()
        return {row[0]: tuple(row[1:]) for row in found}

    def _insert_rows(self, handle: psycopg.Cursor, table: str, rows: list[tuple]) -> None:
        # COPY (binary): the fastest way in, and blobs need no escaping.
        if rows:
            with handle.copy(f"COPY {table} ({', '.join(INSERT_COLUMNS[table])}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_COPY_TYPES[table])
                for row in rows:
                    copy.write_row(row)


__all__ = ["DEFAULT_SCHEMA", "PostgresStore"]
