"""The embedded store: one SQLite file in WAL mode plus a directory of run files."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from ..errors import InvalidArgumentError, NotFoundError, StoreError
from ._base import ORPHAN_GRACE
from ._pool import Pool
from ._sql import check_file_ref
from ._sql_store import SUMMARIES_MIGRATION, SQLStore
from ._sqlite_maintain import compact, delete_orphans
from ._sqlite_schema import MIGRATIONS

DB_FILE = "runhistory.db"
FILES_DIR = "files"
_BUSY_TIMEOUT = 5_000  # milliseconds SQLite itself waits for a lock
_LOCK_PATIENCE = 600.0  # seconds we keep retrying a locked database before giving up
_PAGE_SIZE = 65_536  # bytes
_MMAP_SIZE = 1 << 30  # bytes of the file mapped for reads
_COPY_BUFFER = 1 << 20  # bytes per read when a run file is copied in from a path
_IDLE_CONNECTIONS = 8  # connections kept open between calls; more concurrent calls open (and close) extras
_IN_CHUNK = 500  # ids per "IN (...)" query, under SQLite's variable limit
_T = TypeVar("_T")


def _pack_float(value: float) -> bytes:
    # A BLOB, because SQLite turns a NaN REAL into NULL.
    return struct.pack("<d", value)


def _unpack_float(blob: bytes | None) -> float | None:
    return None if blob is None else struct.unpack("<d", blob)[0]


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _not_a_database(exc: sqlite3.DatabaseError) -> bool:
    """The file is not SQLite at all (a wrong path), as opposed to a damaged store."""
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB" or "not a database" in str(exc)


def _left_open(conn: sqlite3.Connection) -> bool:
    try:
        return conn.in_transaction
    except sqlite3.Error:  # closed
        return True


class SQLiteStore(SQLStore):
    """A store in a directory: `runhistory.db` (SQLite, WAL) and `files/<run id>/...`."""

    _SUMMARY_HINT = " INDEXED BY chunk_summaries"  # the covering index: summaries without touching point data
    _FILE_DATA_IN_ROW = False  # files live in files/<run id>/ beside the database

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
        self._pool: Pool[sqlite3.Connection] = Pool(self._open, sqlite3.Connection.close, idle=_IDLE_CONNECTIONS, name=self.uri)
        try:
            self._migrate()
            if read_only:
                self._query(lambda conn: conn.execute("SELECT count(*) FROM sqlite_master").fetchone())
        except BaseException:
            self._pool.close()
            raise

    # -- connections -------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        """A new connection with the store's settings (the pool calls this)."""
        try:
            if self.read_only:
                # mode=ro: this connection cannot write, whatever a bug above it might try.
                conn = sqlite3.connect(f"file:{urllib.parse.quote(self.db_path)}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT}")
                conn.execute(f"PRAGMA mmap_size={_MMAP_SIZE}")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fails now on a file that is no database
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
            return conn
        except StoreError as exc:
            if isinstance(exc.__cause__, sqlite3.DatabaseError) and not _not_a_database(exc.__cause__):
                raise
            raise InvalidArgumentError(f"cannot open SQLite store {self.db_path!r}: {exc.__cause__ or exc}") from exc
        except sqlite3.DatabaseError as exc:
            if _not_a_database(exc):
                raise InvalidArgumentError(f"cannot open SQLite store {self.db_path!r}: {exc}") from exc
            raise self._failed(exc) from exc
        except sqlite3.Error as exc:  # e.g. out of file descriptors: the store failed, not the caller
            raise self._failed(exc) from exc

    def _failed(self, exc: BaseException) -> StoreError:
        return StoreError(f"SQLite store {self.db_path!r}: {exc}")

    def _retry(self, fn: Callable[[], _T]) -> _T:
        """Run fn, retrying while another process holds the write lock; database errors become StoreError."""
        deadline = time.monotonic() + _LOCK_PATIENCE
        delay = 0.005
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise self._failed(exc) from exc
                if time.monotonic() > deadline:
                    raise StoreError(f"SQLite store {self.db_path!r} stayed locked for {_LOCK_PATIENCE:.0f} s") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
            except sqlite3.Error as exc:  # a corrupt page ("database disk image is malformed"), a closed store, ...
                raise self._failed(exc) from exc
            except OverflowError as exc:  # a Python int SQLite cannot bind
                raise InvalidArgumentError(f"SQLite store {self.db_path!r} cannot keep a number: {exc}") from exc

    def _with_conn(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn on a pooled connection, given back afterwards (closed if left inside a transaction)."""
        conn = self._pool.take()
        try:
            return fn(conn)
        finally:
            self._pool.give(conn, broken=_left_open(conn))

    def _query(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn outside a transaction (one statement sees one snapshot anyway)."""
        return self._with_conn(lambda conn: self._retry(lambda: fn(conn)))

    def _write(self, fn: Callable[[sqlite3.Connection], _T], *, idempotent: bool = True) -> _T:
        """Run fn inside one write transaction (BEGIN IMMEDIATE), retried while locked (it never reached the database then)."""
        if self.read_only:
            raise StoreError(f"store {self.uri} is open read-only")

        def attempt(conn: sqlite3.Connection) -> _T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return self._with_conn(lambda conn: self._retry(lambda: attempt(conn)))

    def _read(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn inside one read transaction, so multi-query reads see one snapshot."""

        def attempt(conn: sqlite3.Connection) -> _T:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

        return self._with_conn(lambda conn: self._retry(lambda: attempt(conn)))

    def _migrate(self) -> None:
        if self.read_only:
            return

        def apply_migrations(conn: sqlite3.Connection) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    for statement in sql.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    if name.endswith(SUMMARIES_MIGRATION):
                        self._backfill_summaries(conn)
                    conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))

        try:
            self._write(apply_migrations)
        except StoreError as exc:
            if isinstance(exc.__cause__, sqlite3.DatabaseError) and _not_a_database(exc.__cause__):
                raise InvalidArgumentError(f"{self.db_path!r} is not a usable SQLite store: {exc.__cause__}") from exc
            raise

    def _in_statements(self, query: str, ids: list[str], args: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
        # SQLite has no arrays: "IN (?, ?, ...)" in slices under its variable limit.
        for start in range(0, len(ids), _IN_CHUNK):
            part = ids[start : start + _IN_CHUNK]
            yield query.format(**{"in": f"IN ({','.join('?' * len(part))})"}), [*args, *part]

    def _last_value(self, stored: bytes | None) -> float | None:
        return _unpack_float(stored)

    def _stored_float(self, value: float) -> bytes:
        return _pack_float(value)

    def maintain(self, *, dry_run: bool = False, orphan_grace: float = ORPHAN_GRACE, now: float | None = None) -> dict[str, Any]:
        """Delete unreferenced run files, then ANALYZE, VACUUM and truncate the WAL; a report (an "error" key when it could not compact)."""
        if self.read_only and not dry_run:
            raise StoreError(f"store {self.uri} is open read-only")
        cutoff = (time.time() if now is None else now) - orphan_grace
        orphans = delete_orphans(self, dry_run=dry_run, cutoff=cutoff)
        return {**compact(self.db_path, dry_run=dry_run), "orphaned_files": orphans}

    def close(self) -> None:
        """Close every connection this store opened (one in use closes when its call ends)."""
        self._pool.close()

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
        check_file_ref(run_id, name)
        path = os.path.join(self.real_files_root(), run_id, *name.split("/"))
        # The store never makes links, so any link at any level (run folder, sub-folder, the file) was put there to
        # reach elsewhere, even another run's files: the resolved path must be the path itself.
        real = os.path.realpath(path)
        if real != path:
            raise StoreError(f"file {name!r} of run {run_id!r} goes through a symbolic link (to {real!r}); refusing to use it")
        return path

    def _keep_file(self, run_id: str, name: str, data: bytes | None, path: str | None) -> tuple[int, tuple[Any, ...]]:
        target = self._file_path(run_id, name)
        self._read(lambda conn: self._require_run(conn, run_id))  # nothing lands on disk for a run that does not exist
        source = open(path, "rb") if path is not None else None  # noqa: SIM115 - closed below; a missing source is the caller's error
        temp = f"{target}.{uuid.uuid4().hex}.tmp"
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(temp, "wb") as handle:
                if source is not None:
                    shutil.copyfileobj(source, handle, _COPY_BUFFER)  # streamed: a large file never sits in memory
                else:
                    handle.write(data or b"")
                size = handle.tell()
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise StoreError(f"cannot write file {name!r} of run {run_id!r} in {self.files_root!r}: {exc.strerror or exc}") from exc
        finally:
            if source is not None:
                source.close()
        return size, ()

    def _file_bytes(self, run_id: str, name: str, stored: Any) -> bytes:
        # O_NOFOLLOW: a link swapped in after the path check is refused by the kernel (ELOOP), never followed.
        try:
            fd = os.open(self._file_path(run_id, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:  # listed in the database but unreadable on disk: the store is damaged
            raise StoreError(f"cannot read file {name!r} of run {run_id!r} from {self.files_root!r}: {exc.strerror or exc}") from exc
        with open(fd, "rb") as handle:
            return handle.read()
