"""Run stores: one protocol, chosen by URI."""

from __future__ import annotations

import os
import threading
from typing import Any

from .._filter import ROOTS, RunFilter
from ..errors import InvalidArgumentError
from ._base import ORPHAN_GRACE, Store
from ._sqlite import DB_FILE, SQLiteStore

__all__ = ["DB_FILE", "ORPHAN_GRACE", "ROOTS", "RunFilter", "SQLiteStore", "Store", "open_store", "resolve_store", "DEFAULT_STORE", "STORE_ENV"]

DEFAULT_STORE = "./runhistory"
STORE_ENV = "RUNHISTORY_STORE"


def open_store(uri: str | os.PathLike[str] | Store | None = None, *, create: bool = True, **options: Any) -> Store:
    """Open a store from a URI or path; None means $RUNHISTORY_STORE, else ./runhistory.

    Args:
        uri: a directory or SQLite file path, `sqlite:///path`, `postgresql://user@host:5432/db[?schema=name]`,
            `http(s)://host:port` (a `tb-runhistory server`), or an opened Store (returned as is).
        create: create a local store that does not exist yet (False: NotFoundError instead).
        options: backend options (for example `token=` for a server URL).

    Raises:
        InvalidArgumentError: the URI is empty, of an unknown scheme, or not a usable store.
        NotFoundError: create=False and there is no store at that path.
    """
    if isinstance(uri, Store):
        return uri
    if uri is None:
        uri = os.environ.get(STORE_ENV) or DEFAULT_STORE
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgumentError(f"store must be a path, a URI or a Store, got {uri!r}")
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return SQLiteStore(os.path.expanduser(uri), create=create, **options)
    scheme = scheme.lower()
    if scheme in ("sqlite", "file"):
        if not rest.strip():
            raise InvalidArgumentError(f"store {uri!r} names no path; use sqlite:///absolute/path or a plain path")
        # sqlite:///abs/path is absolute, sqlite://relative/path relative.
        return SQLiteStore(os.path.expanduser(rest), create=create, **options)
    if scheme in ("postgresql", "postgres"):
        from ._postgres import PostgresStore  # imported here: psycopg is the optional [postgres] extra

        return PostgresStore(uri, create=create, **options)
    if scheme in ("http", "https"):
        from ._http import HttpStore

        return HttpStore(uri, create=create, **options)
    raise InvalidArgumentError(f"store {uri!r} has an unknown scheme {scheme!r}; expected a path, sqlite://, postgresql:// or http(s)://")


_opened: dict[str, Store] = {}
_opened_lock = threading.Lock()


def resolve_store(store: str | os.PathLike[str] | Store | None = None) -> Store:
    """A store from an argument, else $RUNHISTORY_STORE, else ./runhistory; one object per location in a process."""
    if isinstance(store, Store):
        return store
    uri = os.fspath(store) if store is not None else (os.environ.get(STORE_ENV) or DEFAULT_STORE)
    key = uri if "://" in uri else os.path.abspath(os.path.expanduser(uri))
    with _opened_lock:
        if key not in _opened:
            _opened[key] = open_store(uri)
        return _opened[key]
