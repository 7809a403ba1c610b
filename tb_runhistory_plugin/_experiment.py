"""Experiment: a named group of runs, and how a store is found."""

from __future__ import annotations

import builtins  # `list` inside the class is Experiment.list
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._filter import RunFilter
from ._run import Run
from ._types import ExperimentInfo, RunInfo
from ._validate import check_experiment_name, check_name
from ._workspace import Workspace
from .errors import InvalidArgumentError
from .store import ROOTS, Store, resolve_store


class Experiment:
    """Get or create the experiment `name` in a store; start runs and query them."""

    def __init__(
        self,
        name: str | Workspace | None = None,
        store: str | os.PathLike[str] | Store | None = None,
        *,
        workspace: Workspace | None = None,
    ) -> None:
        if isinstance(name, Workspace):  # the original order: Experiment(workspace, name)
            workspace, name, store = name, os.fspath(store) if store is not None and not isinstance(store, Store) else None, None
        if workspace is not None:
            if not isinstance(workspace, Workspace):
                raise InvalidArgumentError(f"workspace must be a Workspace, got {type(workspace).__name__}")
            if store is not None:
                raise InvalidArgumentError("give a workspace or a store, not both")
            store = workspace.store
        if not isinstance(name, str):
            raise InvalidArgumentError(f"experiment name must be a string, got {name!r}")
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
        outputs: str | os.PathLike[str] | None = None,
        run_id: str | None = None,
        run_type: str | None = None,
    ) -> Run:
        """Create a Running top-level run; use it with `with` to complete or fail it automatically.

        `outputs`: a local folder uploaded as the run's `outputs/` files when it ends; `run_id`: a
        caller-chosen id (ConflictError naming it when taken); `run_type`: what get_runs(type=)
        matches (default "interactive").
        """
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
            run_id=run_id,
            run_type=run_type,
            outputs=outputs,
        )

    def get_runs(
        self,
        type: str | None = None,  # noqa: A002 - the original API's name
        tags: str | Sequence[str] | Mapping[str, Any] | None = None,
        properties: str | Sequence[str] | Mapping[str, Any] | None = None,
        include_children: bool = False,
        *,
        status: str | Sequence[str] | None = None,
        filter: str | RunFilter | None = None,
    ) -> builtins.list[Run]:
        """Runs, newest first, filtered by run type, tags and properties (keys, or key: value), status and a query (`filter`, see README "Queries").

        A property matches a value equal to it, or whose text is the string given ("0.1" matches 0.1).
        Status, tags and the query are filtered by the store; type and properties here, after it.
        A RunFilter given as `filter` is used as it is, with its own order; its parent_id wins over include_children.

        Raises:
            InvalidArgumentError: a bad type, tag or property name, an unknown status; QueryError for a bad query.
        """
        run_type = None if type is None else check_name(type, "run type")
        tag_filter = _key_filter(tags, "tag name", str)
        prop_filter = _key_filter(properties, "property name", lambda v: v)
        statuses = (status,) if isinstance(status, str) else tuple(status or ())
        if isinstance(filter, RunFilter):
            merged = filter.replace(tags={**filter.tags, **tag_filter}, statuses=filter.statuses + statuses)
            if not include_children and filter.parent_id is None:
                merged = merged.replace(parent_id=ROOTS)
        elif filter is not None and not isinstance(filter, str):
            raise InvalidArgumentError(f"filter must be a query string or a RunFilter, got {builtins.type(filter).__name__}")
        else:
            merged = RunFilter(parent_id=None if include_children else ROOTS, statuses=statuses, tags=tag_filter, query=filter, order="desc")
        infos = self.store.list_runs(self.id, merged)
        if run_type is not None:
            infos = [info for info in infos if info.run_type == run_type]
        if prop_filter:
            infos = [info for info in infos if all(_property_matches(info.properties, k, v) for k, v in prop_filter.items())]
        return [Run(info, self.store, experiment=self) for info in infos]

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, id={self.id!r}, store={self.store.uri!r})"


Run._experiment_class = Experiment


def _key_filter(given: Any, what: str, value: Callable[[Any], Any]) -> dict[str, Any]:
    """{key: None (present) or wanted value} from a key, a list of keys or a mapping."""
    if given is None:
        return {}
    if isinstance(given, str):
        return {check_name(given, what): None}
    if isinstance(given, Mapping):
        return {check_name(k, what): None if v is None else value(v) for k, v in given.items()}
    if not isinstance(given, (Sequence, set, frozenset)):
        raise InvalidArgumentError(f"{what}s to filter by must be a name, a list of names or a mapping, got {type(given).__name__}")
    return {check_name(k, what): None for k in given}


def _property_matches(properties: Mapping[str, Any], key: str, wanted: Any) -> bool:
    if key not in properties:
        return False
    if wanted is None:
        return True
    stored = properties[key]
    same = stored == wanted and isinstance(stored, bool) == isinstance(wanted, bool)
    return same or (isinstance(wanted, str) and not isinstance(stored, str) and json.dumps(stored) == wanted)
