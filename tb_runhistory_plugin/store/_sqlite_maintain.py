"""SQLite housekeeping (what `tb-runhistory gc` asks of the embedded store): unreferenced run files, ANALYZE, VACUUM, a truncated WAL."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Any

from ..errors import InvalidArgumentError, NotFoundError

_VACUUM_PATIENCE = 60.0  # seconds maintenance waits for writers to let go of the database


def compact(db_path: str, *, dry_run: bool = False) -> dict[str, Any]:
    """ANALYZE and VACUUM on a connection of its own, then truncate the WAL; a report of sizes in bytes.

    A failure (typically a long write holding the lock) is reported under "error", not raised:
    maintenance is best effort and the store stays usable.
    """

    def size() -> int:
        return sum(os.path.getsize(p) for p in (db_path, db_path + "-wal") if os.path.exists(p))

    before = size()
    conn = sqlite3.connect(db_path, timeout=_VACUUM_PATIENCE, isolation_level=None)
    try:
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        result = {"bytes_before": before, "free_bytes": free, "bytes_after": before, "compacted": False}
        if not dry_run:
            conn.execute("ANALYZE")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            result.update(bytes_after=size(), compacted=True)
        return result
    except sqlite3.Error as exc:
        return {"bytes_before": before, "bytes_after": size(), "compacted": False, "error": f"could not compact {db_path!r}: {exc}"}
    finally:
        conn.close()


def delete_orphans(store: Any, *, dry_run: bool, cutoff: float) -> list[dict[str, Any]]:
    """Files under files/ that no run references, older than `cutoff` (younger ones may be uploads in progress)."""
    root = store.real_files_root()  # never walk (and delete) through a files folder that links elsewhere
    orphans: list[dict[str, Any]] = []
    if not os.path.isdir(root):
        return orphans
    for run_dir in sorted(os.listdir(root)):
        top = os.path.join(root, run_dir)
        try:
            known = {f.name for f in store.list_files(run_dir)}
        except (NotFoundError, InvalidArgumentError):
            known = set()  # no such run: everything below is unreferenced
        folders: list[tuple[str, float]] = []  # (folder, mtime before anything was deleted)
        if not os.path.isdir(top) or os.path.islink(top):
            paths = [(top, run_dir)]
        else:
            for folder, _, _ in os.walk(top):
                with contextlib.suppress(OSError):
                    folders.append((folder, os.stat(folder).st_mtime))
            paths = [
                (os.path.join(folder, name), os.path.relpath(os.path.join(folder, name), top).replace(os.sep, "/"))
                for folder, _, names in os.walk(top)
                for name in names
            ]
        for path, name in sorted(paths):
            try:
                stat = os.lstat(path)
            except OSError:
                continue
            if name in known or stat.st_mtime >= cutoff:
                continue
            orphans.append({"path": os.path.relpath(path, store.root).replace(os.sep, "/"), "bytes": stat.st_size})
            if not dry_run:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        if not dry_run:
            for folder, mtime in sorted(folders, key=lambda entry: -len(entry[0])):  # deepest first
                if mtime < cutoff:  # a young folder may have just been made for an upload
                    with contextlib.suppress(OSError):  # not empty
                        os.rmdir(folder)
    return orphans
