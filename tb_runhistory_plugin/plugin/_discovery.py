"""Where the plugin finds its store, and a lazy, thread-safe, read-only handle on it.

Order: the `--runhistory_store` flag, else `$RUNHISTORY_STORE`, else `<logdir>/runhistory`, else
`./runhistory`. A configured store (flag or variable) is the only candidate, even while it does
not exist yet: training scripts configured the same way will create it there. Without one, the
first of the two default places that holds a store wins, checked again on every request until one
appears, so TensorBoard may be started before the first run is logged.
"""

from __future__ import annotations

import dataclasses
import os
import threading

from ..errors import NotFoundError, RunHistoryError, StoreError
from ..store import DB_FILE, DEFAULT_STORE, STORE_ENV, Store, open_store
from .metadata import STORE_FLAG

_SQLITE_MAGIC = b"SQLite format 3\x00"
_LOCAL_SCHEMES = ("sqlite", "file")
_REMOTE_SCHEMES = ("postgresql", "postgres", "http", "https")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A place a store may be: its URI, where that came from, and its local path (None if remote)."""

    uri: str
    source: str
    path: str | None


def local_path(uri: str) -> str | None:
    """The file-system path of a local store URI, None for a remote one."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return os.path.abspath(os.path.expanduser(uri))
    if scheme.lower() in _LOCAL_SCHEMES:
        return os.path.abspath(os.path.expanduser(rest))
    return None


def check_store_uri(uri: str) -> str | None:
    """Why `uri` can never be a usable store, or None; only looks at the file system, never opens."""
    if not uri or not uri.strip():
        return "the store location is empty"
    scheme, sep, rest = uri.partition("://")
    if sep:
        lowered = scheme.lower()
        if lowered in _REMOTE_SCHEMES:
            return None  # a server or database: only opening it can tell
        if lowered not in _LOCAL_SCHEMES:
            return f"store {uri!r} has an unknown scheme {scheme!r}; expected a path or sqlite:///path"
        if not rest:
            return f"store {uri!r} names no path"
    path = local_path(uri)
    assert path is not None
    if os.path.isdir(path):
        db = os.path.join(path, DB_FILE)
        if os.path.exists(db) and not _is_sqlite(db):
            return f"store {uri!r}: {db!r} is not a SQLite database"
        return None
    if os.path.exists(path):
        if not os.path.isfile(path):
            return f"store {uri!r} is neither a directory nor a file"
        if not _is_sqlite(path):
            return f"store {uri!r} is a file but not a SQLite database (expected a store directory or its runhistory.db)"
    return None


def _is_sqlite(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def candidates(flag: str | None, env: str | None, logdir: str | None, cwd: str) -> list[Candidate]:
    """The places to look for a store, in order (see the module docstring)."""
    if flag:
        return [Candidate(flag, f"--{STORE_FLAG}", local_path(flag))]
    if env:
        return [Candidate(env, f"${STORE_ENV}", local_path(env))]
    found = []
    if logdir and "://" not in logdir and "," not in logdir:
        path = os.path.join(os.path.abspath(os.path.expanduser(logdir)), "runhistory")
        found.append(Candidate(path, "--logdir", path))
    default = os.path.normpath(os.path.join(cwd, DEFAULT_STORE))
    if all(c.path != default for c in found):
        found.append(Candidate(default, "the working directory", default))
    return found


def _exists(candidate: Candidate) -> bool:
    if candidate.path is None:
        return True  # a remote store: let the backend say whether it is there
    path = candidate.path
    return os.path.isfile(path) or os.path.isfile(os.path.join(path, DB_FILE))


class StoreRef:
    """Opens the first existing candidate on first use, once, from any thread; never creates one."""

    def __init__(self, places: list[Candidate] | None = None, *, store: Store | None = None) -> None:
        self.candidates = list(places or [])
        self.chosen: Candidate | None = None
        self._store = store
        self._lock = threading.Lock()

    def get(self) -> Store | None:
        """The store, or None while none of the candidates holds one.

        Raises:
            StoreError: a store is there but cannot be opened (corrupt, unreadable, wrong schema).
        """
        store = self._store
        if store is not None:
            return store
        with self._lock:
            if self._store is not None:
                return self._store
            for candidate in self.candidates:
                if not _exists(candidate):
                    continue
                try:
                    # Local stores open read-only: the plugin never writes, not even a migration.
                    options = {"read_only": True} if candidate.path is not None else {}
                    self._store = open_store(candidate.uri, create=False, **options)
                except NotFoundError:
                    continue  # removed between the check and the open
                except RunHistoryError as exc:
                    raise StoreError(f"cannot open the run history store {candidate.uri!r} (from {candidate.source}): {exc}") from exc
                self.chosen = candidate
                return self._store
        return None

    def describe(self) -> dict[str, object]:
        """Where the store is (or is looked for), as JSON-ready data."""
        if self._store is not None:
            return {"found": True, "uri": self._store.uri, "source": self.chosen.source if self.chosen else None}
        return {
            "found": False,
            "uri": None,
            "looked_in": [{"location": c.uri, "source": c.source} for c in self.candidates],
        }

    def hint(self) -> str:
        """What to do while there is no store yet."""
        if not self.candidates:
            return "No run history store is configured."
        first = self.candidates[0]
        places = "; ".join(f"{c.uri} (from {c.source})" for c in self.candidates)
        return (
            f"No run history store yet. Looked in: {places}. Log a run with "
            f"Experiment('my-experiment', store={first.uri!r}).start_logging(), or start TensorBoard with "
            f"--{STORE_FLAG} pointing at an existing store (or set ${STORE_ENV})."
        )

    def close(self) -> None:
        """Close the store if this handle opened it."""
        with self._lock:
            if self._store is not None and self.chosen is not None:
                self._store.close()
            self._store = None
            self.chosen = None
