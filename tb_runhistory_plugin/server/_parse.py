"""Request parsing for the REST server: the Python API's own validators, applied to JSON and queries.

Everything a client sends is checked here the way `Run`, `Experiment` and the writer check their
arguments (`_validate`), so the server accepts exactly what the Python API accepts; anything
else is an InvalidArgumentError (400) naming the value, never a 500 from deeper down.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal, overload

import numpy as np

from .._charts import chart_document
from .._filter import RunFilter
from .._types import CHART_KINDS, RECORD_KINDS, TERMINAL_STATUSES, NewRun, RecordBatch, ScalarBatch, Status
from .._validate import (
    MAX_STEP,
    check_mapping,
    check_name,
    check_param_value,
    check_property_value,
    check_step,
    check_tag_value,
    check_text,
    check_unicode,
)
from ..errors import InvalidArgumentError
from ..store import wire

INT64_MAX = 2**63 - 1
MAX_NEW_RUNS = 10_000  # runs created by one create_runs request
_AUTO_STEP = -1  # a step of -1 on the wire means "the next step of the series"
_STATUSES = frozenset(str(s) for s in Status)
_ENDINGS = frozenset(str(s) for s in TERMINAL_STATUSES)


# -- JSON ----------------------------------------------------------------------
def _bounded_int(text: str) -> int:
    value = int(text)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise InvalidArgumentError(f"integer {text[:40]}{'...' if len(text) > 40 else ''} does not fit in 64 bits")
    return value


def parse_json(data: str | bytes, what: str) -> Any:
    """JSON with NaN/Infinity literals allowed (metric values may be any float), 64-bit integers, bounded nesting."""
    try:
        return json.loads(data, parse_int=_bounded_int)
    except RecursionError:
        raise InvalidArgumentError(f"{what} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, InvalidArgumentError):
            raise InvalidArgumentError(f"{what}: {exc}") from None
        raise InvalidArgumentError(f"{what} is not valid JSON: {exc}") from None


# -- body fields ---------------------------------------------------------------
@overload
def name(body: Mapping[str, Any], key: str, what: str, *, optional: Literal[False] = False) -> str: ...
@overload
def name(body: Mapping[str, Any], key: str, what: str, *, optional: bool) -> str | None: ...
def name(body: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> str | None:
    """A name or id (check_name); None when optional and absent or null."""
    value = body.get(key)
    if value is None and optional:
        return None
    return check_name(value, what)


def text(body: Mapping[str, Any], key: str, what: str) -> str:
    """Free text such as a description (check_text); null means empty."""
    return check_text(body.get(key), what)


def any_text(value: Any, what: str) -> str | None:
    """Text of any length (an error message or traceback: ending a run must not fail on its size)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, got {type(value).__name__}")
    return check_unicode(value, what)


