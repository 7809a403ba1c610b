"""Read-only mapping views of a run's current tags and properties (each read asks the store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class LiveMapping(Mapping[str, Any]):
    """A read-only mapping over `read()`, called afresh on every access, so later changes show."""

    __slots__ = ("_read", "_what")

    def __init__(self, read: Callable[[], Mapping[str, Any]], what: str) -> None:
        self._read = read
        self._what = what

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._read()))  # a snapshot: iterating never sees a half-changed mapping

    def __len__(self) -> int:
        return len(self._read())

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def __eq__(self, other: object) -> bool:
        return dict(self._read()) == other if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a changing view is not hashable

    def __repr__(self) -> str:
        return f"{self._what}({dict(self._read())!r})"
