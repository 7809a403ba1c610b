"""Input checks shared by every public entry point; each raises InvalidArgumentError naming the value."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InvalidArgumentError

MAX_NAME_LENGTH = 255  # characters, for run, metric, tag and property names
MAX_TEXT_LENGTH = 65_536  # characters, for descriptions, tag values and table cells
MAX_STEP = 2**62
_EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][\w\-.]{0,254}$", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}", re.ASCII)  # also a folder name of the SQLite store's files


MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1  # JSON integers (properties, table cells) are kept to 64 bits


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 256:
        # repr() of a huge int is slow, and refused beyond 4300 digits (sys.get_int_max_str_digits).
        return f"{'-' if value < 0 else ''}an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still named by its type
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _check_int64(value: int, what: str) -> int:
    if not MIN_INT64 <= value <= MAX_INT64:
        raise InvalidArgumentError(f"{what} must be a 64-bit integer (between -2**63 and 2**63-1), got {_short(value)}")
    return value


def check_name(value: Any, what: str = "name") -> str:
    """A non-empty printable name of at most 255 characters; '/' namespaces are allowed."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, got {type(value).__name__} {_short(value)}")
    if not value or not value.strip():
        raise InvalidArgumentError(f"{what} must not be empty, got {value!r}")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(f"{what} is {len(value)} characters, over the limit of {MAX_NAME_LENGTH}: {_short(value)}")
    if _CONTROL.search(value):
        raise InvalidArgumentError(f"{what} must not contain control characters: {value!r}")
    return check_unicode(value, what)


