"""Workspace: the original SDK's handle on where runs live, here simply a store."""

from __future__ import annotations

import os

from .store import Store, resolve_store


class Workspace:
    """A run store under the original SDK's name, so `Experiment(workspace=ws, name=...)` scripts run unchanged."""

    def __init__(self, store: str | os.PathLike[str] | Store | None = None) -> None:
        self.store = resolve_store(store)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **_ignored: object) -> Workspace:
        """The store named by `path`, else $RUNHISTORY_STORE, else ./runhistory (no cloud configuration is read)."""
        return cls(path)

    def __repr__(self) -> str:
        return f"Workspace(store={self.store.uri!r})"
