"""RunFilter: the one value that says which runs to list, passed unchanged through every layer."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from . import _query
from ._types import Status
from ._validate import check_name, check_tag_value, check_text
from .errors import InvalidArgumentError

ROOTS = "__roots__"  # parent_id meaning "runs without a parent"
ORDERS = ("asc", "desc")
_STATUSES = tuple(str(s) for s in Status)


@dataclasses.dataclass(frozen=True)
class RunFilter:
    """Which runs of an experiment to list or count; checks itself on construction.

    parent_id: None for every run, ROOTS for top-level runs, or a run id for its children.
    statuses: effective statuses (NotResponding is a Running run whose heartbeats stopped).
    tags: key -> value, or key -> None for "has the tag".
    text: a case-insensitive substring of the name, id, a tag key or a tag value.
    query: the query language (see `_query`), e.g. 'metrics.loss.min < 0.1 and params.lr >= 1e-3'.
    sort/order: a field of the query language (`start_time` when None), NULLs last, ties by start time then creation.
    with_ancestors: matches plus each match's ancestors (RunInfo.matched False for those).
    inherit: tags and params of a run's ancestors count as its own (the nearest one wins).
    Paging (limit, offset) goes beside the filter: `list_runs(exp_id, filter, limit=, offset=)`.
    """

    parent_id: str | None = None
    statuses: tuple[str, ...] = ()
    tags: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    text: str | None = None
    query: str | None = None
    sort: str | None = None
    order: str = "asc"
    with_ancestors: bool = False
    inherit: bool = False

    def __post_init__(self) -> None:
        if self.parent_id is not None:
            check_name(self.parent_id, "parent id")
        statuses = (self.statuses,) if isinstance(self.statuses, str) else () if self.statuses is None else self.statuses
        if not isinstance(statuses, Sequence):
            raise InvalidArgumentError(f"statuses must be a list of statuses, got {type(self.statuses).__name__}")
        for status in statuses:
            if status not in _STATUSES:
                raise InvalidArgumentError(f"unknown status {status!r}; expected one of {list(_STATUSES)}")
        object.__setattr__(self, "statuses", tuple(str(s) for s in dict.fromkeys(statuses)))
        if self.tags is None:
            object.__setattr__(self, "tags", {})
        if not isinstance(self.tags, Mapping):
            raise InvalidArgumentError(f"tags must map tag names to values or None, got {type(self.tags).__name__}")
        object.__setattr__(self, "tags", {check_name(k, "tag name"): None if v is None else check_tag_value(k, v) for k, v in self.tags.items()})
        if self.text is not None:
            object.__setattr__(self, "text", check_text(self.text, "text") or None)
        if self.query is not None:
            if not isinstance(self.query, str):
                raise InvalidArgumentError(f"query must be a string, got {type(self.query).__name__}")
            object.__setattr__(self, "query", self.query if self.query.strip() else None)
        if self.query is not None:
            _query.parse(self.query)  # QueryError now, not in a store
        if self.sort is not None:
            _query.parse_field(self.sort)
        if self.order not in ORDERS:
            raise InvalidArgumentError(f"order must be 'asc' or 'desc', got {self.order!r}")
        for flag in ("with_ancestors", "inherit"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidArgumentError(f"{flag} must be true or false, got {getattr(self, flag)!r}")

    @property
    def ast(self) -> _query.Node | None:
        """The parsed query, None without one."""
        return None if self.query is None else _query.parse(self.query)

    @property
    def sort_field(self) -> _query.Field:
        """The field runs are ordered by."""
        return _query.parse_field(self.sort) if self.sort else _query.Field("run", "start_time")

    def replace(self, **changes: Any) -> RunFilter:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)


ALL_RUNS = RunFilter()
