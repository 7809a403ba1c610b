"""Where each run goes in a logdir: safe, unique, stable directory names, and the export lock.

Names: a run's directory is its display name made safe for every common file system. Path
separators, control characters and the characters Windows refuses (``<>:"|?*``) become ``_``;
leading dots and spaces become ``_`` (so ``..`` and ``../../etc`` can never leave the logdir and
no name is hidden); trailing dots and spaces are dropped; Windows device names (``CON``, ``nul.txt``)
get a ``_`` suffix; names are NFC-normalised and cut to 100 UTF-8 bytes. Siblings that would
collide (compared case-insensitively, as macOS and Windows do) get ``_2``, ``_3``, ... in the order
they are first exported, so two children both called "trial" become ``trial`` and ``trial_2``.
A directory that exists but is not ours is never reused.

Stability: the assignment is remembered in ``<logdir>/.runhistory/layout.json`` and never changes,
so re-exports append to the same directories even if a run is renamed or a child run is first
exported on its own (it keeps its top-level directory). TensorBoard ignores that folder: it holds
no ``tfevents`` file, and no run directory can be called ``.runhistory`` because names never start
with a dot.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from .._types import RunInfo
from ..errors import InvalidArgumentError

try:  # POSIX advisory locks; Windows exports simply go unlocked
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None  # type: ignore[assignment]

SIDECAR_DIR = ".runhistory"  # per logdir and per run directory; never a run name (no leading dots)
LAYOUT_FILE = "layout.json"
LOCK_FILE = "lock"
LAYOUT_FORMAT = 1
LOGS_DIR_NAME = "logs"  # preferred name of the mirror of a run's own event-file folder
_MAX_NAME_BYTES = 100  # UTF-8 bytes per directory name; leaves room for suffixes under NAME_MAX 255
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\<>:"|?*]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_name(name: str) -> str:
    """A single, safe path component for a display name (see the module docstring)."""
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE.sub("_", text)
    stripped = text.lstrip(". ")
    text = "_" * (len(text) - len(stripped)) + stripped
    text = text.rstrip(". ")
    encoded = text.encode("utf-8")[:_MAX_NAME_BYTES]
    text = encoded.decode("utf-8", errors="ignore").rstrip(". ")
    if not text:
        return "run"
    if text.split(".")[0].upper() in _WINDOWS_DEVICES:
        text += "_"
    return text


def ensure_logdir(logdir: str | os.PathLike[str]) -> str:
    """Create the logdir if needed; return its absolute path.

    Raises:
        InvalidArgumentError: the path is a file, lies below a file, or cannot be created or written.
    """
    path = os.path.abspath(os.fspath(logdir))
    if os.path.exists(path) and not os.path.isdir(path):
        raise InvalidArgumentError(f"logdir {path!r} is a file, not a directory")
    try:
        os.makedirs(os.path.join(path, SIDECAR_DIR), exist_ok=True)
        with tempfile.TemporaryFile(dir=os.path.join(path, SIDECAR_DIR)):
            pass  # catches read-only mounts and permissions before any run is half written
    except (FileExistsError, NotADirectoryError):
        raise InvalidArgumentError(f"logdir {path!r} cannot be created: a part of it is a file") from None
    except OSError as exc:
        raise InvalidArgumentError(f"logdir {path!r} is not writable: {exc.strerror or exc}") from None
    return path


@contextlib.contextmanager
def locked(logdir: str) -> Iterator[None]:
    """Hold the logdir's export lock: one exporter (process or thread) writes a logdir at a time."""
    handle = open(os.path.join(logdir, SIDECAR_DIR, LOCK_FILE), "a+b")  # noqa: SIM115 - closed below
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # closing releases the flock


def write_json_atomic(path: str, data: Any) -> None:
    """Write JSON through a temporary file and a rename, so readers never see half a file."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: str) -> Any | None:
    """A JSON file's content, or None when it is missing or unreadable (treated as no state)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


