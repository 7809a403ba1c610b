"""Experiment: a named group of runs, and how a store is found."""

from __future__ import annotations

import builtins  # `list` inside the class is Experiment.list
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._filter import RunFilter
from ._run import Run
from ._types import ExperimentInfo, RunInfo
from ._validate import check_experiment_name, check_name
from .errors import InvalidArgumentError
from .store import ROOTS, Store, resolve_store


class Experiment:
    """Get or create the experiment `name` in a store; start runs and query them."""

    def __init__(self, name: str, store: str | os.PathLike[str] | Store | None = None) -> None:
        check_experiment_name(name)
        self.store = resolve_store(store)
        info = self.store.get_or_create_experiment(name)
        self.name, self.id = info.name, info.id

    @classmethod
    def _from_info(cls, info: ExperimentInfo, store: Store) -> Experiment:
        exp = cls.__new__(cls)
        exp.store, exp.name, exp.id = store, info.name, info.id
        return exp

    @classmethod
    def list(cls, store: str | os.PathLike[str] | Store | None = None) -> list[Experiment]:
        """Every experiment in a store."""
        resolved = resolve_store(store)
        return [cls._from_info(info, resolved) for info in resolved.list_experiments()]

    def source_runs(self) -> builtins.list[tuple[Store, RunInfo]]:
        """(store, run) for each top-level run: what exporting or serving this experiment covers."""
        return [(self.store, info) for info in self.store.list_runs(self.id, RunFilter(parent_id=ROOTS))]

    def start_logging(
        self,
        display_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        properties: Mapping[str, Any] | None = None,
        logs_dir: str | os.PathLike[str] | None = None,
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
        tags: str | Sequence[str] | Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = None,
        include_children: bool = False,
        *,
        filter: str | RunFilter | None = None,
    ) -> builtins.list[Run]:
        """Runs, newest first, filtered by tags (keys, or key: value), status and a query (`filter`, see README "Queries").

        A RunFilter given as `filter` is used as it is, with its own order; its parent_id wins over include_children.
        """
        tag_filter: dict[str, str | None]
        if tags is None:
            tag_filter = {}
        elif isinstance(tags, str):
            tag_filter = {check_name(tags, "tag name"): None}
        elif isinstance(tags, Mapping):
            tag_filter = {check_name(k, "tag name"): None if v is None else str(v) for k, v in tags.items()}
        else:
            tag_filter = {check_name(k, "tag name"): None for k in tags}
        statuses = (status,) if isinstance(status, str) else tuple(status or ())
        if isinstance(filter, RunFilter):
            merged = filter.replace(tags={**filter.tags, **tag_filter}, statuses=filter.statuses + statuses)
            if not include_children and filter.parent_id is None:
                merged = merged.replace(parent_id=ROOTS)
            return [Run(info, self.store, experiment=self) for info in self.store.list_runs(self.id, merged)]
        if filter is not None and not isinstance(filter, str):
            raise InvalidArgumentError(f"filter must be a query string or a RunFilter, got {type(filter).__name__}")
        query = RunFilter(parent_id=None if include_children else ROOTS, statuses=statuses, tags=tag_filter, query=filter, order="desc")
        return [Run(info, self.store, experiment=self) for info in self.store.list_runs(self.id, query)]

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, id={self.id!r}, store={self.store.uri!r})"


Run._experiment_class = Experiment
