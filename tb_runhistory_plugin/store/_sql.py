"""SQL shared by the SQLite and PostgreSQL stores: run filters and range checks.

The dialects differ only in the parameter mark (`?` or `%s`) and in how a case-insensitive
substring match is spelt, so both are arguments here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._types import NOT_RESPONDING_AFTER, TERMINAL_STATUSES, RunInfo, Status, effective_status
from .._validate import check_file_name, check_property_value, param_type
from ..errors import InvalidArgumentError, StoreError

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


def check_file_ref(run_id: str, name: str) -> None:
    """A run file's name and run id, by the same rules on every store (SQLite keeps files on disk): canonical names, safe ids."""
    check_file_name(name)
    if not _SAFE_ID.fullmatch(run_id):
        raise InvalidArgumentError(f"run id {run_id!r} is not a valid run id")


def property_json(key: str, value: Any) -> str:
    """A property value as the JSON text both stores keep; InvalidArgumentError naming the key when it cannot be kept."""
    return json.dumps(check_property_value(key, value))


def param_row(value: bool | int | float | str) -> tuple[str, float | None, str | None]:
    """(type, num, text) columns of a checked param value: ints keep their exact text beside the number."""
    kind = param_type(value)
    if kind == "str":
        return kind, None, str(value)
    return kind, float(value), str(int(value)) if kind == "int" else None


def param_value(kind: str, num: float | None, text: str | None) -> bool | int | float | str:
    """A param value from its (type, num, text) columns; StoreError when they do not fit the type."""
    try:
        if kind == "str" and text is not None:
            return text
        if kind == "int":
            return int(text) if text is not None else int(num)  # type: ignore[arg-type]
        if kind == "bool" and num is not None:
            return bool(num)
        if kind == "float" and num is not None:
            return float(num)
    except (TypeError, ValueError):
        pass
    raise StoreError(f"a param of type {kind!r} is damaged in the store (num {num!r}, text {text!r})")


def record_json(meta: Any, run_id: str, name: str) -> str:
    """A record's metadata as JSON; InvalidArgumentError naming the metric when it cannot be encoded."""
    try:
        return json.dumps(meta, allow_nan=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"a record of metric {name!r} of run {run_id!r} cannot be stored: {exc}") from None


def stored_json(text: str, what: str) -> Any:
    """Decode JSON the store wrote; damaged text is a StoreError naming `what` (never a bare ValueError)."""
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise StoreError(f"{what} is damaged in the store: {exc}") from None


# The columns run_infos() reads, over `runs r`, the child count included.
RUN_COLUMNS = (
    "r.id, r.experiment_id, r.parent_id, r.display_name, r.description, r.status, r.start_time, r.end_time, "
    "r.heartbeat_time, r.error, r.traceback, r.logs_dir, "
    "(SELECT COUNT(*) FROM runs c WHERE c.parent_id = r.id), r.error_code, r.run_type"
)


def run_infos(
    rows: Sequence[Sequence[Any]],
    tags: Mapping[str, Mapping[str, str]],
    properties: Mapping[str, Mapping[str, Any]],
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[RunInfo]:
    """RunInfos from RUN_COLUMNS rows (and a "matched" column after them, if any) and each run's tags, properties and params."""
    now = time.time()
    return [
        RunInfo(
            id=row[0],
            experiment_id=row[1],
            parent_id=row[2],
            display_name=row[3],
            description=row[4],
            status=effective_status(row[5], row[8], now),
            start_time=row[6],
            end_time=row[7],
            heartbeat_time=row[8],
            error=row[9],
            traceback=row[10],
            logs_dir=row[11],
            child_count=row[12],
            error_code=row[13],
            run_type=row[14],
            tags=tags[row[0]],
            properties=properties[row[0]],
            params=params[row[0]] if params is not None else {},
            matched=bool(row[15]) if len(row) > 15 else True,
        )
        for row in rows
    ]


def clamp(start: int, stop: int | None, count: int) -> tuple[int, int]:
    """[start, stop) of a series of `count` points, checked and cut to what exists."""
    if start < 0 or (stop is not None and stop < 0):
        raise InvalidArgumentError(f"start and stop must be non-negative, got {start!r} and {stop!r}")
    hi = count if stop is None else min(stop, count)
    return min(start, hi), hi


def status_condition(statuses: Sequence[str], args: list[Any], mark: str, *, now: float | None = None) -> str:
    """SQL for an effective-status filter; NotResponding is Running with a stale heartbeat."""
    cutoff = (time.time() if now is None else now) - NOT_RESPONDING_AFTER
    parts = []
    for status in statuses:
        if status == Status.NOT_RESPONDING:
            parts.append(f"(r.status = {mark} AND r.heartbeat_time < {mark})")
            args += [str(Status.RUNNING), cutoff]
        elif status == Status.RUNNING:
            parts.append(f"(r.status = {mark} AND (r.heartbeat_time IS NULL OR r.heartbeat_time >= {mark}))")
            args += [str(Status.RUNNING), cutoff]
        elif status in TERMINAL_STATUSES:
            parts.append(f"r.status = {mark}")
            args.append(str(status))
        else:
            raise InvalidArgumentError(f"unknown status {status!r}; expected one of {[str(s) for s in Status]}")
    return "(" + " OR ".join(parts) + ")"
