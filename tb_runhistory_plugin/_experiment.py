"""Experiment: a named group of runs, and how a store is found."""

from __future__ import annotations

import os
import threading
from typing import Any, Mapping, Sequence

from ._run import Run
from ._types import ExperimentInfo, Status
from ._validate import check_experiment_name, check_name
from .errors import InvalidArgumentError
from .store import DEFAULT_STORE, ROOTS, STORE_ENV, Store, open_store

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def resolve_store(store: "str | os.PathLike[str] | Store | None" = None) -> Store:
    """A store from an argument, else $RUNHISTORY_STORE, else ./runhistory; one object per location."""
    if isinstance(store, Store):
        return store
    uri = os.fspath(store) if store is not None else (os.environ.get(STORE_ENV) or DEFAULT_STORE)
    key = uri if "://" in uri else os.path.abspath(os.path.expanduser(uri))
    with _stores_lock:
        if key not in _stores:
            _stores[key] = open_store(uri)
        return _stores[key]


class Experiment:
    """Get or create the experiment `name` in a store; start runs and query them."""

    def __init__(self, name: str, store: "str | os.PathLike[str] | Store | None" = None) -> None:
        check_experiment_name(name)
        self.store = resolve_store(store)
        info = self.store.get_or_create_experiment(name)
        self.name, self.id = info.name, info.id

    @classmethod
    def _from_info(cls, info: ExperimentInfo, store: Store) -> "Experiment":
        exp = cls.__new__(cls)
        exp.store, exp.name, exp.id = store, info.name, info.id
        return exp

    @classmethod
    def list(cls, store: "str | os.PathLike[str] | Store | None" = None) -> list["Experiment"]:
        """Every experiment in a store."""
        resolved = resolve_store(store)
        return [cls._from_info(info, resolved) for info in resolved.list_experiments()]

    def start_logging(
        self,
        display_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        properties: Mapping[str, Any] | None = None,
        logs_dir: "str | os.PathLike[str] | None" = None,
    ) -> Run:
        """Create a Running top-level run; use it with `with` to complete or fail it automatically."""
        return Run._start(
            self.store,
            self.id,
            parent=None,
            display_name=display_name,
            tags=tags,
            description=description,
            properties=properties,
            logs_dir=logs_dir,
            experiment=self,
        )

    def get_runs(
        self,
        tags: "str | Sequence[str] | Mapping[str, Any] | None" = None,
        status: "str | Sequence[str] | None" = None,
        include_children: bool = False,
    ) -> list[Run]:
        """Runs, newest first, filtered by tags (keys, or key: value) and status."""
        tag_filter: dict[str, str | None]
        if tags is None:
            tag_filter = {}
        elif isinstance(tags, str):
            tag_filter = {check_name(tags, "tag name"): None}
        elif isinstance(tags, Mapping):
            tag_filter = {check_name(k, "tag name"): None if v is None else str(v) for k, v in tags.items()}
        else:
            tag_filter = {check_name(k, "tag name"): None for k in tags}
        statuses = [status] if isinstance(status, str) else list(status or [])
        valid = {str(s) for s in Status}
        for value in statuses:
            if value not in valid:
                raise InvalidArgumentError(f"unknown status {value!r}; expected one of {sorted(valid)}")
        infos = self.store.list_runs(
            self.id, parent_id=None if include_children else ROOTS, status=statuses or None, tags=tag_filter or None
        )
        return [Run(info, self.store, experiment=self) for info in reversed(infos)]

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, id={self.id!r}, store={self.store.uri!r})"