def check_unicode(value: str, what: str) -> str:
    """Text every store keeps: valid UTF-8 (no lone surrogates) and no NUL character (PostgreSQL refuses it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(f"{what} is not valid Unicode ({exc.reason} at index {exc.start}): {_short(value)}") from None
    if "\x00" in value:
        raise InvalidArgumentError(f"{what} must not contain a NUL character (at index {value.index(chr(0))}): {_short(value)}")
    return value


def storable_text(value: str, limit: int) -> str:
    """Any text made storable everywhere, for messages that must never be refused (a run's error):
    NUL and lone surrogates written as escapes, the middle of an over-long text cut with a marker."""
    text = value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > limit:
        head, tail = limit // 4, limit - limit // 4 - 80
        text = f"{text[:head]}\n[... {len(text) - head - tail:,} characters cut ...]\n{text[-tail:]}"
    return text


def check_run_id(value: Any) -> str:
    """A caller-chosen run id: letters, digits, '_', '.', '-', starting with a letter or digit, at most 128."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"run id must be a string, got {type(value).__name__} {_short(value)}")
    if not _RUN_ID.fullmatch(value):
        raise InvalidArgumentError(f"run id {_short(value)} must be 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit")
    return value


def check_experiment_name(value: Any) -> str:
    """Experiment names: letters, digits, '_', '-', '.', starting with a letter or digit."""
    check_name(value, "experiment name")
    if not _EXPERIMENT_NAME.match(value):
        raise InvalidArgumentError(f"experiment name {value!r} must start with a letter or digit and contain only letters, digits, '_', '-' or '.'")
    return value


def check_text(value: Any, what: str) -> str:
    """Free text such as a description: a string, None meaning empty, bounded in size."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, got {type(value).__name__} {_short(value)}")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidArgumentError(f"{what} is {len(value)} characters, over the limit of {MAX_TEXT_LENGTH}")
    return check_unicode(value, what)


def check_step(step: Any, name: str) -> int:
    """A step is a non-negative integer (numpy integers welcome, bools and floats not)."""
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise InvalidArgumentError(f"step for {name!r} must be a non-negative integer, got {type(step).__name__} {_short(step)}")
    step = int(step)
    if step < 0 or step > MAX_STEP:
        raise InvalidArgumentError(f"step for {name!r} must be between 0 and 2**62, got {_short(step)}")
    return step


def scalar_value(name: str, value: Any) -> float | int | bool:
    """Coerce a loggable number (int, float, bool, numpy scalar) or raise pointing at the right call."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return check_int_fits(name, int(value))
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return scalar_value(name, value.item())
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        raise InvalidArgumentError(
            f"log({name!r}, ...) takes a number, got the string {_short(value)}; use log_row/log_table for text cells or tag() for labels"
        )
    if isinstance(value, Mapping):
        raise InvalidArgumentError(f"log({name!r}, ...) takes one number, got a dict; use log_row({name!r}, **cells) or log_table for named values")
    if isinstance(value, (list, tuple, np.ndarray)):
        raise InvalidArgumentError(f"log({name!r}, ...) takes one number, got a {type(value).__name__}; use log_list for a list of values")
    raise InvalidArgumentError(f"log({name!r}, ...) takes a number, got {type(value).__name__} {_short(value)}")


def check_int_fits(name: str, value: int) -> int:
    """Ints are stored as float64: one beyond its range cannot be kept."""
    try:
        float(value)
    except OverflowError:
        raise InvalidArgumentError(f"value for {name!r} is too large to store as a number: {_short(value)}") from None
    return value


def cell_value(table: str, column: str, value: Any) -> Any:
    """A table cell: a number, string, bool or None (numpy scalars are unwrapped)."""
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            if len(value) > MAX_TEXT_LENGTH:
                raise InvalidArgumentError(f"cell of column {column!r} in table {table!r} is {len(value)} characters, over {MAX_TEXT_LENGTH}")
            check_unicode(value, f"cell of column {column!r} in table {table!r}")
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_int64(value, f"cell of column {column!r} in table {table!r}")
    if isinstance(value, (bool, float)):
        return value
    raise InvalidArgumentError(
        f"cells of table {table!r} must be numbers, strings, bools or None; column {column!r} got {type(value).__name__} {_short(value)}"
    )


def check_tag_value(key: str, value: Any) -> str:
    """Tag values are strings; numbers and bools are turned into their text, None into ''."""
    if value is None:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return repr(_check_int64(value, f"value of tag {key!r}"))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH:
            raise InvalidArgumentError(f"value of tag {key!r} is {len(value)} characters, over {MAX_TEXT_LENGTH}")
        return check_unicode(value, f"value of tag {key!r}")
    raise InvalidArgumentError(f"value of tag {key!r} must be a string or number, got {type(value).__name__} {_short(value)}")


def check_property_value(key: str, value: Any) -> Any:
    """Property values are JSON scalars: str, int, float, bool or None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_int64(value, f"value of property {key!r}")
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            if len(value) > MAX_TEXT_LENGTH:
                raise InvalidArgumentError(f"value of property {key!r} is {len(value)} characters, over {MAX_TEXT_LENGTH}")
            check_unicode(value, f"value of property {key!r}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(f"value of property {key!r} must be finite, got {value!r}")
        return value
    raise InvalidArgumentError(f"value of property {key!r} must be a string, number, bool or None, got {type(value).__name__} {_short(value)}")


PARAM_TYPES = ("bool", "int", "float", "str")


def check_param_value(key: str, value: Any) -> bool | int | float | str:
    """Parameter values are typed scalars: bool, int (64-bit), finite float or str (no NUL, valid Unicode)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _check_int64(value, f"value of param {key!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(f"value of param {key!r} must be finite, got {value!r}")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH:
            raise InvalidArgumentError(f"value of param {key!r} is {len(value)} characters, over {MAX_TEXT_LENGTH}")
        return check_unicode(value, f"value of param {key!r}")
    raise InvalidArgumentError(f"value of param {key!r} must be a bool, int, float or str, got {type(value).__name__} {_short(value)}")


def param_type(value: bool | int | float | str) -> str:
    """The stored type name of a checked param value."""
    return "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float" if isinstance(value, float) else "str"


def check_mapping(value: Any, what: str) -> Mapping[str, Any]:
    """A dict-like argument (None means empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"{what} must be a dict, got {type(value).__name__} {_short(value)}")
    return value


def check_file_name(value: Any) -> str:
    """A run file name: relative, '/'-separated, no '..', '.', empty or absolute parts."""
    check_name(value, "file name")
    parts = value.split("/")
    if "\\" in value or any(part in ("", ".", "..") for part in parts) or value.startswith("/") or ":" in parts[0]:
        raise InvalidArgumentError(f"file name {value!r} must be a relative path without '..', '.', empty parts or backslashes")
    return value