class Layout:
    """The persistent run-id -> directory assignment of one logdir."""

    def __init__(self, logdir: str) -> None:
        self.logdir = logdir
        self._path = os.path.join(logdir, SIDECAR_DIR, LAYOUT_FILE)
        data = read_json(self._path)
        if not isinstance(data, dict) or data.get("format") != LAYOUT_FORMAT:
            data = {"format": LAYOUT_FORMAT, "runs": {}, "extra": {}}
        self._data = data
        self._runs: dict[str, str] = data.setdefault("runs", {})
        self._extra: dict[str, str] = data.setdefault("extra", {})  # e.g. "<run id>:logs" -> path
        self._dirty = False
        self._on_disk: dict[str, set[str]] = {}
        self._taken: dict[str, set[str]] = {}
        for rel in [*self._runs.values(), *self._extra.values()]:
            parent, _, name = rel.rpartition("/")
            self._taken.setdefault(parent, set()).add(name.casefold())

    @property
    def info(self) -> dict[str, Any]:
        """Free-form logdir-level facts kept with the layout (experiment names, hparams config)."""
        return self._data.setdefault("info", {})

    def path_of(self, run_id: str) -> str | None:
        """The run's directory relative to the logdir ('/'-separated), if it was assigned."""
        return self._runs.get(run_id)

    def assign(self, run_id: str, display_name: str, parent_rel: str | None) -> str:
        """The run's directory, assigning a new unique one under ``parent_rel`` (or the top) if needed."""
        known = self._runs.get(run_id)
        if known is not None:
            return known
        rel = self._allocate(parent_rel or "", safe_name(display_name))
        self._runs[run_id] = rel
        return rel

    def assign_extra(self, key: str, preferred: str, parent_rel: str) -> str:
        """A named extra directory inside a run directory (the mirror of the run's own logs)."""
        known = self._extra.get(key)
        if known is not None:
            return known
        rel = self._allocate(parent_rel, safe_name(preferred))
        self._extra[key] = rel
        return rel

    def _allocate(self, parent_rel: str, base: str) -> str:
        taken = self._taken.setdefault(parent_rel, set())
        on_disk = self._on_disk.get(parent_rel)
        if on_disk is None:
            parent_abs = os.path.join(self.logdir, *parent_rel.split("/")) if parent_rel else self.logdir
            try:
                on_disk = self._on_disk[parent_rel] = {entry.casefold() for entry in os.listdir(parent_abs)}
            except OSError:
                on_disk = self._on_disk[parent_rel] = set()
        candidate, n = base, 1
        while candidate.casefold() in taken or candidate.casefold() in on_disk:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate.casefold())
        self._dirty = True
        return f"{parent_rel}/{candidate}" if parent_rel else candidate

    def mark_dirty(self) -> None:
        """Make the next save() write (after info was changed)."""
        self._dirty = True

    def save(self) -> None:
        """Persist the assignment if it changed."""
        if self._dirty:
            write_json_atomic(self._path, self._data)
            self._dirty = False

    def abspath(self, rel: str) -> str:
        """The absolute path of a '/'-separated directory relative to the logdir."""
        return os.path.join(self.logdir, *rel.split("/"))


_S = TypeVar("_S")  # the store each run comes from


def parents_first(ordered: Mapping[str, tuple[_S, RunInfo]]) -> list[tuple[_S, RunInfo]]:
    """The runs with every parent that is exported too placed before its children."""
    placed: set[str] = set()
    result: list[tuple[_S, RunInfo]] = []

    def place(run_id: str, trail: frozenset[str]) -> None:
        if run_id in placed or run_id in trail:
            return
        run_store, info = ordered[run_id]
        if info.parent_id is not None and info.parent_id in ordered:
            place(info.parent_id, trail | {run_id})
        placed.add(run_id)
        result.append((run_store, info))

    for run_id in ordered:
        place(run_id, frozenset())
    return result
