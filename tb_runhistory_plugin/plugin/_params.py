"""Query-string parsing: every problem is an InvalidArgumentError naming the parameter and value."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._validate import MAX_STEP, check_name, check_text
from ..errors import InvalidArgumentError

_INT_BOUND = MAX_STEP  # no count, offset, index or step the stores hold is larger (2**62)

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

    def name(self, name: str, what: str, *, required: bool = False) -> str | None:
        """A name or id, checked as the Python API checks it (check_name)."""
        value = self.text(name, required=required)
        return None if value is None else check_name(value, f"parameter {name!r} ({what})")

    def free_text(self, name: str) -> str | None:
        """Free text such as a search string (check_text)."""
        value = self.text(name)
        return None if value is None else check_text(value, f"parameter {name!r}")

    def integer(self, name: str, *, default: int | None = None, minimum: int | None = None, maximum: int | None = None) -> int | None:
        """An integer parameter within [minimum, maximum], which default to -2**62 and 2**62."""
        value = self._one(name)
        if value is None or value == "":
            return default
        try:
            number = int(value, 10)
        except ValueError:
            raise InvalidArgumentError(f"parameter {name!r} must be an integer, got {value!r}") from None
        low = -_INT_BOUND if minimum is None else minimum
        high = _INT_BOUND if maximum is None else maximum
        if not low <= number <= high:
            bounds = f"between {low} and {high}" if maximum is not None or minimum is None else f"at least {low} (and at most 2**62)"
            raise InvalidArgumentError(f"parameter {name!r} must be {bounds}, got {value[:80]}")
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

    def names(self, name: str, what: str, *, required: bool = False) -> list[str]:
        """Comma-separated names or ids (see csv), each checked as the Python API checks it."""
        return [check_name(item, f"parameter {name!r} ({what})") for item in self.csv(name, required=required)]

    def csv(self, name: str, *, required: bool = False) -> list[str]:
        """Comma-separated values, from one or several occurrences; empty items dropped."""
        items = [item for raw in self._args.getlist(name) for item in raw.split(",") if item]
        if required and not items:
            raise InvalidArgumentError(f"missing required parameter {name!r}")
        return items

    def many(self, name: str) -> list[str]:
        """Every occurrence of a repeatable parameter, as given."""
        return list(self._args.getlist(name))
