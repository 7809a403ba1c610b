"""Store backends the contract tests run against; each maker returns a fresh, empty store."""

from __future__ import annotations

from collections.abc import Callable

from tb_runhistory_plugin.store import SQLiteStore, Store


def make_sqlite(tmp_path) -> Store:
    """A fresh SQLite store in a temporary directory."""
    return SQLiteStore(tmp_path / "store")


# name -> maker(tmp_path) -> Store; later backends (postgresql, http) add themselves here.
BACKENDS: dict[str, Callable[..., Store]] = {"sqlite": make_sqlite}
