"""Team backends for the contract tests: PostgreSQL (a fresh schema per test) and the REST server.

Importing this module registers "postgresql" and "http" in backends.BACKENDS. PostgreSQL tests
skip, saying why, only when no server answers at $RUNHISTORY_TEST_POSTGRES
(default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import functools
import os
import threading
import uuid

import pytest
from backends import BACKENDS, make_sqlite
from werkzeug.serving import make_server

from tb_runhistory_plugin.server import RunHistoryApp
from tb_runhistory_plugin.store import Store
from tb_runhistory_plugin.store._http import HttpStore

POSTGRES_ENV = "RUNHISTORY_TEST_POSTGRES"
POSTGRES_URL = os.environ.get(POSTGRES_ENV) or "postgresql://postgres@127.0.0.1:5432/test"


@functools.lru_cache(maxsize=1)
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {POSTGRES_URL} (set ${POSTGRES_ENV}): {str(exc).strip()}"
    return None


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable (CI sets RUNHISTORY_REQUIRE_POSTGRES=1: fail instead)."""
    reason = postgres_unavailable()
    if reason:
        if os.environ.get("RUNHISTORY_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)


def drop_schema(schema: str) -> None:
    """Remove a test schema and everything in it."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def new_schema_url() -> tuple[str, str]:
    """A store URL in a fresh, unused schema name, and that name."""
    schema = f"rh_test_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}schema={schema}", schema


def make_postgresql(tmp_path=None) -> Store:
    """A fresh PostgreSQL store in its own schema, dropped again on close()."""
    require_postgres()
    from tb_runhistory_plugin.store._postgres import PostgresStore

    class TempPostgresStore(PostgresStore):
        def close(self) -> None:
            super().close()
            drop_schema(self.schema)

    url, _ = new_schema_url()
    return TempPostgresStore(url)


class ServedStore(HttpStore):
    """An HttpStore talking over a real socket to a server thread; close() stops both."""

    def __init__(self, backing: Store, *, token: str | None = None, timeout: float = 10.0, middleware=None, **app_options) -> None:
        self.backing = backing
        self.app = RunHistoryApp(backing, token=token, **app_options)
        self.server = make_server("127.0.0.1", 0, middleware(self.app) if middleware else self.app, threaded=True)
        self.server.daemon_threads = True
        # A short poll: shutdown() waits up to one poll interval (werkzeug's default 0.5 s, paid by every test's teardown).
        self.thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.02), name="runhistory-test-server", daemon=True)
        self.thread.start()
        super().__init__(f"http://127.0.0.1:{self.server.server_port}", token=token, timeout=timeout)

    def close(self) -> None:
        super().close()
        self.server.shutdown()
        self.server.server_close()
        self.backing.close()


def make_http(tmp_path) -> Store:
    """The REST server on a free port in a thread, backed by a fresh SQLite store."""
    return ServedStore(make_sqlite(tmp_path), token="contract-token")


BACKENDS["postgresql"] = make_postgresql
BACKENDS["http"] = make_http
