"""SQLite housekeeping: ANALYZE, VACUUM and a truncated write-ahead log (what `tb-runhistory gc` does to the database)."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

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