@overload
def number(value: Any, what: str, *, optional: Literal[False] = False) -> float: ...
@overload
def number(value: Any, what: str, *, optional: bool) -> float | None: ...
def number(value: Any, what: str, *, optional: bool = False) -> float | None:
    """A finite JSON number (not a bool, NaN, an infinity or 1e400)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{what} must be a number, got {type(value).__name__} {str(value)[:80]!r}")
    if not math.isfinite(value):
        raise InvalidArgumentError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def names(body: Mapping[str, Any], key: str, what: str) -> list[str]:
    """A list of names or ids."""
    value = body.get(key)
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{key!r} must be a list of strings, got {type(value).__name__}")
    return [check_name(v, what) for v in value]


def tags(value: Any) -> dict[str, str]:
    """Tags as Run.set_tags takes them: names to strings (numbers and bools become text)."""
    return {check_name(k, "tag name"): check_tag_value(k, v) for k, v in check_mapping(value, "tags").items()}


def properties(value: Any) -> dict[str, Any]:
    """Properties as Run.add_properties takes them: names to JSON scalars."""
    return {check_name(k, "property name"): check_property_value(k, v) for k, v in check_mapping(value, "properties").items()}


def params(value: Any) -> dict[str, Any]:
    """Params as Run.log_params takes them: names to bool, int, float or str (JSON keeps 1 and 1.0 apart)."""
    return {check_name(k, "param name"): check_param_value(k, v) for k, v in check_mapping(value, "params").items()}


def logs_dir(value: Any) -> str | None:
    """A folder path, or None to untie."""
    if value is None:
        return None
    path = check_text(value, "logs_dir")
    if not path or "\x00" in path:
        raise InvalidArgumentError(f"logs_dir must be a non-empty path without NUL, got {path[:80]!r}")
    return path


def new_run(body: Any) -> NewRun:
    """One run to create, as create_run's body gives it."""
    if not isinstance(body, Mapping):
        raise InvalidArgumentError(f"a run to create must be a JSON object, got {type(body).__name__}")
    return NewRun(
        run_id=name(body, "run_id", "run id"),
        display_name=name(body, "display_name", "display name"),
        start_time=number(body.get("start_time"), "start_time"),
        parent_id=name(body, "parent_id", "parent id", optional=True),
        description=text(body, "description", "description"),
        tags=tags(body.get("tags")),
        properties=properties(body.get("properties")),
        logs_dir=logs_dir(body.get("logs_dir")),
        run_type=name(body, "run_type", "run type", optional=True),
    )


def new_runs(body: Mapping[str, Any]) -> list[NewRun]:
    """The runs of a create_runs body: {"runs": [run, ...]}, at most MAX_NEW_RUNS."""
    runs = body.get("runs")
    if not isinstance(runs, list):
        raise InvalidArgumentError(f"'runs' must be a list of runs to create, got {type(runs).__name__}")
    if len(runs) > MAX_NEW_RUNS:
        raise InvalidArgumentError(f"at most {MAX_NEW_RUNS} runs can be created at once, got {len(runs)}")
    return [new_run(item) for item in runs]


def ending_status(value: Any) -> str:
    """Completed, Failed or Canceled."""
    if value not in _ENDINGS:
        raise InvalidArgumentError(f"status must be one of {', '.join(sorted(_ENDINGS))}, got {str(value)[:80]!r}")
    return value


# -- query parameters ----------------------------------------------------------
@overload
def int_arg(args: Any, key: str, default: int, *, maximum: int = INT64_MAX) -> int: ...
@overload
def int_arg(args: Any, key: str, default: None, *, maximum: int = INT64_MAX) -> int | None: ...
def int_arg(args: Any, key: str, default: int | None, *, maximum: int = INT64_MAX) -> int | None:
    """A non-negative integer query parameter, at most `maximum`."""
    value = args.get(key)
    if value is None or value == "":
        return default
    try:
        number_ = int(value, 10)
    except ValueError:
        raise InvalidArgumentError(f"query parameter {key!r} must be an integer, got {value[:80]!r}") from None
    if not 0 <= number_ <= maximum:
        raise InvalidArgumentError(f"query parameter {key!r} must be between 0 and {maximum}, got {value[:80]}")
    return number_


@overload
def position_arg(args: Any, key: str, default: int) -> int: ...
@overload
def position_arg(args: Any, key: str, default: None) -> int | None: ...
def position_arg(args: Any, key: str, default: int | None) -> int | None:
    """A point index (start/stop of a read)."""
    return int_arg(args, key, default, maximum=MAX_STEP)


