"""Query-string parsing: every problem is an InvalidArgumentError naming the parameter and value."""

from __future__ import annotations

import math
from typing import Sequence

from ..errors import InvalidArgumentError

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class Params:
    """Typed access to a request's query parameters (werkzeug MultiDict)."""

    def __init__(self, args) -> None:
        self._args = args

    def _one(self, name: str) -> str | None:
        values = self._args.getlist(name)
        if len(values) > 1:
            raise InvalidArgumentError(f"parameter {name!r} is given {len(values)} times; give it once")
        return values[0] if values else None

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        """A string parameter; required ones must be non-empty."""
        value = self._one(name)
        if value is None or value == "":
            if required:
                raise InvalidArgumentError(f"missing required parameter {name!r}")
            return default
        return value

    def integer(self, name: str, *, default: int | None = None, minimum: int | None = None, maximum: int | None = None) -> int | None:
        """An integer parameter within [minimum, maximum]."""
        value = self._one(name)
        if value is None or value == "":
            return default
        try:
            number = int(value, 10)
        except ValueError:
            raise InvalidArgumentError(f"parameter {name!r} must be an integer, got {value!r}") from None
        if minimum is not None and number < minimum or maximum is not None and number > maximum:
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise InvalidArgumentError(f"parameter {name!r} must be {bounds}, got {number}")
        return number

    def number(self, name: str) -> float | None:
        """A finite float parameter, or None when absent."""
        value = self._one(name)
        if value is None or value == "":
            return None
        try:
            number = float(value)
        except ValueError:
            raise InvalidArgumentError(f"parameter {name!r} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InvalidArgumentError(f"parameter {name!r} must be finite, got {value!r}")
        return number

    def flag(self, name: str) -> bool:
        """A boolean parameter: 1/true/yes/on or 0/false/no/off."""
        value = self._one(name)
        if value is None:
            return False
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidArgumentError(f"parameter {name!r} must be 0 or 1, got {value!r}")

    def choice(self, name: str, choices: Sequence[str], *, default: str) -> str:
        """One of `choices`."""
        value = self._one(name)
        if value is None or value == "":
            return default
        if value not in choices:
            raise InvalidArgumentError(f"parameter {name!r} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def csv(self, name: str, *, required: bool = False) -> list[str]:
        """Comma-separated values, from one or several occurrences; empty items dropped."""
        items = [item for raw in self._args.getlist(name) for item in raw.split(",") if item]
        if required and not items:
            raise InvalidArgumentError(f"missing required parameter {name!r}")
        return items

    def many(self, name: str) -> list[str]:
        """Every occurrence of a repeatable parameter, as given."""
        return list(self._args.getlist(name))