def run_filter(args: Any) -> RunFilter:
    """The RunFilter of list_runs/count_runs from query parameters (as `wire.filter_params` wrote them); RunFilter checks it."""
    tag_filter: dict[str, Any] = {}
    if "tags" in args:
        given = parse_json(args["tags"], "query parameter 'tags'")
        if not isinstance(given, dict):
            raise InvalidArgumentError("query parameter 'tags' must be a JSON object of strings or nulls")
        tag_filter = given
    for key in ("parent_id", "text", "filter", "sort", "order"):
        value = args.get(key)
        if value is not None:
            check_unicode(value, f"query parameter {key!r}")
    return RunFilter(
        parent_id=args.get("parent_id"),
        statuses=tuple(args.getlist("status")),
        tags=tag_filter,
        text=args.get("text"),
        query=args.get("filter"),
        sort=args.get("sort"),
        order=args.get("order", "asc"),
        **{flag: bool_arg(args, flag) for flag in wire.FILTER_FLAGS},
    )


def bool_arg(args: Any, key: str) -> bool:
    """A true/false query parameter (absent is false)."""
    value = args.get(key, "false")
    if value not in ("true", "false", "1", "0"):
        raise InvalidArgumentError(f"query parameter {key!r} must be true or false, got {value[:80]!r}")
    return value in ("true", "1")


# -- metric batches ------------------------------------------------------------
def scalar_batch(data: Any) -> ScalarBatch:
    """A scalar batch as the writer sends it: valid names, steps -1 or 0..2**62, finite wall times."""
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"a scalar batch must be an object, got {type(data).__name__}")
    check_name(data.get("run_id"), "run id")
    metric = check_name(data.get("name"), "metric name")
    text(data, "description", "description")
    batch = wire.scalar_batch_from_json(data)
    steps = np.asarray(batch.steps)
    bad = (steps != _AUTO_STEP) & ((steps < 0) | (steps > MAX_STEP))
    if bad.any():
        raise InvalidArgumentError(f"step for {metric!r} must be between 0 and 2**62 (or -1 for the next), got {int(steps[bad][0])}")
    walls = np.asarray(batch.wall_times)
    if len(walls) and not np.isfinite(walls).all():
        raise InvalidArgumentError(f"wall times of {metric!r} must be finite")
    return batch


def record_batch(data: Any) -> RecordBatch:
    """A table, image or histogram batch: valid names, steps -1 or 0..2**62, finite wall times.

    A record's meta is the store protocol's opaque JSON object (the logging API fills it; the
    stores keep it as it is), so only its text is checked: it must be storable Unicode.
    """
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"a record batch must be an object, got {type(data).__name__}")
    check_name(data.get("run_id"), "run id")
    metric = check_name(data.get("name"), "metric name")
    text(data, "description", "description")
    kind = data.get("kind")
    if kind not in RECORD_KINDS:
        raise InvalidArgumentError(f"record kind must be one of {', '.join(RECORD_KINDS)}, got {str(kind)[:80]!r}")
    records = data.get("records")
    if not isinstance(records, list):
        raise InvalidArgumentError(f"records of {metric!r} must be a list, got {type(records).__name__}")
    for record in records:
        _record_fields(metric, record)
        if kind in CHART_KINDS:
            # A chart is drawn from its meta: the server checks the document as log_confusion_matrix & co. do.
            chart_document(kind, metric, record.get("meta"))
    return wire.record_batch_from_json(data)


def _record_fields(metric: str, record: Any) -> None:
    if not isinstance(record, dict):
        raise InvalidArgumentError(f"a record of {metric!r} must be an object, got {type(record).__name__}")
    step = record.get("step")
    if step != _AUTO_STEP or isinstance(step, bool):
        check_step(step, metric)
    number(record.get("wall_time"), f"wall time of a record of {metric!r}")
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        raise InvalidArgumentError(f"meta of a record of {metric!r} must be an object")
    _check_strings(meta, f"meta of a record of {metric!r}")
    if record.get("data") is not None and not isinstance(record["data"], str):
        raise InvalidArgumentError(f"data of a record of {metric!r} must be base64 text or null")


def _check_strings(value: Any, what: str) -> None:
    """Every key and string inside a JSON value is valid Unicode (iterative: nesting is bounded by the parser only)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_unicode(item, what)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
